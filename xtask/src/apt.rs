//! apt, asked about packages without installing them: with the system's configuration, or
//! with a private one (`-c FILE`, see `debian_suite`). A package's candidate version, and
//! its `.deb` downloaded (apt checks it against the signed archive index).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use xshell::{Cmd, Shell};

use crate::setup;

/// An apt configuration.
pub(crate) struct Apt {
    /// The private configuration file, or `None` for the system's.
    config: Option<PathBuf>,
}

impl Apt {
    /// The system's configuration (`/etc/apt`).
    pub(crate) fn system() -> Self {
        Self { config: None }
    }

    /// A private configuration file, read on top of the system's (`-c FILE`).
    pub(crate) fn with_config(config: PathBuf) -> Self {
        Self {
            config: Some(config),
        }
    }

    /// `program` (`apt-get`, `apt-cache`) with this configuration.
    pub(crate) fn cmd<'a>(&self, sh: &'a Shell, program: &str) -> Cmd<'a> {
        let cmd = sh.cmd(program);
        match &self.config {
            Some(config) => cmd.arg("-c").arg(config),
            None => cmd,
        }
    }

    /// The version of `package` apt would install.
    pub(crate) fn candidate(&self, sh: &Shell, package: &str) -> anyhow::Result<String> {
        let policy = self
            .cmd(sh, "apt-cache")
            .args(["policy", package])
            .quiet()
            .read()?;
        candidate(&policy)
            .map(str::to_owned)
            .with_context(|| format!("apt has no candidate version of {package}"))
    }

    /// Downloads `package` at `version` into `dir`; returns the `.deb`.
    pub(crate) fn download(
        &self,
        sh: &Shell,
        dir: &Path,
        package: &str,
        version: &str,
    ) -> anyhow::Result<PathBuf> {
        let _dir = sh.push_dir(dir);
        // As root, apt would fall back to downloading as root anyway, with a warning, since
        // its `_apt` user cannot write to a cache under /root.
        let sandbox = if setup::is_root(sh) {
            vec!["-o", "APT::Sandbox::User=root"]
        } else {
            Vec::new()
        };
        self.cmd(sh, "apt-get")
            .args(["download", "-q"])
            .args(sandbox)
            .arg(format!("{package}={version}"))
            .quiet()
            .run()
            .with_context(|| format!("apt-get download {package}={version} failed"))?;
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "deb") {
                return Ok(path);
            }
        }
        bail!("apt-get download left no .deb in {}", dir.display())
    }
}

/// The `Candidate:` version of `apt-cache policy PACKAGE`.
fn candidate(policy: &str) -> Option<&str> {
    policy
        .lines()
        .find_map(|line| line.trim().strip_prefix("Candidate: "))
        .filter(|version| *version != "(none)")
}

#[cfg(test)]
mod tests {
    use super::candidate;

    #[test]
    fn the_candidate_version_comes_from_apt_cache_policy() {
        let policy = "linux-image-6.1.0-57-amd64:\n  Installed: (none)\n  Candidate: 6.1.192-3\n  Version table:\n";
        assert_eq!(candidate(policy), Some("6.1.192-3"));
        assert_eq!(candidate("x:\n  Candidate: (none)\n"), None);
    }
}
