//! `wrangler dev` on loopback ports.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::net::free_ports;
use crate::process::{clear_make_env, Ready, StartError, StartFailure, WorkerProcess};

/// What wrangler (workerd) logs when a port was taken between our check and its bind.
const PORT_CLASH: &str = "Address already in use";
/// How often [`WranglerDev::start`] tries new ports after a clash.
const PORT_RETRIES: usize = 3;

/// Keeps wrangler offline (no metrics, no error reports, no registry check for a newer
/// version), non-interactive and terse, with its own debug logs under `log_dir` when given,
/// and out of any running make's jobserver.
pub fn quiet_wrangler_env(cmd: &mut Command, log_dir: Option<&Path>) {
    cmd.env("WRANGLER_SEND_METRICS", "false")
        .env("WRANGLER_SEND_ERROR_REPORTS", "false")
        // The banner is where wrangler checks the registry for a newer version.
        .env("WRANGLER_HIDE_BANNER", "true")
        .env("CI", "true")
        .env("NO_COLOR", "1")
        .env("FORCE_COLOR", "0");
    if let Some(dir) = log_dir {
        cmd.env("WRANGLER_LOG_PATH", dir);
    }
    // wrangler's [build] command may run `make build`: it must be a fresh top-level make.
    clear_make_env(cmd);
}

/// `wrangler dev` serving on 127.0.0.1 (inspector too) with local D1/KV in `state_dir`
/// (`--persist-to`) and its output appended to `log_path`.
#[derive(Debug, Clone)]
pub struct WranglerDev {
    wrangler: PathBuf,
    state_dir: PathBuf,
    log_path: PathBuf,
    current_dir: Option<PathBuf>,
    config: Option<PathBuf>,
    log_level: String,
    vars: Vec<(String, String)>,
    wrangler_log_dir: Option<PathBuf>,
    test_scheduled: bool,
}

impl WranglerDev {
    /// The wrangler binary (e.g. `node_modules/.bin/wrangler`), the state directory and the
    /// log file. Log level `log` (includes the Worker's console output) unless changed.
    pub fn new(
        wrangler: impl Into<PathBuf>,
        state_dir: impl Into<PathBuf>,
        log_path: impl Into<PathBuf>,
    ) -> Self {
        WranglerDev {
            wrangler: wrangler.into(),
            state_dir: state_dir.into(),
            log_path: log_path.into(),
            current_dir: None,
            config: None,
            log_level: "log".to_owned(),
            vars: Vec::new(),
            wrangler_log_dir: None,
            test_scheduled: false,
        }
    }

    /// Run in `dir` (where wrangler finds wrangler.toml and .dev.vars).
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.current_dir = Some(dir.into());
        self
    }

    /// `--config FILE` instead of `./wrangler.toml`.
    pub fn config(mut self, file: impl Into<PathBuf>) -> Self {
        self.config = Some(file.into());
        self
    }

    /// `--log-level` (`debug`, `info`, `log`, `warn`, `error`, `none`).
    pub fn log_level(mut self, level: &str) -> Self {
        self.log_level = level.to_owned();
        self
    }

    /// A `[vars]`/secret override: `--var NAME:VALUE`.
    pub fn var(mut self, name: &str, value: &str) -> Self {
        self.vars.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Several [`var`](WranglerDev::var)s.
    pub fn vars<K: AsRef<str>, V: AsRef<str>>(
        mut self,
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        for (name, value) in vars {
            self = self.var(name.as_ref(), value.as_ref());
        }
        self
    }

    /// wrangler's own debug logs go to `dir` (`WRANGLER_LOG_PATH`) instead of the inherited one.
    pub fn wrangler_log_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.wrangler_log_dir = Some(dir.into());
        self
    }

    /// `--test-scheduled`: `GET /__scheduled?cron=...` runs the Worker's scheduled handler.
    pub fn test_scheduled(mut self, on: bool) -> Self {
        self.test_scheduled = on;
        self
    }

    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// The command line on the given ports, with the quiet environment
    /// ([`quiet_wrangler_env`]).
    pub fn command(&self, port: u16, inspector_port: u16) -> Command {
        let mut cmd = Command::new(&self.wrangler);
        if let Some(dir) = &self.current_dir {
            cmd.current_dir(dir);
        }
        cmd.arg("dev");
        if let Some(config) = &self.config {
            cmd.arg("--config").arg(config);
        }
        cmd.args(["--ip", "127.0.0.1"])
            .args(["--port", &port.to_string()])
            .args(["--inspector-ip", "127.0.0.1"])
            .args(["--inspector-port", &inspector_port.to_string()])
            .arg("--persist-to")
            .arg(&self.state_dir)
            .args(["--log-level", &self.log_level])
            .arg("--show-interactive-dev-session=false");
        if self.test_scheduled {
            cmd.arg("--test-scheduled");
        }
        for (name, value) in &self.vars {
            cmd.arg("--var").arg(format!("{name}:{value}"));
        }
        quiet_wrangler_env(&mut cmd, self.wrangler_log_dir.as_deref());
        cmd
    }

    /// Starts it on free ports and waits until it is `ready`. Free ports are found by binding
    /// and releasing them, so another process can take one in between: when wrangler exits
    /// logging "Address already in use", it is started again on new ports (up to 3 times).
    pub fn start(&self, ready: &Ready) -> Result<WorkerProcess, StartError> {
        let mut retries = 0;
        loop {
            let clashes_before = self.port_clashes();
            let [port, inspector_port] = free_ports().map_err(|error| {
                StartError::from(StartFailure::Spawn {
                    what: "wrangler dev".into(),
                    error,
                })
            })?;
            let mut cmd = self.command(port, inspector_port);
            let mut process = WorkerProcess::spawn("wrangler dev", &mut cmd, port, &self.log_path)?;
            match process.wait_until_ready(ready) {
                Ok(_) => return Ok(process),
                Err(e)
                    if e.exited()
                        && retries < PORT_RETRIES
                        && self.port_clashes() > clashes_before =>
                {
                    retries += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn port_clashes(&self) -> usize {
        fs::read_to_string(&self.log_path)
            .unwrap_or_default()
            .matches(PORT_CLASH)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::tests::scratch;
    use std::time::Duration;

    fn args(cmd: &Command) -> Vec<String> {
        cmd.get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn command_line() {
        let dev = WranglerDev::new("/bin/wrangler", "/s/state", "/s/log")
            .current_dir("/repo")
            .log_level("warn")
            .vars([("A", "1"), ("B", "x:y")])
            .test_scheduled(true);
        let cmd = dev.command(1234, 5678);
        assert_eq!(cmd.get_program(), "/bin/wrangler");
        assert_eq!(cmd.get_current_dir(), Some(Path::new("/repo")));
        assert_eq!(
            args(&cmd).join(" "),
            "dev --ip 127.0.0.1 --port 1234 --inspector-ip 127.0.0.1 --inspector-port 5678 \
             --persist-to /s/state --log-level warn --show-interactive-dev-session=false \
             --test-scheduled --var A:1 --var B:x:y"
        );
        let envs: Vec<_> = cmd.get_envs().collect();
        assert!(envs.contains(&("WRANGLER_HIDE_BANNER".as_ref(), Some("true".as_ref()))));
        assert!(envs.contains(&("MAKEFLAGS".as_ref(), None)));
        assert!(!envs.iter().any(|(k, _)| *k == "WRANGLER_LOG_PATH"));

        let cmd = WranglerDev::new("w", "st", "l")
            .config("/snap/wrangler.toml")
            .wrangler_log_dir("/logs")
            .command(1, 2);
        assert_eq!(
            args(&cmd)[..3].join(" "),
            "dev --config /snap/wrangler.toml"
        );
        assert!(args(&cmd).contains(&"log".to_owned()));
        assert!(!args(&cmd).contains(&"--test-scheduled".to_owned()));
        assert!(cmd
            .get_envs()
            .any(|e| e == ("WRANGLER_LOG_PATH".as_ref(), Some("/logs".as_ref()))));
    }

    #[test]
    fn start_retries_on_a_port_clash() {
        // A stand-in for wrangler that always finds its port taken: tried 1 + 3 times.
        let dir = scratch("clash");
        let fake = dir.join("wrangler");
        fs::write(
            &fake,
            "#!/bin/sh\necho \"$*\" >> \"$(dirname \"$0\")/calls\"\n\
             echo 'Error: listen EADDRINUSE: Address already in use'\nexit 1\n",
        )
        .unwrap();
        set_executable(&fake);
        let dev = WranglerDev::new(&fake, dir.join("state"), dir.join("wrangler.log"));
        let err = dev
            .start(&Ready::get("/health", Duration::from_secs(30)))
            .err()
            .unwrap();
        assert!(err.exited(), "{err}");
        let calls = fs::read_to_string(dir.join("calls")).unwrap();
        assert_eq!(calls.lines().count(), 4, "{calls}");
        let ports: std::collections::HashSet<_> = calls
            .lines()
            .map(|l| l.split_whitespace().nth(4).unwrap().to_owned())
            .collect();
        assert!(ports.len() > 1, "always the same port: {calls}");
    }

    fn set_executable(path: &Path) {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
    }
}
