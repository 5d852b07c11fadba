//! Debian forky's own kernel (the one its `linux-image-amd64` depends on today, built with
//! `CONFIG_RUST=y`), which the `distro` VM suite boots unmodified: its packages downloaded
//! through the private apt configuration (see `debian_suite`) and unpacked, never
//! installed, under `~/.cache/vusbkey/distro/<version>/kernel/`, next to the build root that
//! builds modules for it (see `build_root`, `distro_kmod`).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use xshell::{cmd, Shell};

use crate::apt::Apt;
use crate::chroot;
use crate::debian_suite;
use crate::paths::Paths;

/// The Debian suite whose kernel this is.
pub(crate) const SUITE: &str = "forky";
/// The package that depends on the suite's current kernel.
const META_PACKAGE: &str = "linux-image-amd64";

/// An unpacked kernel of the suite.
pub(crate) struct DistroKernel {
    /// `~/.cache/vusbkey/distro/<version>/`: the unpacked packages (`kernel/`) and the build
    /// root for them (`root/`).
    pub(crate) dir: PathBuf,
    /// The kernel release (`uname -r`), e.g. `7.2.12+deb14-amd64`.
    pub(crate) release: String,
    /// The package version, e.g. `7.2.12-1`.
    pub(crate) version: String,
}

impl DistroKernel {
    /// `/usr/lib/modules/<release>/` of the unpacked packages: the modules, `modules.dep`,
    /// `modules.builtin`, `vmlinuz`, `config`.
    pub(crate) fn modules_dir(&self) -> PathBuf {
        self.dir.join("kernel/usr/lib/modules").join(&self.release)
    }

    /// The bootable image, as the package ships it.
    pub(crate) fn vmlinuz(&self) -> PathBuf {
        self.modules_dir().join("vmlinuz")
    }

    /// The configuration it was built with.
    pub(crate) fn config(&self) -> PathBuf {
        self.modules_dir().join("config")
    }

    /// The symbols it exports, with their namespaces (from `linux-headers-<release>`):
    /// modpost resolves a module's undefined symbols against it.
    pub(crate) fn module_symvers(&self) -> PathBuf {
        self.dir
            .join("kernel/usr/src")
            .join(format!("linux-headers-{}", self.release))
            .join("Module.symvers")
    }

    /// The build root for modules of this kernel (see `build_root`).
    pub(crate) fn root_dir(&self) -> PathBuf {
        self.dir.join("root")
    }
}

/// The suite's kernel of the day, downloaded and unpacked unless that version already is;
/// when the archive cannot be reached, the one unpacked last.
pub(crate) fn fetch(sh: &Shell, paths: &Paths) -> anyhow::Result<DistroKernel> {
    let apt = match debian_suite::update(sh, paths, SUITE) {
        Ok(apt) => apt,
        Err(error) => {
            let Ok(kernel) = current(paths) else {
                return Err(error.context(format!(
                    "Debian {SUITE}'s kernel is not in the cache yet and cannot be downloaded"
                )));
            };
            println!(
                "distro: note: {error:#}; using Debian {SUITE}'s kernel {} ({}) unpacked earlier",
                kernel.release, kernel.version
            );
            return Ok(kernel);
        }
    };
    let (image, version) = resolve_image(sh, &apt)?;
    let release = image
        .strip_prefix("linux-image-")
        .context("kernel package name")?
        .to_owned();
    let kernel = DistroKernel {
        dir: cache(paths).join(&version),
        release,
        version,
    };
    let unpacked = kernel.dir.join("kernel");
    if !unpacked.exists() {
        let packages = packages(sh, &apt, &image, &kernel.release)?;
        unpack(sh, &apt, &packages, &kernel.release, &unpacked)?;
    }
    for (what, file) in [
        ("vmlinuz", kernel.vmlinuz()),
        ("config", kernel.config()),
        ("Module.symvers", kernel.module_symvers()),
        ("modules.dep", kernel.modules_dir().join("modules.dep")),
    ] {
        if !file.is_file() {
            bail!(
                "Debian {SUITE}'s kernel packages have no {what} at {} (has their layout \
                 changed?)",
                file.display()
            );
        }
    }
    sh.write_file(cache(paths).join("current"), &kernel.version)?;
    Ok(kernel)
}

/// Removes the cached versions other than `kernel`'s (each with its build root).
pub(crate) fn remove_others(paths: &Paths, kernel: &DistroKernel) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(cache(paths))? {
        let path = entry?.path();
        if path.is_dir() && path != kernel.dir {
            println!("distro: removing {} (an older kernel)", path.display());
            chroot::remove(&path)?;
        }
    }
    Ok(())
}

/// `~/.cache/vusbkey/distro/`: one directory per kernel package version, and `current`,
/// the version used last.
fn cache(paths: &Paths) -> PathBuf {
    paths.cache.join("distro")
}

/// The kernel named by `distro/current`, if it is unpacked.
fn current(paths: &Paths) -> anyhow::Result<DistroKernel> {
    let version = std::fs::read_to_string(cache(paths).join("current"))?;
    let dir = cache(paths).join(version.trim());
    let modules = dir.join("kernel/usr/lib/modules");
    let releases = std::fs::read_dir(&modules)
        .with_context(|| format!("reading {}", modules.display()))?
        .map(|entry| Ok(entry?.file_name().to_string_lossy().into_owned()))
        .collect::<std::io::Result<Vec<_>>>()?;
    let [release] = releases.as_slice() else {
        bail!("{} holds {releases:?}, not one kernel", modules.display());
    };
    Ok(DistroKernel {
        dir,
        release: release.clone(),
        version: version.trim().to_owned(),
    })
}

/// The kernel package `linux-image-amd64` depends on (`linux-image-<release>`) and its version.
fn resolve_image(sh: &Shell, apt: &Apt) -> anyhow::Result<(String, String)> {
    apt.kernel_of(sh, META_PACKAGE)?
        .with_context(|| format!("no kernel among Debian {SUITE}'s {META_PACKAGE} dependencies"))
}

/// The packages holding the kernel, each with its version: the image package and the parts
/// of the kernel it depends on (Debian splits it into `linux-base-<release>`: config,
/// System.map, modules.builtin; `linux-binary-<release>`: vmlinuz; `linux-modules-<release>`),
/// and `linux-headers-<release>` for its `Module.symvers`.
fn packages(
    sh: &Shell,
    apt: &Apt,
    image: &str,
    release: &str,
) -> anyhow::Result<Vec<(String, String)>> {
    let mut names = vec![image.to_owned()];
    names.extend(kernel_parts(&apt.depends(sh, image)?, release));
    names.push(format!("linux-headers-{release}"));
    names
        .into_iter()
        .map(|name| {
            let version = apt.candidate(sh, &name)?;
            Ok((name, version))
        })
        .collect()
}

/// The dependencies of the image package that are parts of the same kernel (named
/// `linux-*-<release>`), not the tools it needs (`linux-base`, `initramfs-tools`, ...).
fn kernel_parts(depends: &[String], release: &str) -> Vec<String> {
    let suffix = format!("-{release}");
    depends
        .iter()
        .filter(|name| name.starts_with("linux-") && name.ends_with(&suffix))
        .cloned()
        .collect()
}

/// Downloads each package and unpacks it into `dest`, then generates the modules'
/// `modules.dep` as the package's own install would (with busybox `depmod`, which reads
/// `.ko.xz`). The tree is built in a staging directory beside `dest`, so that an interrupted
/// run leaves nothing that looks complete.
fn unpack(
    sh: &Shell,
    apt: &Apt,
    packages: &[(String, String)],
    release: &str,
    dest: &Path,
) -> anyhow::Result<()> {
    let staging = dest.with_extension("partial");
    let debs = dest.with_extension("debs");
    for dir in [&staging, &debs] {
        if dir.exists() {
            sh.remove_path(dir)?;
        }
        sh.create_dir(dir)?;
    }
    let list: Vec<String> = packages
        .iter()
        .map(|(name, version)| format!("{name} {version}"))
        .collect();
    println!(
        "distro: downloading Debian {SUITE}'s kernel (about 130 MB): {}",
        list.join(", ")
    );
    for (name, version) in packages {
        let deb = apt.download(sh, &debs, name, version)?;
        cmd!(sh, "dpkg-deb -x {deb} {staging}")
            .quiet()
            .run()
            .with_context(|| format!("unpacking {}", deb.display()))?;
        sh.remove_path(&deb)?;
    }
    sh.remove_path(&debs)?;
    // busybox depmod reads `BASE/lib/modules`; forky's modules are in `/usr/lib/modules`
    // (merged /usr, as on a forky system).
    std::os::unix::fs::symlink("usr/lib", staging.join("lib"))?;
    cmd!(sh, "busybox depmod -b {staging} {release}")
        .quiet()
        .run()
        .context("generating modules.dep with busybox depmod")?;
    std::fs::rename(&staging, dest)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::kernel_parts;

    #[test]
    fn the_parts_of_the_kernel_are_the_dependencies_named_after_its_release() {
        let depends: Vec<String> = [
            "linux-base",
            "dracut",
            "initramfs-tools",
            "<linux-initramfs-tool>",
            "linux-base-7.2.12+deb14-amd64",
            "linux-binary-7.2.12+deb14-amd64",
            "linux-modules-7.2.12+deb14-amd64",
        ]
        .map(str::to_owned)
        .to_vec();
        assert_eq!(
            kernel_parts(&depends, "7.2.12+deb14-amd64"),
            [
                "linux-base-7.2.12+deb14-amd64",
                "linux-binary-7.2.12+deb14-amd64",
                "linux-modules-7.2.12+deb14-amd64"
            ]
        );
    }
}
