//! `cargo xtask kernel --headers`: a distribution-style headers directory made from the
//! project's kernel build, the tree an operator's `/lib/modules/$(uname -r)/build` is,
//! and the check of `cargo xtask test` that the module builds against it.
//!
//! What goes in, and why (found by building vusbkey.ko against it, nothing else):
//! - what the kernel's own `scripts/package/install-extmod-build` copies, the script behind
//!   `make bindeb-pkg`'s `linux-headers` and Arch's `linux-headers`: the top `Makefile`,
//!   `Module.symvers`, `include/` (with the generated headers and `include/config/`),
//!   `arch/x86/include/` and the arch Makefiles, `scripts/` with its host programs (among
//!   them modpost, `scripts/module.lds` and the Rust target spec `scripts/target.json`),
//!   and `tools/objtool/objtool` when `CONFIG_OBJTOOL` is set;
//! - `.config`: not read by `make M=...`, but every distribution ships it and it is what
//!   an operator (or `kmod --kdir` on a tree without `auto.conf`) reads;
//! - `rust/*.rmeta`: the crates a Rust module is compiled against (`kernel`, and `core`,
//!   `bindings`, `uapi`, ... on which `kernel` depends, so rustc must load them too), and
//!   `rust/libmacros.so`, the `module!` proc macro. This is Ubuntu's `linux-lib-rust`.
//!
//! Left out: `System.map` (only `depmod` on an installed system reads it; Ubuntu ships it
//! with the image, not the headers), the sources, and every object file.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

use crate::kernel::{self, Flavour, Kernel};
use crate::line::Line;
use crate::paths::Paths;
use crate::results::Check;
use crate::{keydisk, kmod};

/// The script of the kernel's packaging that lists and copies the files external modules
/// build against (relative to the source tree).
const INSTALL_EXTMOD_BUILD: &str = "scripts/package/install-extmod-build";
/// A module the kernel built itself: the headers-built vusbkey.ko must carry its vermagic.
const IN_TREE_MODULE: &str = "drivers/usb/gadget/udc/dummy_hcd.ko";

/// Makes `target/headers/<line>-<flavour>/` from `kernel`, replacing an older one; returns it.
pub(crate) fn make(paths: &Paths, kernel: &Kernel) -> anyhow::Result<PathBuf> {
    let build = &kernel.build_dir;
    let (line, flavour) = (kernel.line, kernel.flavour);
    let dest = paths
        .target()
        .join("headers")
        .join(format!("{line}-{flavour}"));
    if dest.exists() {
        std::fs::remove_dir_all(&dest).with_context(|| format!("removing {}", dest.display()))?;
    }
    std::fs::create_dir_all(&dest)?;
    // The O= build directory links to its source tree.
    let source = build
        .join("source")
        .canonicalize()
        .with_context(|| format!("{} has no link to its source tree", build.display()))?;
    // Run as Kbuild would: from the build directory, with the source tree and the arch.
    // `LLVM=-19` made clang-19 both CC and HOSTCC: equal, they tell the script that the
    // host programs in scripts/ need no rebuild for the target's compiler.
    let clang = format!("clang-{}", kernel::CLANG_MAJOR);
    let status = Command::new("sh")
        .arg(source.join(INSTALL_EXTMOD_BUILD))
        .arg(&dest)
        .current_dir(build)
        .env("srctree", &source)
        .env("SRCARCH", "x86")
        .env("CC", &clang)
        .env("HOSTCC", &clang)
        .env("MAKE", "make")
        .status()
        .with_context(|| format!("running {INSTALL_EXTMOD_BUILD}"))?;
    if !status.success() {
        bail!(
            "{INSTALL_EXTMOD_BUILD} {} failed ({status})",
            dest.display()
        );
    }
    std::fs::copy(build.join(".config"), dest.join(".config"))?;
    std::fs::create_dir_all(dest.join("rust"))?;
    let mut rust_files = 0;
    for entry in std::fs::read_dir(build.join("rust"))? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        if name.ends_with(".rmeta") || name == "libmacros.so" {
            std::fs::copy(
                build.join("rust").join(&*name),
                dest.join("rust").join(&*name),
            )?;
            rust_files += 1;
        }
    }
    println!(
        "headers ({line} {flavour}): {} ({} MB, {rust_files} files in rust/)",
        dest.display(),
        size(&dest)? / 1_000_000
    );
    Ok(dest)
}

/// Bytes of the regular files under `dir` (symbolic links not followed).
fn size(dir: &Path) -> anyhow::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            total += size(&entry.path())?;
        } else if kind.is_file() {
            total += entry.metadata()?.len();
        }
    }
    Ok(total)
}

/// The check of `cargo xtask test`: the 6.12 debug kernel's headers directory, vusbkey.ko built
/// against it with `--kdir`, and its vermagic equal to the kernel's own modules'.
pub(crate) fn check(paths: &Paths) -> Check {
    Check::host("kmod-headers-build", run_check(paths))
}

fn run_check(paths: &Paths) -> anyhow::Result<String> {
    let kernel = kernel::build(paths, Line::V6_12, Flavour::Debug)?;
    let dir = make(paths, &kernel)?;
    let image = keydisk::make(paths)?.image;
    let ko = kmod::build_kdir(paths, &dir, &[image], "headers")?;
    Ok(format!("vermagic {}", same_vermagic(&kernel, &ko)?))
}

/// The vermagic of `ko`, built outside `kernel`'s tree, if it is that of the modules the
/// kernel built itself (else an error).
pub(crate) fn same_vermagic(kernel: &Kernel, ko: &Path) -> anyhow::Result<String> {
    let built = kmod::vermagic(ko)?;
    let expected = kmod::vermagic(&kernel.build_dir.join(IN_TREE_MODULE))?;
    if built != expected {
        bail!(
            "vermagic \"{built}\" of {}, the kernel's is \"{expected}\"",
            ko.display()
        );
    }
    Ok(built.trim_end().to_owned())
}
