//! The D1 state template: a schema applied once into a `--persist-to` directory, copied per
//! server.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::files::{copy_dir, FileLock};
use crate::process::run_checked;
use crate::wrangler::quiet_wrangler_env;

/// Inside a template: what it was built from (see [`StateTemplate::ensure_with`]).
pub const FINGERPRINT_FILE: &str = ".template-fingerprint";

/// How to build a template.
#[derive(Debug, Clone, Copy)]
pub struct TemplateSpec<'a> {
    /// Where wrangler runs (it reads `wrangler.toml` there); the paths below are relative to it.
    pub repo: &'a Path,
    pub wrangler: &'a Path,
    /// The D1 binding the schema goes into (`wrangler d1 execute BINDING --local`).
    pub binding: &'a str,
    /// The SQL file applied (e.g. `schema.sql`).
    pub schema: &'a str,
    /// Further files whose contents the template depends on (the D1 binding config, the
    /// wrangler version): when the schema or any of these changes, the template is rebuilt.
    pub inputs: &'a [&'a str],
}

/// A template state directory and the lock file beside it (`DIR.lock`): built under the
/// exclusive lock, copied under a shared one, so parallel processes never see half of one.
#[derive(Debug, Clone)]
pub struct StateTemplate {
    dir: PathBuf,
    lock: PathBuf,
}

impl StateTemplate {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        let dir = dir.into();
        StateTemplate {
            lock: sibling(&dir, "lock"),
            dir,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn lock_path(&self) -> &Path {
        &self.lock
    }

    /// Makes sure the template is current: takes the exclusive lock, runs `under_lock` (work
    /// that must not run in parallel either, e.g. `make build`), then, unless the template's
    /// fingerprint matches the schema and inputs, applies the schema to an empty directory and
    /// swaps it in (atomically: a rename).
    pub fn ensure_with(
        &self,
        spec: &TemplateSpec<'_>,
        under_lock: impl FnOnce() -> Result<(), String>,
    ) -> Result<(), String> {
        let _lock = FileLock::exclusive(&self.lock)
            .map_err(|e| format!("locking {}: {e}", self.lock.display()))?;
        under_lock()?;
        let fingerprint = fingerprint(spec)?;
        let current = fs::read(self.dir.join(FINGERPRINT_FILE)).ok();
        if current.as_deref() != Some(fingerprint.as_slice()) {
            self.build(spec, &fingerprint)?;
        }
        Ok(())
    }

    /// [`ensure_with`](StateTemplate::ensure_with) with nothing else under the lock.
    pub fn ensure(&self, spec: &TemplateSpec<'_>) -> Result<(), String> {
        self.ensure_with(spec, || Ok(()))
    }

    /// A plain copy of the template at `dest` (under the shared lock, so the template isn't
    /// swapped out meanwhile), without the fingerprint file.
    pub fn copy_to(&self, dest: &Path) -> std::io::Result<()> {
        {
            let _lock = FileLock::shared(&self.lock)?;
            copy_dir(&self.dir, dest)?;
        }
        let _ = fs::remove_file(dest.join(FINGERPRINT_FILE));
        Ok(())
    }

    /// Applies the schema to an empty staging dir and swaps it in. Caller holds the exclusive
    /// lock.
    fn build(&self, spec: &TemplateSpec<'_>, fingerprint: &[u8]) -> Result<(), String> {
        let pid = std::process::id();
        let staging = sibling(&self.dir, &format!("tmp-{pid}"));
        let old = sibling(&self.dir, &format!("old-{pid}"));
        let logs = sibling(&self.dir, &format!("logs-{pid}"));
        let _ = fs::remove_dir_all(&staging);
        fs::create_dir_all(&staging).map_err(|e| format!("creating {staging:?}: {e}"))?;

        let mut cmd = Command::new(spec.wrangler);
        cmd.current_dir(spec.repo)
            .args(["d1", "execute", spec.binding, "--local", "--file"])
            .arg(spec.repo.join(spec.schema))
            .arg("--persist-to")
            .arg(&staging);
        quiet_wrangler_env(&mut cmd, Some(&logs.join("wrangler-logs")));
        run_checked(
            &mut cmd,
            &format!(
                "wrangler d1 execute {} --local --file {}",
                spec.binding, spec.schema
            ),
        )?;

        fs::write(staging.join(FINGERPRINT_FILE), fingerprint)
            .map_err(|e| format!("writing template fingerprint: {e}"))?;
        if self.dir.exists() {
            fs::rename(&self.dir, &old).map_err(|e| format!("moving old template away: {e}"))?;
        }
        fs::rename(&staging, &self.dir).map_err(|e| format!("installing template: {e}"))?;
        let _ = fs::remove_dir_all(&old);
        let _ = fs::remove_dir_all(&logs);
        Ok(())
    }
}

/// The names and contents of the schema and the inputs.
fn fingerprint(spec: &TemplateSpec<'_>) -> Result<Vec<u8>, String> {
    let mut fp = Vec::new();
    for file in std::iter::once(&spec.schema).chain(spec.inputs) {
        let bytes = fs::read(spec.repo.join(file)).map_err(|e| format!("reading {file}: {e}"))?;
        fp.extend_from_slice(file.as_bytes());
        fp.push(0);
        fp.extend_from_slice(&bytes);
        fp.push(0);
    }
    Ok(fp)
}

/// `DIR.suffix` next to `DIR`.
fn sibling(dir: &Path, suffix: &str) -> PathBuf {
    let mut name = OsString::from(dir.as_os_str());
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::tests::scratch;
    use std::os::unix::fs::PermissionsExt;

    /// A stand-in for `wrangler d1 execute DB --local --file F --persist-to D`: copies F to
    /// D/db.sql and counts its calls.
    fn fake_wrangler(dir: &Path) -> PathBuf {
        let path = dir.join("fake-wrangler");
        fs::write(
            &path,
            "#!/bin/sh\nset -eu\necho \"$*\" >> calls\n\
             [ \"$1 $2 $3 $4 $5\" = 'd1 execute DB --local --file' ] || exit 9\n\
             cp \"$6\" \"$8/db.sql\"\n",
        )
        .unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[test]
    fn built_once_rebuilt_when_an_input_changes() {
        let repo = scratch("template");
        let wrangler = fake_wrangler(&repo);
        fs::write(repo.join("schema.sql"), "CREATE TABLE a (x);").unwrap();
        fs::write(repo.join("wrangler.toml"), "name = 'x'").unwrap();
        let spec = TemplateSpec {
            repo: &repo,
            wrangler: &wrangler,
            binding: "DB",
            schema: "schema.sql",
            inputs: &["wrangler.toml"],
        };
        let template = StateTemplate::new(repo.join("target/test-state-template"));
        assert_eq!(
            template.lock_path(),
            repo.join("target/test-state-template.lock")
        );
        let calls = || {
            fs::read_to_string(repo.join("calls"))
                .unwrap_or_default()
                .lines()
                .count()
        };

        let mut ran = false;
        template
            .ensure_with(&spec, || {
                ran = true;
                Ok(())
            })
            .unwrap();
        assert!(ran);
        template.ensure(&spec).unwrap();
        assert_eq!(calls(), 1);

        let copy = repo.join("app/state");
        template.copy_to(&copy).unwrap();
        assert_eq!(
            fs::read_to_string(copy.join("db.sql")).unwrap(),
            "CREATE TABLE a (x);"
        );
        assert!(!copy.join(FINGERPRINT_FILE).exists());
        assert!(template.dir().join(FINGERPRINT_FILE).exists());

        fs::write(repo.join("wrangler.toml"), "name = 'y'").unwrap();
        template.ensure(&spec).unwrap();
        fs::write(repo.join("schema.sql"), "CREATE TABLE b (y);").unwrap();
        template.ensure(&spec).unwrap();
        template.ensure(&spec).unwrap();
        assert_eq!(calls(), 3);
        assert_eq!(
            fs::read_to_string(template.dir().join("db.sql")).unwrap(),
            "CREATE TABLE b (y);"
        );
        // Nothing left beside it but the lock.
        let mut names: Vec<_> = fs::read_dir(repo.join("target"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["test-state-template", "test-state-template.lock"]);

        // A failing build reports the command and leaves the old template in place.
        let failing = TemplateSpec {
            binding: "OTHER",
            inputs: &[],
            ..spec
        };
        let err = template.ensure(&failing).unwrap_err();
        assert!(err.starts_with("wrangler d1 execute OTHER"), "{err}");
        assert!(template.dir().join("db.sql").exists());
        let missing = TemplateSpec {
            inputs: &["nope.toml"],
            ..spec
        };
        assert!(template.ensure(&missing).unwrap_err().contains("nope.toml"));
    }
}
