//! vusbkey.ko for Debian forky's own kernel, unmodified: a tree prepared in the build root
//! (`modules_prepare` on forky's `linux-source-<line>` with the package's configuration,
//! which writes the Rust metadata its headers package lacks, plus the package's
//! `Module.symvers`), then the module built against it there. When modpost cannot resolve
//! the module's Rust symbols against the kernel's, the error names the crate whose hash
//! differs. The module is built a second way too, as an operator's forky host would:
//! `cargo xtask package`'s `vusbkey-dkms` installed with dpkg in the root, built by forky's
//! own DKMS against the prepared tree (a gcc-built kernel), and purged again.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use xshell::Shell;

use crate::build_root::{self, BuildRoot};
use crate::chroot::Chroot;
use crate::distro_kernel::{self, DistroKernel, SUITE};
use crate::kernel_source::{self, Source};
use crate::line::Line;
use crate::paths::Paths;
use crate::{kdir, kernel, kmod, package, progress, rust_symbols, setup};

/// The prepared tree, in the build root (`O=`).
const BUILD: &str = "/build";
/// Where the kernel source is mounted in the build root, read-only.
const SOURCE: &str = "/src";
/// Options `olddefconfig` must leave as the package set them: a change means the root's
/// toolchain is not the kernel's.
const KEPT_OPTIONS: &[&str] = &["CONFIG_RUST", "CONFIG_RUSTC_VERSION_TEXT"];

/// A module built for the suite's kernel.
pub(crate) struct DistroModule {
    /// The kernel.
    pub(crate) kernel: DistroKernel,
    /// `vusbkey.ko`.
    pub(crate) ko: PathBuf,
    /// `vusbkey.ko` as forky's DKMS built it from the package.
    pub(crate) dkms_ko: PathBuf,
}

/// Everything a module build for the suite's kernel needs, made unless cached.
struct Prepared {
    kernel: DistroKernel,
    root: BuildRoot,
    source: Source,
}

/// `setup`'s part: the suite's kernel, its build root and the prepared tree.
pub(crate) fn setup(paths: &Paths) -> anyhow::Result<()> {
    let _lock = kernel::lock(paths, "kernel", "distro")?;
    prepare(paths).map(drop)
}

/// Builds the module for the suite's kernel with `image` compiled in, in
/// `target/kmod/distro-<release>-<variant>/` (running setup first when it is needed).
pub(crate) fn build(paths: &Paths, image: &Path, variant: &str) -> anyhow::Result<DistroModule> {
    if setup::needed(paths) {
        // Before the lock: setup takes it for its own part (`setup` above).
        println!("distro: system packages missing, running setup first");
        setup::run(paths)?;
    }
    let _lock = kernel::lock(paths, "kernel", "distro")?;
    let Prepared {
        kernel,
        root,
        source,
    } = prepare(paths)?;
    let target = paths.target();
    std::fs::create_dir_all(&target)?;
    let mut chroot = Chroot::enter(&root.dir)?;
    chroot.bind(&source.dir, Path::new(SOURCE), true)?;
    chroot.mount_proc()?;
    // At its own path, so that `kmod` builds in its directory under it (`M=`) as on the host.
    chroot.bind(&target.canonicalize()?, &target, false)?;
    // What modpost resolved the module's symbols against.
    let symvers = chroot.host_path(Path::new(BUILD))?.join("Module.symvers");
    let name = format!("distro-{}-{variant}", kernel.release);
    let built = kmod::compile(
        paths,
        make(&chroot, &root, &kernel),
        Path::new(BUILD),
        &name,
        &[image],
    );
    drop(chroot);
    let dir = target.join("kmod").join(&name);
    let symvers = std::fs::read(&symvers)?;
    let ko = match built {
        Ok(ko) => ko,
        Err(error) => return Err(explain_undefined(error, &dir, &symvers, &kernel)),
    };
    let shared = rust_symbols::shared(
        &rust_symbols::crate_hashes(&symvers),
        &rust_symbols::crate_hashes(&std::fs::read(&ko)?),
    );
    println!(
        "kmod ({name}): the module names its crates as the kernel's Module.symvers does: {}",
        shared.join(", ")
    );
    let dkms_ko = build_with_dkms(paths, &kernel, &root, &source, image)?;
    Ok(DistroModule {
        kernel,
        ko,
        dkms_ko,
    })
}

/// The module as vusbkey-dkms builds it on a forky host, in `target/dkms/distro/`: the
/// package of `image` installed with `dpkg -i` in the build root (its postinst registers the
/// sources with forky's DKMS), `dkms build` against the prepared tree, the module copied
/// out, then `dpkg --purge` (its prerm removes the module from DKMS, checked).
fn build_with_dkms(
    paths: &Paths,
    kernel: &DistroKernel,
    root: &BuildRoot,
    source: &Source,
    image: &Path,
) -> anyhow::Result<PathBuf> {
    let package = package::make(paths, image)?;
    let out = paths.target().join("dkms").join("distro");
    if out.exists() {
        std::fs::remove_dir_all(&out)?;
    }
    std::fs::create_dir_all(&out)?;
    let out = out.canonicalize()?;
    let deb = out.join(package.deb.file_name().context("no file name")?);
    std::fs::copy(&package.deb, &deb)?;
    let mut chroot = Chroot::enter(&root.dir)?;
    chroot.bind(&source.dir, Path::new(SOURCE), true)?;
    chroot.mount_proc()?;
    chroot.bind(&out, &out, false)?;
    let mut install = chroot.command("dpkg");
    install.arg("-i").arg(&deb);
    progress::run_logged(
        "distro: dpkg -i vusbkey-dkms",
        install,
        &out.join("dpkg-install.log"),
    )?;
    let mut build = chroot.command("dkms");
    build
        .args(["build", "-m", package::MODULE, "-v", &package.version])
        .args(["-k", &kernel.release, "--kernelsourcedir", BUILD]);
    progress::run_logged("distro: dkms build", build, &out.join("dkms-build.log"))?;
    let built =
        chroot.host_path(&package.built_module_dir(Path::new("/var/lib/dkms"), &kernel.release))?;
    let ko = out.join("vusbkey.ko");
    copy_module(&built, &ko)?;
    let mut purge = chroot.command("dpkg");
    purge.args(["--purge", package::PACKAGE]);
    progress::run_logged(
        "distro: dpkg --purge vusbkey-dkms",
        purge,
        &out.join("dpkg-purge.log"),
    )?;
    let left = chroot.read("dkms", &["status", "-m", package::MODULE])?;
    if !left.is_empty() {
        bail!(
            "after dpkg --purge {}, DKMS still has: {left}",
            package::PACKAGE
        );
    }
    let vermagic = kmod::vermagic(&ko)?;
    if !vermagic.starts_with(&format!("{} ", kernel.release)) {
        bail!(
            "{} has vermagic \"{vermagic}\", not for {}",
            ko.display(),
            kernel.release
        );
    }
    println!(
        "kmod (distro, DKMS): {} built by Debian {SUITE}'s DKMS from {} (vermagic {})",
        ko.display(),
        package.deb.display(),
        vermagic.trim_end()
    );
    Ok(ko)
}

/// Copies the module DKMS left in `dir` to `to`, uncompressing it when DKMS compressed it as
/// the kernel's own modules are (`.ko.xz`, `.ko.zst`).
fn copy_module(dir: &Path, to: &Path) -> anyhow::Result<()> {
    let plain = dir.join("vusbkey.ko");
    if plain.exists() {
        std::fs::copy(&plain, to)?;
        return Ok(());
    }
    for (suffix, tool) in [("xz", "xz"), ("zst", "zstd")] {
        let compressed = dir.join(format!("vusbkey.ko.{suffix}"));
        if compressed.exists() {
            let output = std::process::Command::new(tool)
                .arg("-dc")
                .arg(&compressed)
                .output()
                .with_context(|| format!("running {tool}"))?;
            if !output.status.success() {
                bail!(
                    "{tool} -dc {} failed ({})",
                    compressed.display(),
                    output.status
                );
            }
            std::fs::write(to, output.stdout)?;
            return Ok(());
        }
    }
    bail!("DKMS left no vusbkey.ko in {}", dir.display())
}

/// The kernel, its build root and the prepared tree, each made unless cached; older kernels'
/// are removed. The caller holds the kernel builds lock.
fn prepare(paths: &Paths) -> anyhow::Result<Prepared> {
    let sh = Shell::new()?;
    let kernel = distro_kernel::fetch(&sh, paths)?;
    let line = Line::of_release(&kernel.release).with_context(|| {
        format!(
            "Debian {SUITE}'s kernel is {}, of no line the project builds (see line.rs)",
            kernel.release
        )
    })?;
    let source = kernel_source::extract(&sh, paths, line)?;
    if source.version != kernel.version {
        bail!(
            "Debian {SUITE}'s kernel {} is version {} but its {} is {}: the tree must be \
             prepared from the kernel's own source (try again once the archive has both at one \
             version)",
            kernel.release,
            kernel.version,
            line.package(),
            source.version
        );
    }
    let root = build_root::ensure(&sh, &kernel)?;
    prepare_tree(&sh, &kernel, &root, &source)?;
    distro_kernel::remove_others(paths, &kernel)?;
    println!(
        "distro: Debian {SUITE}'s kernel {} (package {}), tree prepared from {} {} in {}{BUILD}",
        kernel.release,
        kernel.version,
        line.package(),
        source.version,
        root.dir.display()
    );
    Ok(Prepared {
        kernel,
        root,
        source,
    })
}

/// `make` in the build root with the kernel's compiler and release (the source's own
/// version would lack Debian's `+deb14-amd64`).
fn make(chroot: &Chroot, root: &BuildRoot, kernel: &DistroKernel) -> std::process::Command {
    let mut make = chroot.command("make");
    make.arg(format!("CC={}", root.cc))
        .arg(format!("KERNELRELEASE={}", kernel.release));
    make
}

/// Prepares `/build` in the root unless it is prepared for this kernel: the package's
/// `.config`, `olddefconfig`, `modules_prepare` (the Rust metadata: `rust/*.rmeta`,
/// `libmacros.so`), then the package's `Module.symvers`.
fn prepare_tree(
    sh: &Shell,
    kernel: &DistroKernel,
    root: &BuildRoot,
    source: &Source,
) -> anyhow::Result<()> {
    let mut chroot = Chroot::enter(&root.dir)?;
    let build = chroot.host_path(Path::new(BUILD))?;
    let stamp = build.join(".vusbkey-prepared");
    let key = format!("{} {}", kernel.version, root.rustc_version_text);
    if sh.read_file(&stamp).is_ok_and(|s| s == key) {
        return Ok(());
    }
    if build.exists() {
        sh.remove_path(&build)?;
    }
    sh.create_dir(&build)?;
    let package_config = sh.read_file(kernel.config())?;
    sh.write_file(build.join(".config"), &package_config)?;
    chroot.bind(&source.dir, Path::new(SOURCE), true)?;
    chroot.mount_proc()?;
    let tree = |make: &mut std::process::Command| {
        make.arg("-C").arg(SOURCE).arg(format!("O={BUILD}"));
    };
    let mut olddefconfig = make(&chroot, root, kernel);
    tree(&mut olddefconfig);
    let status = olddefconfig.args(["-s", "olddefconfig"]).status()?;
    if !status.success() {
        bail!("make olddefconfig in the build root failed ({status})");
    }
    let config = sh.read_file(build.join(".config"))?;
    check_config(&package_config, &config)?;
    println!(
        "distro: preparing the tree for {} (modules_prepare, about 2 minutes on 2 cores)",
        kernel.release
    );
    let jobs = std::thread::available_parallelism().map_or(2, |n| n.get() + 1);
    let mut modules_prepare = make(&chroot, root, kernel);
    tree(&mut modules_prepare);
    modules_prepare
        .arg(format!("-j{jobs}"))
        .arg("modules_prepare");
    let log = kernel.dir.join("modules_prepare.log");
    progress::run_logged("distro: modules_prepare", modules_prepare, &log)?;
    drop(chroot);
    std::fs::copy(kernel.module_symvers(), build.join("Module.symvers"))
        .context("copying the kernel's Module.symvers into the prepared tree")?;
    sh.write_file(&stamp, &key)?;
    Ok(())
}

/// Prints what `olddefconfig` changed in the package's configuration, and fails if that
/// includes one of [`KEPT_OPTIONS`].
fn check_config(package: &str, prepared: &str) -> anyhow::Result<()> {
    let changed = changed_options(package, prepared);
    if !changed.is_empty() {
        println!(
            "distro: olddefconfig changed {} of the package's options: {}",
            changed.len(),
            changed.join(", ")
        );
    }
    let broken: Vec<&str> = changed
        .iter()
        .copied()
        .filter(|name| KEPT_OPTIONS.contains(name))
        .collect();
    if !broken.is_empty() {
        bail!(
            "olddefconfig in the build root changed {}: its toolchain is not the one the \
             kernel was built with",
            broken.join(", ")
        );
    }
    Ok(())
}

/// The options whose values differ between two configurations (set in one only included).
fn changed_options<'a>(before: &'a str, after: &'a str) -> Vec<&'a str> {
    let before = kdir::parse_config(before);
    let after = kdir::parse_config(after);
    let mut names: Vec<&str> = before
        .keys()
        .chain(after.keys())
        .copied()
        .filter(|name| before.get(name) != after.get(name))
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// `error` (a failed module build), with what modpost's undefined Rust symbols mean: which
/// crate the module and the kernel hash differently, or that they agree and the symbols are
/// simply not exported.
fn explain_undefined(
    error: anyhow::Error,
    dir: &Path,
    symvers: &[u8],
    kernel: &DistroKernel,
) -> anyhow::Error {
    let log = std::fs::read_to_string(dir.join("build.log")).unwrap_or_default();
    let undefined = rust_symbols::undefined(&log);
    let Some(first) = undefined.first() else {
        return error;
    };
    let object = ["vusbkey.o", "vusbkey_main.o"]
        .iter()
        .find_map(|file| std::fs::read(dir.join(file)).ok())
        .unwrap_or_default();
    let mismatches = rust_symbols::mismatches(
        &rust_symbols::crate_hashes(symvers),
        &rust_symbols::crate_hashes(&object),
    );
    let why = if mismatches.is_empty() {
        "every crate both name has the same hash, so the kernel does not export these symbols"
            .to_owned()
    } else {
        format!(
            "the crates were compiled differently:\n  {}",
            mismatches.join("\n  ")
        )
    };
    error.context(format!(
        "modpost: {} Rust symbols of vusbkey.ko are not in Debian {SUITE}'s kernel {} \
         Module.symvers (first: {first}); {why}",
        undefined.len(),
        kernel.release
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_changed_by_olddefconfig_are_listed_and_toolchain_ones_refused() {
        let package = "CONFIG_RUST=y\nCONFIG_MODULE_SIG_KEY=\"certs/signing_key.pem\"\nCONFIG_MODULE_SIG_ALL=y\n";
        let prepared = "CONFIG_RUST=y\nCONFIG_MODULE_SIG_KEY=\"\"\n";
        assert_eq!(
            changed_options(package, prepared),
            ["CONFIG_MODULE_SIG_ALL", "CONFIG_MODULE_SIG_KEY"]
        );
        assert!(check_config(package, prepared).is_ok());
        let error = check_config(package, "# CONFIG_RUST is not set\n").unwrap_err();
        assert!(error.to_string().contains("CONFIG_RUST"), "{error}");
    }
}
