//! Debian 12's own kernel (`linux-image-amd64`, built without Rust), which the stock-kernel
//! VM suites boot: `setup` downloads the package it depends on into the cache and unpacks it
//! there (nothing is installed), and a VM takes the modules its suites load from it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use xshell::{cmd, Shell};

use crate::apt::Apt;
use crate::initramfs::Initramfs;
use crate::paths::Paths;
use crate::setup;

/// The package that depends on the current kernel of the release.
const META_PACKAGE: &str = "linux-image-amd64";

/// Modules the stock-kernel suites load (`load_module NAME` in `qemu/lib.sh`). The VM gets
/// them with every module they depend on; built-in ones need nothing.
pub(crate) const MODULES: &[&str] = &[
    // The disk, as the project kernel's suites use it (Debian builds USB core and SCSI as
    // modules).
    "usb-storage",
    "sd_mod",
    "sg",
    // Mounting the FAT image: Debian's vfat defaults to codepage 437 and iocharset ascii.
    "vfat",
    "nls_cp437",
    "nls_ascii",
    "nls_iso8859-1",
    // Linux's reference device through the gadget configfs (Debian has no g_mass_storage).
    "configfs",
    "libcomposite",
    "usb_f_mass_storage",
    "dummy_hcd",
    // USB/IP.
    "usbip-core",
    "vhci-hcd",
    "usbip-host",
];

/// An unpacked stock kernel package.
pub(crate) struct StockKernel {
    /// What the package unpacked to (`boot/`, `lib/modules/`).
    root: PathBuf,
    /// The kernel release (`uname -r`), e.g. `6.1.0-57-amd64`.
    pub(crate) release: String,
    /// The package version, e.g. `6.1.192-3`.
    pub(crate) version: String,
}

impl StockKernel {
    /// The bootable image.
    pub(crate) fn vmlinuz(&self) -> PathBuf {
        self.root.join(format!("boot/vmlinuz-{}", self.release))
    }

    fn modules_dir(&self) -> PathBuf {
        self.root.join("lib/modules").join(&self.release)
    }

    /// Adds `names` and every module they depend on (see [`add_modules`]).
    pub(crate) fn add_modules(&self, initramfs: &Initramfs, names: &[&str]) -> anyhow::Result<()> {
        add_modules(initramfs, &self.modules_dir(), &self.release, names)
    }
}

/// Adds `names` of the kernel `release`, whose modules are in `dir` (with `modules.dep` and
/// `modules.builtin`, as a Debian kernel package installs them), and every module they
/// depend on under `/lib/modules/<release>/`, with a `modules.dep` of just those and the
/// kernel's `modules.builtin`, so that busybox `modprobe NAME` loads a module with its
/// dependencies. Compressed modules (`.ko.xz`, as Debian forky ships them) are decompressed:
/// busybox loads plain ones only.
pub(crate) fn add_modules(
    initramfs: &Initramfs,
    dir: &Path,
    release: &str,
    names: &[&str],
) -> anyhow::Result<()> {
    let read = |file: &str| {
        std::fs::read_to_string(dir.join(file))
            .with_context(|| format!("reading {file} of the kernel {release}"))
    };
    let modules_dep = read("modules.dep")?;
    let chosen = closure(&modules_dep, &read("modules.builtin")?, names)?;
    let guest_dir = format!("lib/modules/{release}");
    let sh = Shell::new()?;
    let mut dep = String::new();
    for (module, deps) in &chosen {
        let plain = uncompressed(module);
        let source = dir.join(module);
        let guest = format!("{guest_dir}/{plain}");
        if plain == *module {
            initramfs.add_file(&source, &guest, 0o644)?;
        } else {
            let bytes = cmd!(sh, "xz -dc {source}")
                .quiet()
                .output()
                .with_context(|| format!("decompressing {}", source.display()))?
                .stdout;
            initramfs.add_bytes(&guest, &bytes, 0o644)?;
        }
        let deps: Vec<&str> = deps.iter().map(|dep| uncompressed(dep)).collect();
        dep.push_str(&format!("{plain}: {}\n", deps.join(" ")));
    }
    initramfs.add_bytes(&format!("{guest_dir}/modules.dep"), dep.as_bytes(), 0o644)?;
    initramfs.add_file(
        &dir.join("modules.builtin"),
        &format!("{guest_dir}/modules.builtin"),
        0o644,
    )
}

/// The stock kernel `setup` fetched; runs setup first when it has not.
pub(crate) fn kernel(paths: &Paths) -> anyhow::Result<StockKernel> {
    if setup::needed(paths) {
        println!("stock kernel: system packages or the stock kernel missing, running setup first");
        setup::run(paths)?;
    }
    current(paths)?.context("no stock kernel in the cache (run `cargo xtask setup`)")
}

/// Whether `setup` has fetched a stock kernel (cheap: no apt).
pub(crate) fn fetched(paths: &Paths) -> bool {
    current(paths).is_ok_and(|kernel| kernel.is_some())
}

/// The cache of stock kernels: one directory per package version, and `current`, the
/// version `setup` chose last.
fn cache(paths: &Paths) -> PathBuf {
    paths.cache.join("stock")
}

/// The unpacked kernel named by `stock/current`, if it is complete.
fn current(paths: &Paths) -> anyhow::Result<Option<StockKernel>> {
    let Ok(version) = std::fs::read_to_string(cache(paths).join("current")) else {
        return Ok(None);
    };
    let root = cache(paths).join(version.trim()).join("root");
    let Ok(entries) = std::fs::read_dir(root.join("lib/modules")) else {
        return Ok(None);
    };
    let releases = entries
        .map(|entry| Ok(entry?.file_name().to_string_lossy().into_owned()))
        .collect::<std::io::Result<Vec<_>>>()?;
    let [release] = releases.as_slice() else {
        bail!("{} holds {releases:?}, not one kernel", root.display());
    };
    Ok(Some(StockKernel {
        release: release.clone(),
        version: version.trim().to_owned(),
        root,
    }))
}

/// `setup`'s part: finds the kernel package `linux-image-amd64` depends on today, downloads
/// and unpacks it unless that version is already unpacked, and generates its `modules.dep`
/// as the package's own install would (with busybox `depmod`).
pub(crate) fn fetch(sh: &Shell, paths: &Paths) -> anyhow::Result<()> {
    let (package, version) = match resolve(sh) {
        Ok(found) => found,
        Err(_) if setup::is_root(sh) => {
            // A machine whose package lists were never downloaded knows no kernel yet.
            cmd!(sh, "apt-get update -q")
                .env("DEBIAN_FRONTEND", "noninteractive")
                .run()?;
            resolve(sh)?
        }
        Err(error) => return Err(error),
    };
    let dir = cache(paths).join(&version);
    let root = dir.join("root");
    if !root.exists() {
        println!("setup: downloading the stock kernel {package} {version} (about 70 MB)");
        if dir.exists() {
            sh.remove_path(&dir)?; // an interrupted earlier attempt
        }
        sh.create_dir(&dir)?;
        let deb = Apt::system().download(sh, &dir, &package, &version)?;
        let unpacking = dir.join("unpacking");
        cmd!(sh, "dpkg-deb -x {deb} {unpacking}").quiet().run()?;
        let release = package
            .strip_prefix("linux-image-")
            .context("kernel package name")?;
        cmd!(sh, "busybox depmod -b {unpacking} {release}")
            .quiet()
            .run()
            .context("generating modules.dep with busybox depmod")?;
        std::fs::rename(&unpacking, &root)?;
        sh.remove_path(&deb)?;
    }
    sh.write_file(cache(paths).join("current"), &version)?;
    // Older versions are of no further use.
    for entry in std::fs::read_dir(cache(paths))? {
        let path = entry?.path();
        if path.is_dir() && path != dir {
            sh.remove_path(&path)?;
        }
    }
    let kernel = current(paths)?.context("the unpacked stock kernel is incomplete")?;
    println!(
        "setup: stock kernel {} ({package} {}) in {}",
        kernel.release,
        kernel.version,
        kernel.root.display()
    );
    Ok(())
}

/// The kernel package `linux-image-amd64` depends on, and the version apt would install.
fn resolve(sh: &Shell) -> anyhow::Result<(String, String)> {
    Apt::system()
        .kernel_of(sh, META_PACKAGE)?
        .with_context(|| format!("no kernel among {META_PACKAGE}'s dependencies"))
}

/// A module's path without its compression suffix: `fat.ko.xz` -> `fat.ko`.
fn uncompressed(path: &str) -> &str {
    path.strip_suffix(".xz").unwrap_or(path)
}

/// A module's name from its path, as modprobe compares names: `-` and `_` are the same.
fn module_name(path: &str) -> Option<String> {
    let file = path.rsplit('/').next()?;
    Some(uncompressed(file).strip_suffix(".ko")?.replace('-', "_"))
}

/// The modules to ship for `names`: each with its `modules.dep` line (the line already lists
/// every module it needs, transitively), keyed by path; built-in names need none.
fn closure<'a>(
    modules_dep: &'a str,
    builtin: &str,
    names: &[&str],
) -> anyhow::Result<BTreeMap<&'a str, Vec<&'a str>>> {
    let mut lines = BTreeMap::new();
    for line in modules_dep.lines() {
        let Some((module, deps)) = line.split_once(':') else {
            continue;
        };
        if let Some(name) = module_name(module) {
            lines.insert(name, (module, deps.split_whitespace().collect::<Vec<_>>()));
        }
    }
    let builtin: BTreeSet<String> = builtin.lines().filter_map(module_name).collect();
    let mut chosen = BTreeMap::new();
    let mut wanted: Vec<String> = names.iter().map(|name| name.replace('-', "_")).collect();
    while let Some(name) = wanted.pop() {
        if builtin.contains(&name) {
            continue;
        }
        let Some((module, deps)) = lines.get(&name) else {
            bail!("the kernel has no module `{name}` (not in modules.dep, not built in)");
        };
        if chosen.insert(*module, deps.clone()).is_none() {
            wanted.extend(deps.iter().filter_map(|dep| module_name(dep)));
        }
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_come_with_their_dependencies_and_built_ins_with_none() {
        let dep = "kernel/drivers/usb/usbip/vhci-hcd.ko: kernel/drivers/usb/usbip/usbip-core.ko kernel/drivers/usb/core/usbcore.ko\n\
                   kernel/drivers/usb/usbip/usbip-core.ko: kernel/drivers/usb/core/usbcore.ko\n\
                   kernel/drivers/usb/core/usbcore.ko:\n\
                   kernel/fs/fat/vfat.ko: kernel/fs/fat/fat.ko\n\
                   kernel/fs/fat/fat.ko:\n";
        let builtin = "kernel/fs/nls/nls_base.ko\n";
        let chosen = closure(dep, builtin, &["vhci_hcd", "nls-base"]).unwrap();
        assert_eq!(
            chosen.keys().copied().collect::<Vec<_>>(),
            [
                "kernel/drivers/usb/core/usbcore.ko",
                "kernel/drivers/usb/usbip/usbip-core.ko",
                "kernel/drivers/usb/usbip/vhci-hcd.ko",
            ]
        );
        assert_eq!(
            chosen["kernel/drivers/usb/usbip/vhci-hcd.ko"],
            [
                "kernel/drivers/usb/usbip/usbip-core.ko",
                "kernel/drivers/usb/core/usbcore.ko"
            ]
        );
        assert!(closure(dep, builtin, &["g_mass_storage"]).is_err());
    }

    #[test]
    fn compressed_modules_have_the_names_of_plain_ones() {
        let dep = "kernel/fs/fat/vfat.ko.xz: kernel/fs/fat/fat.ko.xz\nkernel/fs/fat/fat.ko.xz:\n";
        let chosen = closure(dep, "", &["vfat"]).unwrap();
        assert_eq!(
            chosen.keys().copied().collect::<Vec<_>>(),
            ["kernel/fs/fat/fat.ko.xz", "kernel/fs/fat/vfat.ko.xz"]
        );
        assert_eq!(
            uncompressed("kernel/fs/fat/fat.ko.xz"),
            "kernel/fs/fat/fat.ko"
        );
        assert_eq!(uncompressed("kernel/fs/fat/fat.ko"), "kernel/fs/fat/fat.ko");
    }
}
