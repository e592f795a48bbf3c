//! A server process in its own process group: spawn, wait until it answers, kill the group.

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::files::{log_tail, str_tail};

/// After SIGTERM, how long a process group gets before SIGKILL.
pub const KILL_GRACE: Duration = Duration::from_secs(3);
/// Timeout of one readiness probe.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// When a server counts as started: `GET path` answers 200 (or, with
/// [`any_status`](Ready::any_status), any HTTP status) within `timeout`, probed every `poll`.
#[derive(Debug, Clone)]
pub struct Ready {
    pub path: String,
    pub timeout: Duration,
    pub poll: Duration,
    pub any_status: bool,
}

impl Ready {
    /// `GET path` answers 200 within `timeout`, probed every 100 ms.
    pub fn get(path: &str, timeout: Duration) -> Self {
        Ready {
            path: path.to_owned(),
            timeout,
            poll: Duration::from_millis(100),
            any_status: false,
        }
    }

    /// Probe every `poll` instead.
    pub fn poll(mut self, poll: Duration) -> Self {
        self.poll = poll;
        self
    }

    /// Any HTTP response will do (the server is up, whatever it thinks of the request).
    pub fn any_status(mut self) -> Self {
        self.any_status = true;
        self
    }

    fn wanted(&self) -> &'static str {
        if self.any_status {
            "any response"
        } else {
            "200"
        }
    }
}

/// Why a server did not start (boxed: see [`failure`](StartError::failure)).
#[derive(Debug)]
pub struct StartError(Box<StartFailure>);

impl StartError {
    pub fn failure(&self) -> &StartFailure {
        &self.0
    }

    /// Did the process end before it was ready?
    pub fn exited(&self) -> bool {
        matches!(*self.0, StartFailure::Exited { .. })
    }
}

impl From<StartFailure> for StartError {
    fn from(failure: StartFailure) -> Self {
        StartError(Box::new(failure))
    }
}

/// The ways a server can fail to start.
#[derive(Debug)]
pub enum StartFailure {
    /// Opening the log, finding ports or spawning failed.
    Spawn { what: String, error: io::Error },
    /// The process ended before it was ready.
    Exited {
        what: String,
        status: ExitStatus,
        url: String,
        wanted: &'static str,
        log_path: PathBuf,
        log_tail: String,
    },
    /// Still not ready when the timeout ran out; `last` is the last probe's outcome.
    TimedOut {
        what: String,
        url: String,
        wanted: &'static str,
        timeout: Duration,
        last: String,
        log_path: PathBuf,
        log_tail: String,
    },
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.0 {
            StartFailure::Spawn { what, error } => write!(f, "spawning {what} failed: {error}"),
            StartFailure::Exited {
                what,
                status,
                url,
                wanted,
                log_path,
                log_tail,
            } => write!(
                f,
                "{what} exited early ({status}) before answering GET {url} with {wanted}\n\
                 --- {what} log tail ({}) ---\n{log_tail}",
                log_path.display()
            ),
            StartFailure::TimedOut {
                what,
                url,
                wanted,
                timeout,
                last,
                log_path,
                log_tail,
            } => write!(
                f,
                "{what} did not answer GET {url} with {wanted} within {timeout:?} (last: {last})\n\
                 --- {what} log tail ({}) ---\n{log_tail}",
                log_path.display()
            ),
        }
    }
}

impl std::error::Error for StartError {}

/// A running server: its own process group (so its children, e.g. wrangler's workerd and
/// esbuild, go with it), stdin from /dev/null, stdout and stderr appended to a log file.
/// Dropping it stops the whole group (see [`stop`](WorkerProcess::stop)).
pub struct WorkerProcess {
    what: String,
    child: Child,
    port: u16,
    log_path: PathBuf,
    spawned_at: Instant,
    ready_after: Option<Duration>,
    stopped: bool,
}

impl WorkerProcess {
    /// Spawns `cmd` as the leader of a new process group. `what` names it in messages; `port`
    /// is the 127.0.0.1 port it is going to serve on; its output is appended to `log_path`
    /// (created, with its directory, if missing).
    pub fn spawn(
        what: &str,
        cmd: &mut Command,
        port: u16,
        log_path: &Path,
    ) -> Result<Self, StartError> {
        let spawn_error = |error| {
            StartError::from(StartFailure::Spawn {
                what: what.to_owned(),
                error,
            })
        };
        if let Some(parent) = log_path.parent() {
            fs::create_dir_all(parent).map_err(spawn_error)?;
        }
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log_path)
            .map_err(spawn_error)?;
        let log_err = log.try_clone().map_err(spawn_error)?;
        cmd.stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err))
            .process_group(0);
        let spawned_at = Instant::now();
        let child = cmd.spawn().map_err(spawn_error)?;
        Ok(WorkerProcess {
            what: what.to_owned(),
            child,
            port,
            log_path: log_path.to_owned(),
            spawned_at,
            ready_after: None,
            stopped: false,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The process id of the group leader, which is also the process group id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// From spawning to the first good answer, once [`wait_until_ready`] succeeded.
    ///
    /// [`wait_until_ready`]: WorkerProcess::wait_until_ready
    pub fn ready_after(&self) -> Option<Duration> {
        self.ready_after
    }

    /// Has the group leader exited (it is reaped then; other group members may still run)?
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.child.try_wait()
    }

    /// Probes `GET base_url + ready.path` until it answers as `ready` asks, and returns the
    /// time since spawning. Fails when the process exits first or `ready.timeout` (counted
    /// from spawning) runs out; the error holds the tail of the log. The process is left
    /// running either way (dropping it stops it).
    pub fn wait_until_ready(&mut self, ready: &Ready) -> Result<Duration, StartError> {
        let url = format!("{}{}", self.base_url(), ready.path);
        let agent = probe_agent();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(StartFailure::Exited {
                    what: self.what.clone(),
                    status,
                    url,
                    wanted: ready.wanted(),
                    log_path: self.log_path.clone(),
                    log_tail: log_tail(&self.log_path),
                }
                .into());
            }
            let last = match probe(&agent, &url, ready.any_status) {
                Ok(()) => {
                    let elapsed = self.spawned_at.elapsed();
                    self.ready_after = Some(elapsed);
                    return Ok(elapsed);
                }
                Err(last) => last,
            };
            if self.spawned_at.elapsed() > ready.timeout {
                return Err(StartFailure::TimedOut {
                    what: self.what.clone(),
                    url,
                    wanted: ready.wanted(),
                    timeout: ready.timeout,
                    last,
                    log_path: self.log_path.clone(),
                    log_tail: log_tail(&self.log_path),
                }
                .into());
            }
            sleep(ready.poll);
        }
    }

    /// SIGTERM to the whole process group, SIGKILL after [`KILL_GRACE`] to whatever still runs;
    /// returns once the leader is reaped and no other member runs (or a further 2 s passed).
    /// Only the first call does anything.
    pub fn stop(&mut self) {
        if !std::mem::replace(&mut self.stopped, true) {
            stop_group(&mut self.child, KILL_GRACE);
        }
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Probes `GET base_url + ready.path` (a server someone else started) until it answers as
/// `ready` asks or `ready.timeout` runs out; returns the time it took.
pub fn wait_for(base_url: &str, ready: &Ready) -> Result<Duration, String> {
    let url = format!("{base_url}{}", ready.path);
    let agent = probe_agent();
    let started = Instant::now();
    loop {
        let last = match probe(&agent, &url, ready.any_status) {
            Ok(()) => return Ok(started.elapsed()),
            Err(last) => last,
        };
        if started.elapsed() > ready.timeout {
            return Err(format!(
                "GET {url}: no {} within {:?} (last: {last})",
                ready.wanted(),
                ready.timeout
            ));
        }
        sleep(ready.poll);
    }
}

fn probe_agent() -> ureq::Agent {
    ureq::AgentBuilder::new().timeout(PROBE_TIMEOUT).build()
}

/// One GET: `Ok` when it answers as wanted, else what happened instead.
fn probe(agent: &ureq::Agent, url: &str, any_status: bool) -> Result<(), String> {
    match agent.get(url).call() {
        Ok(r) if r.status() == 200 => Ok(()),
        Ok(_) | Err(ureq::Error::Status(_, _)) if any_status => Ok(()),
        Ok(r) | Err(ureq::Error::Status(_, r)) => Err(format!("status {}", r.status())),
        Err(e) => Err(e.to_string()),
    }
}

/// SIGTERM to the child's process group, SIGKILL after `grace`; waits for it.
fn stop_group(child: &mut Child, grace: Duration) {
    let pgid = child.id() as libc::pid_t;
    signal_group(pgid, libc::SIGTERM);
    let deadline = Instant::now() + grace;
    let mut reaped = false;
    while Instant::now() < deadline {
        if !reaped {
            reaped = matches!(child.try_wait(), Ok(Some(_)));
        }
        // The group is gone once the leader is reaped and no member (workerd) remains.
        if reaped && !group_alive(pgid) {
            break;
        }
        sleep(Duration::from_millis(25));
    }
    if !reaped || group_alive(pgid) {
        signal_group(pgid, libc::SIGKILL);
        let _ = child.wait();
        let deadline = Instant::now() + Duration::from_secs(2);
        while group_alive(pgid) && Instant::now() < deadline {
            sleep(Duration::from_millis(25));
        }
    }
}

fn signal_group(pgid: libc::pid_t, signal: libc::c_int) {
    // SAFETY: plain syscall; a negative pid addresses the process group we created.
    unsafe {
        libc::kill(-pgid, signal);
    }
}

/// Does any process of the group still run? Zombies don't count: orphaned workerd/esbuild
/// zombies are reaped by init, which can take a second or two.
pub(crate) fn group_alive(pgid: libc::pid_t) -> bool {
    // SAFETY: signal 0 only checks for existence.
    if unsafe { libc::kill(-pgid, 0) } != 0 {
        return false;
    }
    let Ok(procs) = fs::read_dir("/proc") else {
        return true; // no procfs: trust kill(2)
    };
    procs.flatten().any(|entry| {
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
            return false;
        };
        // "pid (comm) state ppid pgrp ...": comm may contain spaces, so split after the last ')'.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            return false;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next();
        let pgrp = fields.nth(1).and_then(|f| f.parse::<libc::pid_t>().ok());
        pgrp == Some(pgid) && state != Some("Z") && state != Some("X")
    })
}

/// Takes the variables of a running make out of `cmd`'s environment, so that a `make` it
/// starts (e.g. wrangler's `[build]` command) is a fresh top-level make, not our jobserver's.
pub fn clear_make_env(cmd: &mut Command) -> &mut Command {
    cmd.env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .env_remove("MAKELEVEL")
        .env_remove("MAKEOVERRIDES")
        .env_remove("CARGO_MAKEFLAGS")
}

/// Runs `cmd` to completion (stdin from /dev/null, outside any running make); on failure the
/// error names `what` and holds the tail of its output.
pub fn run_checked(cmd: &mut Command, what: &str) -> Result<(), String> {
    run_output(cmd, what).map(drop)
}

/// Like [`run_checked`], handing back the command's standard output when it succeeded.
pub fn run_output(cmd: &mut Command, what: &str) -> Result<String, String> {
    clear_make_env(cmd.stdin(Stdio::null()));
    let out = cmd
        .output()
        .map_err(|e| format!("could not run {what}: {e}"))?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Err(format!(
        "{what} failed ({}):\n{}",
        out.status,
        str_tail(&text)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::tests::scratch;
    use crate::net::free_port;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    fn sh(script: &str) -> Command {
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(script);
        cmd
    }

    /// Waits until `path` holds a pid (written by a script), and returns it.
    fn read_pid(path: &Path) -> libc::pid_t {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(pid) = fs::read_to_string(path)
                .ok()
                .and_then(|s| s.trim().parse().ok())
            {
                return pid;
            }
            assert!(Instant::now() < deadline, "no pid in {path:?}");
            sleep(Duration::from_millis(10));
        }
    }

    /// Is `pid` a running (not zombie) process?
    fn running(pid: libc::pid_t) -> bool {
        fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| {
                let rest = s.rsplit_once(')')?.1.to_owned();
                Some(!matches!(rest.split_whitespace().next(), Some("Z" | "X")))
            })
            .unwrap_or(false)
    }

    #[test]
    fn drop_kills_the_whole_group() {
        let dir = scratch("group");
        let pidfile = dir.join("grandchild.pid");
        let mut cmd = sh(&format!("sleep 60 & echo $! > {}; wait", pidfile.display()));
        let process = WorkerProcess::spawn("sh", &mut cmd, 0, &dir.join("log")).unwrap();
        let pgid = process.pid() as libc::pid_t;
        let grandchild = read_pid(&pidfile);
        assert!(running(grandchild));
        assert!(group_alive(pgid));

        drop(process);

        assert!(!group_alive(pgid), "group {pgid} still alive");
        assert!(!running(grandchild), "grandchild {grandchild} survived");
    }

    #[test]
    fn stop_falls_back_to_sigkill() {
        let dir = scratch("stubborn");
        let pidfile = dir.join("ready.pid");
        // Ignored signals stay ignored across exec: neither sh nor sleep dies of SIGTERM.
        let mut cmd = sh(&format!(
            "trap '' TERM; sleep 60 & echo $! > {}; wait",
            pidfile.display()
        ));
        let mut process = WorkerProcess::spawn("sh", &mut cmd, 0, &dir.join("log")).unwrap();
        let pgid = process.pid() as libc::pid_t;
        read_pid(&pidfile);
        let started = Instant::now();
        process.stop();
        assert!(started.elapsed() >= KILL_GRACE);
        assert!(!group_alive(pgid));
        process.stop(); // a second stop is a no-op
    }

    #[test]
    fn early_exit_shows_the_log_tail() {
        let dir = scratch("exit");
        let mut cmd = sh("echo 'boom: Address already in use'; exit 3");
        let mut process =
            WorkerProcess::spawn("tool", &mut cmd, free_port().unwrap(), &dir.join("l/log"))
                .unwrap();
        let err = process
            .wait_until_ready(&Ready::get("/health", Duration::from_secs(30)))
            .unwrap_err();
        assert!(err.exited(), "{err}");
        let msg = err.to_string();
        assert!(msg.contains("tool exited early"), "{msg}");
        assert!(msg.contains("boom: Address already in use"), "{msg}");
        assert!(process.ready_after().is_none());
    }

    #[test]
    fn timeout_shows_the_last_probe() {
        let dir = scratch("timeout");
        let mut cmd = sh("echo started; sleep 60");
        let mut process =
            WorkerProcess::spawn("idle", &mut cmd, free_port().unwrap(), &dir.join("log")).unwrap();
        let ready =
            Ready::get("/health", Duration::from_millis(300)).poll(Duration::from_millis(20));
        let err = process.wait_until_ready(&ready).unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(err.failure(), StartFailure::TimedOut { .. }),
            "{msg}"
        );
        assert!(msg.contains("within 300ms (last: "), "{msg}");
        assert!(msg.contains("started"), "{msg}");
    }

    #[test]
    fn spawn_failure_is_an_error() {
        let dir = scratch("nospawn");
        let err = WorkerProcess::spawn(
            "nothing",
            &mut Command::new(dir.join("no-such-binary")),
            0,
            &dir.join("log"),
        )
        .err()
        .unwrap();
        assert!(
            err.to_string().starts_with("spawning nothing failed"),
            "{err}"
        );
    }

    /// A loopback HTTP server answering `GET /health` with `health_status` (after
    /// `not_before` requests got 503), 404 otherwise.
    fn http_server(health_status: u16, not_before: usize) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for (n, stream) in listener.incoming().enumerate() {
                let Ok(mut stream) = stream else { continue };
                let mut line = String::new();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let _ = reader.read_line(&mut line);
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).unwrap_or(0) <= 2 {
                        break;
                    }
                }
                let status = match line.split_whitespace().nth(1) {
                    Some("/health") if n < not_before => 503,
                    Some("/health") => health_status,
                    _ => 404,
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
                );
            }
        });
        port
    }

    #[test]
    fn ready_once_the_path_answers_200() {
        let dir = scratch("ready");
        let port = http_server(200, 3);
        let mut process =
            WorkerProcess::spawn("srv", &mut sh("sleep 60"), port, &dir.join("log")).unwrap();
        let ready = Ready::get("/health", Duration::from_secs(10)).poll(Duration::from_millis(5));
        let took = process.wait_until_ready(&ready).unwrap();
        assert_eq!(process.ready_after(), Some(took));
        assert_eq!(process.base_url(), format!("http://127.0.0.1:{port}"));

        // Not 200, but any answer was asked for.
        let port = http_server(500, 0);
        assert!(wait_for(
            &format!("http://127.0.0.1:{port}"),
            &Ready::get("/health", Duration::from_millis(200))
        )
        .unwrap_err()
        .contains("(last: status 500)"));
        wait_for(
            &format!("http://127.0.0.1:{port}"),
            &Ready::get("/health", Duration::from_secs(5)).any_status(),
        )
        .unwrap();
    }

    #[test]
    fn run_checked_reports_the_output_tail() {
        run_checked(&mut sh("true"), "true").unwrap();
        let err = run_checked(&mut sh("echo out; echo err >&2; exit 2"), "the thing").unwrap_err();
        assert!(err.starts_with("the thing failed ("), "{err}");
        assert!(err.ends_with("out\nerr\n"), "{err}");
        let err = run_checked(&mut Command::new("/nonexistent/x"), "x").unwrap_err();
        assert!(err.starts_with("could not run x"), "{err}");
    }
}
