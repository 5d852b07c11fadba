//! The build root for Debian forky's kernel: a minimal forky system that `mmdebstrap` makes
//! from the Debian archive, with the toolchain that kernel was built with: forky's own rustc
//! (a Debian build: another build of the same version cannot read the kernel's Rust
//! metadata), bindgen, the gcc its configuration names, pahole. Made once per kernel package
//! version in `~/.cache/vusbkey/distro/<version>/root/`; the system is never touched.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context};
use xshell::{cmd, Shell};

use crate::chroot::{self, Chroot};
use crate::distro_kernel::{DistroKernel, SUITE};
use crate::{debian_suite, kdir, progress, setup};

/// What a kernel build needs besides the C compiler its configuration names.
const PACKAGES: &[&str] = &[
    "rustc",
    "rust-src",
    "bindgen",
    "libclang-dev",
    "gcc",
    "make",
    "bc",
    "flex",
    "bison",
    "libelf-dev",
    "libssl-dev",
    "python3",
    "kmod",
    "cpio",
    "rsync",
    "dwarves",
    // vusbkey-dkms's .deb is installed there and builds the module (`distro_kmod`).
    "dkms",
];

/// The packages whose versions make the toolchain (with the compiler's), as printed.
const TOOLCHAIN: &[&str] = &["rustc", "rust-src", "bindgen", "dwarves"];

/// Settings of the system's apt that mmdebstrap (which reads only its own configuration)
/// follows when the system sets them: a frozen mirror serves suites whose `Release` files
/// have expired, and the system's apt is then told not to check their dates.
const INHERITED_APT_OPTIONS: &[&str] = &["Acquire::Check-Valid-Until", "Acquire::Check-Date"];

/// A build root.
pub(crate) struct BuildRoot {
    /// Its directory.
    pub(crate) dir: PathBuf,
    /// The C compiler the kernel was built with, as its configuration names it (e.g.
    /// `x86_64-linux-gnu-gcc-16`): modules are built with it too (`CC=`).
    pub(crate) cc: String,
    /// The kernel's `CONFIG_RUSTC_VERSION_TEXT`, which the root's rustc prints.
    pub(crate) rustc_version_text: String,
}

/// The build root for `kernel`, made unless it exists, with its rustc checked against the
/// kernel's configuration.
pub(crate) fn ensure(sh: &Shell, kernel: &DistroKernel) -> anyhow::Result<BuildRoot> {
    let config = sh.read_file(kernel.config())?;
    let (cc, rustc_version_text) = compilers(&kdir::parse_config(&config)).with_context(|| {
        format!(
            "Debian {SUITE}'s kernel {} ({})",
            kernel.release,
            kernel.config().display()
        )
    })?;
    let root = BuildRoot {
        dir: kernel.root_dir(),
        cc,
        rustc_version_text,
    };
    if root.dir.exists() {
        let missing = missing_packages(sh, &root);
        if !missing.is_empty() {
            println!(
                "distro: the build root {} lacks {} (the project's list grew): making it again",
                root.dir.display(),
                missing.join(", ")
            );
            chroot::remove(&root.dir)?;
        }
    }
    if !root.dir.exists() {
        create(sh, kernel, &root)?;
    }
    let manifest = sh.read_file(manifest(&root))?;
    println!(
        "distro: build root {} (Debian {SUITE}): {}",
        root.dir.display(),
        manifest.lines().collect::<Vec<_>>().join(", ")
    );
    let mut chroot = Chroot::enter(&root.dir)?;
    chroot.mount_proc()?;
    let rustc = chroot.read("rustc", &["--version"])?;
    if rustc != root.rustc_version_text {
        bail!(
            "the build root's rustc prints \"{rustc}\", but Debian {SUITE}'s kernel {} ({}) was \
             built with \"{}\": its Rust metadata loads only into that compiler build (else \
             E0514), and the archive no longer serves it. A module for this kernel needs \
             {SUITE}'s next kernel, built with the current rustc",
            kernel.release,
            kernel.version,
            root.rustc_version_text
        );
    }
    Ok(root)
}

/// The kernel's C compiler (from `CONFIG_CC_VERSION_TEXT`, e.g. `x86_64-linux-gnu-gcc-16
/// (Debian 16.2.0-3) 16.2.0`) and `CONFIG_RUSTC_VERSION_TEXT`.
fn compilers(config: &BTreeMap<&str, &str>) -> anyhow::Result<(String, String)> {
    if config.get("CONFIG_RUST") != Some(&"y") {
        bail!("built without Rust (CONFIG_RUST is not set): it cannot load vusbkey.ko");
    }
    if config.get("CONFIG_CC_IS_GCC") != Some(&"y") {
        bail!("not built with gcc: the build root provides gcc only");
    }
    let cc = kdir::gcc_command(config).context("no gcc named in CONFIG_CC_VERSION_TEXT")?;
    let rustc = kdir::rustc_version_text(config).context("no CONFIG_RUSTC_VERSION_TEXT")?;
    Ok((cc.to_owned(), rustc.to_string()))
}

/// The packages of [`PACKAGES`] and the compiler's that the root does not have installed.
fn missing_packages(sh: &Shell, root: &BuildRoot) -> Vec<String> {
    let admindir = root.dir.join("var/lib/dpkg");
    let format = "-f=${Status}";
    PACKAGES
        .iter()
        .copied()
        .chain([compiler_package(&root.cc)])
        .filter(|package| {
            cmd!(sh, "dpkg-query --admindir={admindir} -W {format} {package}")
                .quiet()
                .ignore_stderr()
                .read()
                .map_or(true, |status| status != "install ok installed")
        })
        .map(str::to_owned)
        .collect()
}

/// The Debian package of a compiler: `x86_64-linux-gnu-gcc-16` -> `gcc-16`.
fn compiler_package(cc: &str) -> &str {
    cc.rfind("gcc").map_or(cc, |at| &cc[at..])
}

/// The file listing the root's toolchain packages and versions, one per line.
fn manifest(root: &BuildRoot) -> PathBuf {
    root.dir.with_extension("toolchain")
}

/// Runs mmdebstrap into a staging directory, then moves it into place and writes its manifest.
fn create(sh: &Shell, kernel: &DistroKernel, root: &BuildRoot) -> anyhow::Result<()> {
    if !setup::is_root(sh) {
        bail!("making the build root for Debian {SUITE}'s kernel (mmdebstrap) needs root");
    }
    let staging = root.dir.with_extension("partial");
    if staging.exists() {
        chroot::remove(&staging)?;
    }
    let compiler = compiler_package(&root.cc);
    let mut include = PACKAGES.to_vec();
    include.push(compiler);
    println!(
        "distro: making the build root for {} with mmdebstrap from Debian {SUITE} (about 800 MB \
         to download, 1-2 minutes)",
        kernel.release
    );
    let mut mmdebstrap = Command::new("mmdebstrap");
    mmdebstrap
        .args(["--mode=root", "--variant=minbase"])
        .arg(format!("--include={}", include.join(",")))
        .arg("--aptopt=Acquire::Languages \"none\"");
    for option in inherited_apt_options(sh) {
        mmdebstrap.arg(format!("--aptopt={option}"));
    }
    mmdebstrap
        .arg(SUITE)
        .arg(&staging)
        .arg(debian_suite::sources_line(sh, SUITE));
    let log = kernel.dir.join("mmdebstrap.log");
    progress::run_logged("build root (mmdebstrap)", mmdebstrap, &log)?;
    let admindir = staging.join("var/lib/dpkg");
    let format = "-f=${Package} ${Version}\n";
    let packages = TOOLCHAIN.iter().copied().chain([compiler]);
    let versions = cmd!(
        sh,
        "dpkg-query --admindir={admindir} -W {format} {packages...}"
    )
    .quiet()
    .read()
    .context("listing the build root's toolchain")?;
    std::fs::rename(&staging, &root.dir)?;
    sh.write_file(manifest(root), format!("{versions}\n"))?;
    Ok(())
}

/// `NAME "false";` for each of [`INHERITED_APT_OPTIONS`] the system's apt sets to false.
fn inherited_apt_options(sh: &Shell) -> Vec<String> {
    let dump = cmd!(sh, "apt-config dump")
        .quiet()
        .ignore_stderr()
        .read()
        .unwrap_or_default();
    disabled_checks(&dump)
}

fn disabled_checks(dump: &str) -> Vec<String> {
    INHERITED_APT_OPTIONS
        .iter()
        .filter(|name| {
            dump.lines()
                .any(|line| line == format!("{name} \"false\";"))
        })
        .map(|name| format!("{name} \"false\""))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines of Debian forky's 7.2.12 configuration that matter here.
    const FORKY_CONFIG: &str = "\
CONFIG_CC_VERSION_TEXT=\"x86_64-linux-gnu-gcc-16 (Debian 16.2.0-3) 16.2.0\"
CONFIG_CC_IS_GCC=y
CONFIG_RUSTC_VERSION_TEXT=\"rustc 1.97.1 (8bab26f4f 2026-07-14) (built from a source tarball)\"
CONFIG_RUST=y
";

    #[test]
    fn the_compilers_come_from_the_kernel_configuration() {
        let (cc, rustc) = compilers(&kdir::parse_config(FORKY_CONFIG)).unwrap();
        assert_eq!(cc, "x86_64-linux-gnu-gcc-16");
        assert_eq!(compiler_package(&cc), "gcc-16");
        assert_eq!(compiler_package("gcc"), "gcc");
        assert_eq!(
            rustc,
            "rustc 1.97.1 (8bab26f4f 2026-07-14) (built from a source tarball)"
        );
        let no_rust = FORKY_CONFIG.replace("CONFIG_RUST=y", "# CONFIG_RUST is not set");
        assert!(compilers(&kdir::parse_config(&no_rust)).is_err());
    }

    #[test]
    fn only_checks_the_system_disables_are_disabled_for_mmdebstrap() {
        let dump = "Acquire::Check-Valid-Until \"false\";\nAcquire::Check-Date \"true\";\n";
        assert_eq!(
            disabled_checks(dump),
            ["Acquire::Check-Valid-Until \"false\""]
        );
        assert!(disabled_checks("APT \"\";\n").is_empty());
    }
}
