//! `cargo xtask package --image key.img`: vusbkey.ko's sources with one key image, as a DKMS
//! source tree and a Debian package of it (`vusbkey-dkms_<version>_all.deb`), for hosts that
//! build the module for their own kernels.
//!
//! The version is the workspace's with the start of the image's sha256 after a `+`
//! (`0.1.0+1a2b3c4d`): another key is another version, so installing it replaces the
//! module DKMS built for the old key instead of colliding with it.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};
use xshell::Shell;

use crate::paths::Paths;
use crate::{kmod, kmod_images};

/// The packaging files (`packaging/dkms/`): templates, their `@NAME@`s filled in.
const TEMPLATES: &str = "packaging/dkms";
/// The build script dkms.conf's `MAKE` runs, copied into the source tree as it is.
const MAKE_SCRIPT: &str = "dkms-make.sh";
/// The package's name.
pub(crate) const PACKAGE: &str = "vusbkey-dkms";
/// The DKMS module's name (`dkms.conf` `PACKAGE_NAME`, `/usr/src/<name>-<version>`).
pub(crate) const MODULE: &str = "vusbkey";

/// The architecture DKMS names its build directories after (`uname -m`).
pub(crate) const DKMS_ARCH: &str = std::env::consts::ARCH;

/// What `make` wrote.
pub(crate) struct Package {
    /// `<workspace version>+<image sha256, 8 digits>`.
    pub(crate) version: String,
    /// `target/package/vusbkey-dkms_<version>_all.deb`.
    pub(crate) deb: PathBuf,
}

impl Package {
    /// Where `dkms build` leaves this version's module for kernel `release`, in the DKMS tree
    /// `dkms_tree` (`/var/lib/dkms` on a host).
    pub(crate) fn built_module_dir(&self, dkms_tree: &Path, release: &str) -> PathBuf {
        dkms_tree
            .join(MODULE)
            .join(&self.version)
            .join(release)
            .join(DKMS_ARCH)
            .join("module")
    }
}

/// Writes the DKMS source tree and the `.deb` for `image` to `target/package/`, replacing
/// an earlier build of the same version (other versions stay).
pub(crate) fn make(paths: &Paths, image_path: &Path) -> anyhow::Result<Package> {
    let sh = Shell::new()?;
    kmod::check_version(&sh, paths)?;
    let out = paths.target().join("package");
    std::fs::create_dir_all(&out)?;
    let staging = out.join("staging");
    remove(&staging)?;
    let images = kmod_images::read(&[image_path])?;
    let (size, sha256) = (images[0].bytes.len(), &images[0].sha256);
    let version = format!("{}+{}", env!("CARGO_PKG_VERSION"), &sha256[..8]);
    // The sources where the package installs them; the tree is a copy.
    let src = staging.join(format!("usr/src/{MODULE}-{version}"));
    kmod::copy_tree(&paths.root.join("kmod"), &src)?;
    kmod_images::stage(&src, &images)?;
    let templates = paths.root.join(TEMPLATES);
    let fill = |name: &str, installed_kib: u64| -> anyhow::Result<String> {
        let path = templates.join(name);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        Ok(fill(&text, &version, sha256, installed_kib))
    };
    std::fs::write(src.join("dkms.conf"), fill("dkms.conf.in", 0)?)?;
    std::fs::copy(templates.join(MAKE_SCRIPT), src.join(MAKE_SCRIPT))?;

    let debian = staging.join("DEBIAN");
    std::fs::create_dir_all(&debian)?;
    let installed_kib = size_of(&src)?.div_ceil(1024);
    std::fs::write(debian.join("control"), fill("control.in", installed_kib)?)?;
    for script in ["postinst", "prerm"] {
        let path = debian.join(script);
        std::fs::write(&path, fill(&format!("{script}.in"), 0)?)?;
        set_mode(&path, 0o755)?;
    }

    let tree = out.join(format!("{MODULE}-{version}"));
    remove(&tree)?;
    kmod::copy_tree(&src, &tree)?;
    let deb = out.join(format!("{PACKAGE}_{version}_all.deb"));
    let status = Command::new("dpkg-deb")
        .args(["--root-owner-group", "-Zxz", "--build"])
        .arg(&staging)
        .arg(&deb)
        .stdout(std::process::Stdio::null())
        .status()
        .context("running dpkg-deb (Debian package dpkg)")?;
    if !status.success() {
        bail!("dpkg-deb --build {} failed ({status})", staging.display());
    }
    remove(&staging)?;
    println!(
        "package: {} (DKMS source tree) and {} ({} bytes), version {version}, carrying {} \
         ({size} bytes, sha256 {sha256})",
        tree.display(),
        deb.display(),
        std::fs::metadata(&deb)?.len(),
        image_path.display()
    );
    Ok(Package { version, deb })
}

/// `text` with `@VERSION@`, `@IMAGE_SHA256@` and `@INSTALLED_SIZE@` (KiB) filled in.
fn fill(text: &str, version: &str, sha256: &str, installed_kib: u64) -> String {
    text.replace("@VERSION@", version)
        .replace("@IMAGE_SHA256@", sha256)
        .replace("@INSTALLED_SIZE@", &installed_kib.to_string())
}

/// Removes `dir` and what is in it, if it exists.
fn remove(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    Ok(())
}

/// Bytes of the files under `dir`.
fn size_of(dir: &Path) -> anyhow::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        total += if entry.file_type()?.is_dir() {
            size_of(&entry.path())?
        } else {
            entry.metadata()?.len()
        };
    }
    Ok(total)
}

fn set_mode(path: &Path, mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("setting the mode of {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::fill;

    /// Whether `text` has a `@NAME@` left (a lone `@`, as in an email address, is none).
    fn has_placeholder(text: &str) -> bool {
        text.match_indices('@').any(|(at, _)| {
            let name: String = text[at + 1..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                .collect();
            !name.is_empty() && text[at + 1 + name.len()..].starts_with('@')
        })
    }

    #[test]
    fn every_placeholder_of_the_templates_is_filled_and_the_scripts_parse() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../packaging/dkms");
        for name in ["dkms.conf.in", "control.in", "postinst.in", "prerm.in"] {
            let text = std::fs::read_to_string(format!("{dir}/{name}")).unwrap();
            assert!(has_placeholder(&text), "{name} has no placeholder");
            let filled = fill(&text, "0.1.0+1a2b3c4d", &"ab".repeat(32), 12);
            assert!(!has_placeholder(&filled), "{name}: {filled}");
            if name != "control.in" {
                // dkms.conf is sourced by DKMS's bash, the others run by sh.
                let shell = if name == "dkms.conf.in" { "bash" } else { "sh" };
                let status = std::process::Command::new(shell)
                    .args(["-n", "-c", &filled])
                    .status()
                    .unwrap();
                assert!(status.success(), "{name} does not parse: {filled}");
            }
        }
        let control = std::fs::read_to_string(format!("{dir}/control.in")).unwrap();
        let control = fill(&control, "0.1.0+1a2b3c4d", &"ab".repeat(32), 12);
        assert!(control.contains("\nVersion: 0.1.0+1a2b3c4d\n"), "{control}");
        assert!(control.contains("\nDepends: dkms (>= 3.0)\n"), "{control}");
        assert!(control.contains("\nInstalled-Size: 12\n"), "{control}");
    }
}
