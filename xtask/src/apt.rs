//! apt, asked about packages without installing them: with the system's configuration, or
//! with a private one (`-c FILE`, see `debian_suite`). A package's candidate version, what
//! it depends on, and its `.deb` downloaded (apt checks it against the signed archive index).

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

    /// The packages `package` depends on (`Depends:` lines of `apt-cache depends`, each
    /// alternative included, virtual packages as `<name>`).
    pub(crate) fn depends(&self, sh: &Shell, package: &str) -> anyhow::Result<Vec<String>> {
        let listing = self
            .cmd(sh, "apt-cache")
            .args(["depends", package])
            .quiet()
            .ignore_stderr()
            .read()
            .with_context(|| format!("apt-cache depends {package} failed"))?;
        Ok(depends(&listing).map(str::to_owned).collect())
    }

    /// The kernel package the meta package `meta` (e.g. `linux-image-amd64`) depends on
    /// (`linux-image-<release>`), and the version apt would install; `None` when it depends
    /// on none.
    pub(crate) fn kernel_of(
        &self,
        sh: &Shell,
        meta: &str,
    ) -> anyhow::Result<Option<(String, String)>> {
        let Some(image) = self
            .depends(sh, meta)?
            .into_iter()
            .find(|package| package.starts_with("linux-image-"))
        else {
            return Ok(None);
        };
        let version = self.candidate(sh, &image)?;
        Ok(Some((image, version)))
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

/// The packages of the `Depends:` lines of `apt-cache depends PACKAGE`.
fn depends(listing: &str) -> impl Iterator<Item = &str> {
    listing.lines().filter_map(|line| {
        line.trim()
            .trim_start_matches('|')
            .strip_prefix("Depends: ")
    })
}

#[cfg(test)]
mod tests {
    use super::{candidate, depends};

    #[test]
    fn the_candidate_version_comes_from_apt_cache_policy() {
        let policy = "linux-image-6.1.0-57-amd64:\n  Installed: (none)\n  Candidate: 6.1.192-3\n  Version table:\n";
        assert_eq!(candidate(policy), Some("6.1.192-3"));
        assert_eq!(candidate("x:\n  Candidate: (none)\n"), None);
    }

    #[test]
    fn dependencies_come_from_apt_cache_depends() {
        let listing =
            "linux-image-7.2.12+deb14-amd64\n  PreDepends: linux-base\n |Depends: dracut\n  \
                       Depends: <linux-initramfs-tool>\n    dracut\n  \
                       Depends: linux-binary-7.2.12+deb14-amd64\n  Recommends: apparmor\n";
        assert_eq!(
            depends(listing).collect::<Vec<_>>(),
            [
                "dracut",
                "<linux-initramfs-tool>",
                "linux-binary-7.2.12+deb14-amd64"
            ]
        );
    }
}
