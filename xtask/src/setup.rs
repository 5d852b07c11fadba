//! `cargo xtask setup`: installs the system packages and tools, fetches Debian's stock
//! kernel, and Debian forky's kernel with the build root that builds modules for it,
//! skipping what is present.

use std::path::PathBuf;

use anyhow::{bail, Context};
use xshell::{cmd, Shell};

use crate::paths::Paths;
use crate::{distro_kmod, stock};

/// Debian packages the build and the tests need (see TOOLCHAIN.md for why each is there).
const PACKAGES: &[&str] = &[
    // Rust-enabled kernel build: Debian's rustc with the core/alloc sources.
    "rustc-web",
    "rust-web-src",
    "linux-source-6.12",
    "clang-19",
    "lld-19",
    "llvm-19",
    "libclang-19-dev",
    "flex",
    "bison",
    "bc",
    "libelf-dev",
    "libssl-dev",
    "cpio",
    "dwarves",
    "make",
    "xz-utils",
    // VMs and the tools the tests run.
    "qemu-system-x86",
    "busybox-static",
    "dosfstools",
    "mtools",
    "openssl",
    "sg3-utils",
    // perf, for the benchmark's profiles of where the VM's time goes.
    "linux-perf",
    // The monitor's dashboard, loaded in a real browser by `cargo xtask test`.
    "chromium",
    // USB/IP tools (`usbip attach`, `usbip port`) for the VMs on Debian's stock kernel.
    "usbip",
    // The build root for Debian forky's kernel (the `distro` VM suite).
    "mmdebstrap",
    // `dkms build` of `cargo xtask package`'s .deb (the `dkms` VM suite).
    "dkms",
];

/// bindgen version the kernel build uses (6.12 needs >= 0.65.1; Debian's is older).
const BINDGEN_VERSION: &str = "0.73.2";

/// Installs whatever is missing.
pub(crate) fn run(paths: &Paths) -> anyhow::Result<()> {
    let sh = Shell::new()?;
    let missing: Vec<&str> = PACKAGES
        .iter()
        .copied()
        .filter(|package| !installed(&sh, package))
        .collect();
    if missing.is_empty() {
        println!("setup: all {} system packages present", PACKAGES.len());
    } else {
        install_packages(&sh, &missing)?;
    }
    stock::fetch(&sh, paths)?;
    install_bindgen(&sh)?;
    // Only the `distro` suite needs these, and it tries again itself: not a reason to fail.
    if let Err(error) = distro_kmod::setup(paths) {
        println!(
            "setup: note: Debian forky's kernel or its build root is not ready (the `distro` \
             VM suite will try again): {error:#}"
        );
    }
    Ok(())
}

/// Whether `setup` has anything left to do (cheap enough to ask before every command).
pub(crate) fn needed(paths: &Paths) -> bool {
    let Ok(sh) = Shell::new() else { return true };
    PACKAGES.iter().any(|package| !installed(&sh, package))
        || !bindgen_ok(&sh)
        || !stock::fetched(paths)
}

/// Whether this runs as root (who may install packages).
pub(crate) fn is_root(sh: &Shell) -> bool {
    cmd!(sh, "id -u").quiet().read().is_ok_and(|uid| uid == "0")
}

/// Path of the bindgen binary `setup` installs.
pub(crate) fn bindgen() -> PathBuf {
    cargo_home().join("bin/bindgen")
}

fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo")
        })
}

fn installed(sh: &Shell, package: &str) -> bool {
    let format = "-f=${Status}";
    cmd!(sh, "dpkg-query -W {format} {package}")
        .quiet()
        .ignore_stderr()
        .read()
        .is_ok_and(|status| status == "install ok installed")
}

fn install_packages(sh: &Shell, missing: &[&str]) -> anyhow::Result<()> {
    let list = missing.join(" ");
    println!(
        "setup: installing {} Debian packages: {list}",
        missing.len()
    );
    if !is_root(sh) {
        bail!(
            "installing system packages needs root; run as root:\n  \
             apt-get update && apt-get install -y --no-install-recommends {list}\n\
             then run this command again"
        );
    }
    let apt = || -> anyhow::Result<()> {
        cmd!(sh, "apt-get update -q")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .run()?;
        cmd!(
            sh,
            "apt-get install -y -q --no-install-recommends {missing...}"
        )
        .env("DEBIAN_FRONTEND", "noninteractive")
        .run()?;
        Ok(())
    };
    apt().with_context(|| {
        format!(
            "apt-get failed; fix the package sources and run by hand:\n  \
             apt-get update && apt-get install -y --no-install-recommends {list}"
        )
    })
}

fn bindgen_ok(sh: &Shell) -> bool {
    let bindgen = bindgen();
    cmd!(sh, "{bindgen} --version")
        .quiet()
        .ignore_stderr()
        .read()
        .is_ok_and(|version| version.trim() == format!("bindgen {BINDGEN_VERSION}"))
}

fn install_bindgen(sh: &Shell) -> anyhow::Result<()> {
    if bindgen_ok(sh) {
        println!("setup: bindgen {BINDGEN_VERSION} present");
        return Ok(());
    }
    println!("setup: installing bindgen-cli {BINDGEN_VERSION} with cargo (about 2 minutes)");
    cmd!(
        sh,
        "cargo install --locked bindgen-cli --version {BINDGEN_VERSION}"
    )
    .run()
    .context("`cargo install bindgen-cli` failed (crates.io must be reachable)")
}
