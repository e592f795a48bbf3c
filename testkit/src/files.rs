//! Directory copies, log tails and the flock(2) lock file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::io::AsRawFd;
use std::path::Path;

/// How much of a log a startup failure (or a failed command) shows.
pub const LOG_TAIL_BYTES: u64 = 8 * 1024;

/// Copies the directory tree `from` into `to` (created if needed; existing files overwritten).
pub fn copy_dir(from: &Path, to: &Path) -> io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let dest = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &dest)?;
        } else {
            fs::copy(entry.path(), dest)?;
        }
    }
    Ok(())
}

/// The last [`LOG_TAIL_BYTES`] of the file at `path` (lossy UTF-8), or `(no log)`.
pub fn log_tail(path: &Path) -> String {
    let Ok(mut file) = File::open(path) else {
        return "(no log)".into();
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(LOG_TAIL_BYTES)));
    let mut buf = Vec::new();
    let _ = file.read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

/// The last [`LOG_TAIL_BYTES`] of `text`, cut at a character boundary.
pub(crate) fn str_tail(text: &str) -> &str {
    let start = text.len().saturating_sub(LOG_TAIL_BYTES as usize);
    let start = (start..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    &text[start..]
}

/// An flock(2) on a lock file, released on drop (and by the kernel if the process dies).
/// Two locks of one process on the same file conflict like those of two processes.
pub struct FileLock(File);

impl FileLock {
    /// Blocks until no one else holds the lock at `path` (created, with its directory, if
    /// missing).
    pub fn exclusive(path: &Path) -> io::Result<Self> {
        Self::lock(path, libc::LOCK_EX)
    }

    /// Blocks until no one holds the lock at `path` exclusively; others may share it.
    pub fn shared(path: &Path) -> io::Result<Self> {
        Self::lock(path, libc::LOCK_SH)
    }

    fn lock(path: &Path, op: libc::c_int) -> io::Result<Self> {
        if let Some(parent) = path.parent() {
            let _ = fs::create_dir_all(parent);
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)?;
        loop {
            // SAFETY: flock on a file descriptor we own.
            if unsafe { libc::flock(file.as_raw_fd(), op) } == 0 {
                return Ok(FileLock(file));
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // SAFETY: unlocking our own descriptor (closing it would release it too).
        unsafe {
            libc::flock(self.0.as_raw_fd(), libc::LOCK_UN);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fresh scratch directory under the system temp dir, removed on drop unless the test
    /// failed (then kept for inspection).
    pub(crate) struct Scratch(PathBuf);

    impl std::ops::Deref for Scratch {
        type Target = Path;
        fn deref(&self) -> &Path {
            &self.0
        }
    }

    impl AsRef<Path> for Scratch {
        fn as_ref(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            if !std::thread::panicking() {
                let _ = fs::remove_dir_all(&self.0);
            }
        }
    }

    pub(crate) fn scratch(name: &str) -> Scratch {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "edge-login-testkit-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    #[test]
    fn copy_dir_copies_the_tree() {
        let dir = scratch("copy");
        let from = dir.join("from");
        fs::create_dir_all(from.join("a/b")).unwrap();
        fs::create_dir_all(from.join("empty")).unwrap();
        fs::write(from.join("top.txt"), "top").unwrap();
        fs::write(from.join("a/b/deep.bin"), [0u8, 1, 2]).unwrap();

        copy_dir(&from, &dir.join("to")).unwrap();

        assert_eq!(fs::read(dir.join("to/top.txt")).unwrap(), b"top");
        assert_eq!(fs::read(dir.join("to/a/b/deep.bin")).unwrap(), [0, 1, 2]);
        assert!(dir.join("to/empty").is_dir());
        assert!(copy_dir(&dir.join("missing"), &dir.join("x")).is_err());
    }

    #[test]
    fn tails_keep_the_end() {
        let dir = scratch("tail");
        let path = dir.join("log");
        assert_eq!(log_tail(&path), "(no log)");
        let text = format!("{}END", "é".repeat(LOG_TAIL_BYTES as usize));
        fs::write(&path, &text).unwrap();
        let tail = log_tail(&path);
        assert!(tail.ends_with("END"));
        assert!(tail.len() <= LOG_TAIL_BYTES as usize + 2);
        let tail = str_tail(&text);
        assert!(tail.ends_with("END") && tail.starts_with('é'));
        assert!(tail.len() <= LOG_TAIL_BYTES as usize);
        assert_eq!(str_tail("short"), "short");
    }

    #[test]
    fn shared_locks_coexist_and_exclusive_waits() {
        let dir = scratch("lock");
        let path = dir.join("sub/the.lock");
        let a = FileLock::shared(&path).unwrap();
        let b = FileLock::shared(&path).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let p = path.clone();
        let waiter = std::thread::spawn(move || {
            let _x = FileLock::exclusive(&p).unwrap();
            tx.send(()).unwrap();
        });
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(
            rx.try_recv().is_err(),
            "exclusive lock taken while shared ones are held"
        );
        drop((a, b));
        rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
        waiter.join().unwrap();
    }
}
