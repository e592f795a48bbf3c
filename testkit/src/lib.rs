//! Test support shared by the integration tests (`tests/`) and the load generator (`loadgen/`):
//! the one place that starts and stops `wrangler dev` (or any other local server).
//!
//! - [`free_port`], [`free_ports`]: free loopback ports.
//! - [`WorkerProcess`]: a command in its own process group with stdout and stderr appended to a
//!   log file. [`WorkerProcess::wait_until_ready`] polls an HTTP GET of a path until it answers
//!   200 (or, if asked, anything) within a timeout; the error shows the tail of the log.
//!   Dropping it kills the whole group (SIGTERM, a grace period, then SIGKILL) and waits for it.
//! - [`WranglerDev`]: the `wrangler dev` command line (loopback ports, `--persist-to`, `--var`
//!   overrides; offline, non-interactive and terse) and [`WranglerDev::start`], which spawns it
//!   and waits until it is ready, again on new ports when another process took one meanwhile.
//! - [`StateTemplate`]: a schema file applied once into a template `--persist-to` directory
//!   under a file lock (so parallel processes don't race), rebuilt when its inputs change;
//!   every server then gets a plain copy of it.
//! - [`copy_dir`], [`log_tail`], [`FileLock`], [`run_checked`]: the small pieces under those.
//!
//! Unix only (process groups, flock).

mod files;
mod net;
mod process;
mod template;
mod wrangler;

pub use files::{copy_dir, log_tail, FileLock, LOG_TAIL_BYTES};
pub use net::{free_port, free_ports};
pub use process::{
    clear_make_env, run_checked, run_output, wait_for, Ready, StartError, StartFailure,
    WorkerProcess, KILL_GRACE,
};
pub use template::{StateTemplate, TemplateSpec, FINGERPRINT_FILE};
pub use wrangler::{quiet_wrangler_env, WranglerDev};
