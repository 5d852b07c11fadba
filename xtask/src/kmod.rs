//! `cargo xtask kmod`: builds vusbkey.ko out of tree, in a copy of `kmod/` under `target/`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use sha2::{Digest, Sha256};
use xshell::Shell;

use crate::kernel::{self, Flavour, Kernel};
use crate::paths::Paths;
use crate::progress;

/// A built module.
pub(crate) struct Module {
    /// The kernel it was built against.
    pub(crate) kernel: Kernel,
    /// `vusbkey.ko`.
    pub(crate) ko: PathBuf,
}

/// Builds the kernel if needed, then the module against it with `image` compiled in, in
/// `target/kmod/<flavour>-<variant>/`.
pub(crate) fn build(
    paths: &Paths,
    flavour: Flavour,
    image: &Path,
    variant: &str,
) -> anyhow::Result<Module> {
    let kernel = kernel::build(paths, flavour)?;
    let sh = Shell::new()?;
    check_version(&sh, paths)?;
    let dir = paths
        .target()
        .join("kmod")
        .join(format!("{flavour}-{variant}"));
    if dir.exists() {
        sh.remove_path(&dir)?;
    }
    copy_tree(&paths.root.join("kmod"), &dir)?;
    let bytes =
        std::fs::read(image).with_context(|| format!("reading the image {}", image.display()))?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    std::fs::write(dir.join("image.img"), &bytes)?;
    std::fs::write(dir.join("image.sha256"), &sha256)?;
    let mut make = kernel.make();
    make.arg("-C")
        .arg(&kernel.build_dir)
        .arg(format!("M={}", dir.display()))
        .arg("modules");
    progress::run_logged("module build", make, &dir.join("build.log"))?;
    let ko = dir.join("vusbkey.ko");
    let size = std::fs::metadata(&ko).with_context(|| format!("{} was not built", ko.display()))?;
    println!(
        "kmod ({flavour}): {} ({} bytes) carrying {} ({} bytes, sha256 {sha256})",
        ko.display(),
        size.len(),
        image.display(),
        bytes.len()
    );
    Ok(Module { kernel, ko })
}

/// The module's `VERSION` constant must equal the workspace version.
fn check_version(sh: &Shell, paths: &Paths) -> anyhow::Result<()> {
    let source = sh.read_file(paths.root.join("kmod/vusbkey_main.rs"))?;
    let expected = format!("const VERSION: &str = \"{}\";", env!("CARGO_PKG_VERSION"));
    if !source.lines().any(|line| line.trim() == expected) {
        bail!("kmod/vusbkey_main.rs must declare `{expected}` (the workspace version)");
    }
    Ok(())
}

/// Copies a directory tree (sources only; the copy is where Kbuild writes its objects).
fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}
