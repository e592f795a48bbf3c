//! The pure domain core: everything here compiles and is tested natively.

pub mod blocklist;
pub mod client_address;
pub mod config;
pub mod cors;
pub mod device;
pub mod email;
pub mod events;
pub mod factors;
pub mod housekeeping;
pub mod keys;
pub mod opaque;
pub mod password;
pub mod phc;
pub mod random;
pub mod recovery;
pub mod request_log;
pub mod secret_box;
pub mod session;
pub mod text;
pub mod throttle;
pub mod token_cache;
pub mod tokens;
pub mod totp;
pub mod turns;
pub mod user_agent;
pub mod username;
