//! Storage adapters: D1 (the exact, durable state) and KV (short-lived challenges).
//!
//! Every public function is one round trip: a single statement or a single batch, named
//! by what it does. SQL is built with [`sql::sql!`], which numbers the placeholders
//! itself. Each round trip is timed so the Worker can report them in `Server-Timing`.
//! Failures are [`StoreError`]s; the services decide what they mean for the caller.

pub mod error;
pub mod sql;

#[cfg(target_arch = "wasm32")]
mod d1;
#[cfg(target_arch = "wasm32")]
mod kv;
#[cfg(target_arch = "wasm32")]
mod timings;

#[cfg(target_arch = "wasm32")]
pub mod account;
#[cfg(target_arch = "wasm32")]
pub mod assets;
#[cfg(target_arch = "wasm32")]
pub mod challenges;
#[cfg(target_arch = "wasm32")]
pub mod email_change;
#[cfg(target_arch = "wasm32")]
pub mod email_codes;
#[cfg(target_arch = "wasm32")]
pub mod events;
#[cfg(target_arch = "wasm32")]
pub mod factors;
#[cfg(target_arch = "wasm32")]
pub mod hard_cap;
#[cfg(target_arch = "wasm32")]
pub mod housekeeping;
#[cfg(target_arch = "wasm32")]
pub mod mail;
#[cfg(target_arch = "wasm32")]
pub mod mfa;
#[cfg(target_arch = "wasm32")]
pub mod password_reset;
#[cfg(target_arch = "wasm32")]
pub mod sessions;
#[cfg(target_arch = "wasm32")]
pub mod signer;
#[cfg(target_arch = "wasm32")]
pub mod step_up;
#[cfg(target_arch = "wasm32")]
pub mod throttle;
#[cfg(target_arch = "wasm32")]
pub mod totp_enrolment;
#[cfg(target_arch = "wasm32")]
pub mod users;

#[cfg(target_arch = "wasm32")]
pub use d1::{changes, rows, verdict, Db};
pub use error::StoreError;
#[cfg(target_arch = "wasm32")]
pub use kv::Kv;
#[cfg(target_arch = "wasm32")]
pub use timings::Timings;
