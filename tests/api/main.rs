//! The API's story, told over HTTP to the real Worker under `wrangler dev`
//! (real workerd, real local D1 and KV). Each test spawns its own Worker with fresh state.

#[path = "../common/mod.rs"]
mod common;
mod support;

mod aal2_lifetime;
mod account_deletion;
mod attacks;
mod bad_input;
mod ecosystem;
mod email;
mod housekeeping;
mod lockout;
mod logging;
mod openapi;
mod password_reset;
mod password_rules;
mod refresh_and_logout;
mod register_and_login;
mod rotation;
mod sessions;
mod step_up;
mod tokens;
mod two_factor;
