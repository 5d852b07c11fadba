//! `cargo xtask kmod`: builds vusbkey.ko out of tree with its key images (one per root-hub
//! port), in a copy of `kmod/` under `target/`, against the project's kernel or, with
//! `--kdir`, any prepared tree or headers directory.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};
use clap::ValueEnum;
use xshell::Shell;

use crate::kernel::{self, Flavour, Kernel};
use crate::line::Line;
use crate::paths::Paths;
use crate::{kdir, kmod_images, progress};

/// The port table written next to the module (see [`kmod_images::table`]).
pub(crate) const PORTS_MANIFEST: &str = "vusbkey.ports";

/// A built module.
pub(crate) struct Module {
    /// The kernel it was built against.
    pub(crate) kernel: Kernel,
    /// `vusbkey.ko`.
    pub(crate) ko: PathBuf,
}

/// Builds the kernel if needed, then the module against it with `images` compiled in (port
/// 1 first, see [`kmod_images::read`]), in `target/kmod/<line>-<flavour>-<variant>/`.
pub(crate) fn build(
    paths: &Paths,
    line: Line,
    flavour: Flavour,
    images: &[impl AsRef<Path>],
    variant: &str,
) -> anyhow::Result<Module> {
    let kernel = kernel::build(paths, line, flavour)?;
    let name = format!("{line}-{flavour}-{variant}");
    let ko = compile(paths, kernel.make(), &kernel.build_dir, &name, images)?;
    Ok(Module { kernel, ko })
}

/// Builds the module against the prepared tree or headers directory `dir` with its own
/// toolchain (see `kdir`), in `target/kmod/kdir-<release>-<variant>/`; returns `vusbkey.ko`.
pub(crate) fn build_kdir(
    paths: &Paths,
    dir: &Path,
    images: &[impl AsRef<Path>],
    variant: &str,
) -> anyhow::Result<PathBuf> {
    let tree = kdir::inspect(dir)?;
    if Line::of_release(&tree.release).is_none() {
        let lines: Vec<String> = Line::value_variants().iter().map(Line::to_string).collect();
        println!(
            "kmod: note: {} is Linux {}; vusbkey's source is written for the kernel crates of \
             Linux {} and may not compile there",
            tree.dir.display(),
            tree.release,
            lines.join(" and ")
        );
    }
    let name = format!("kdir-{}-{variant}", tree.release);
    compile(paths, tree.toolchain.make(), &tree.dir, &name, images)
}

/// Copies `kmod/` to `target/kmod/<name>/` with `images` (port 1 first) staged in it, runs
/// `make` (carrying the toolchain) `-C kdir M=... modules` there, and writes the port table
/// `vusbkey.ports` next to the module; returns `vusbkey.ko`.
pub(crate) fn compile(
    paths: &Paths,
    mut make: Command,
    kdir: &Path,
    name: &str,
    images: &[impl AsRef<Path>],
) -> anyhow::Result<PathBuf> {
    let sh = Shell::new()?;
    check_version(&sh, paths)?;
    let images = kmod_images::read(images)?;
    let dir = paths.target().join("kmod").join(name);
    if dir.exists() {
        sh.remove_path(&dir)?;
    }
    copy_tree(&paths.root.join("kmod"), &dir)?;
    kmod_images::stage(&dir, &images)?;
    make.arg("-C")
        .arg(kdir)
        .arg(format!("M={}", dir.display()))
        .arg("modules");
    progress::run_logged("module build", make, &dir.join("build.log"))?;
    let ko = dir.join("vusbkey.ko");
    let size = std::fs::metadata(&ko).with_context(|| format!("{} was not built", ko.display()))?;
    let ports = kmod_images::table(&images).to_string();
    let manifest = dir.join(PORTS_MANIFEST);
    std::fs::write(&manifest, &ports)?;
    // `ports` ends in a line break.
    print!(
        "kmod ({name}): {} ({} bytes, vermagic {}) carrying {} image(s), {} bytes in all; \
         its ports, in {}:\n{ports}",
        ko.display(),
        size.len(),
        vermagic(&ko)?.trim_end(),
        images.len(),
        images.iter().map(|image| image.bytes.len()).sum::<usize>(),
        manifest.display()
    );
    Ok(ko)
}

/// The `vermagic=` entry of a module's `.modinfo` (kernel release and the configuration
/// options a module must share with its kernel; what `modinfo -F vermagic` prints).
pub(crate) fn vermagic(ko: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(ko).with_context(|| format!("reading {}", ko.display()))?;
    vermagic_of(&bytes).with_context(|| format!("{} has no vermagic", ko.display()))
}

fn vermagic_of(bytes: &[u8]) -> Option<String> {
    const KEY: &[u8] = b"vermagic=";
    let start = bytes.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let end = bytes[start..].iter().position(|&b| b == 0)?;
    Some(String::from_utf8_lossy(&bytes[start..start + end]).into_owned())
}

/// The module's `VERSION` constant must equal the workspace version.
pub(crate) fn check_version(sh: &Shell, paths: &Paths) -> anyhow::Result<()> {
    let source = sh.read_file(paths.root.join("kmod/vusbkey_main.rs"))?;
    let expected = format!("const VERSION: &str = \"{}\";", env!("CARGO_PKG_VERSION"));
    if !source.lines().any(|line| line.trim() == expected) {
        bail!("kmod/vusbkey_main.rs must declare `{expected}` (the workspace version)");
    }
    Ok(())
}

/// Copies a directory tree (sources only; the copy is where Kbuild writes its objects).
pub(crate) fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
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

#[cfg(test)]
mod tests {
    use super::vermagic_of;

    #[test]
    fn vermagic_is_read_from_modinfo() {
        let modinfo = b"\x7fELF...license=GPL\0name=vusbkey\0vermagic=6.12.118 SMP mod_unload \0\0";
        assert_eq!(
            vermagic_of(modinfo).as_deref(),
            Some("6.12.118 SMP mod_unload ")
        );
        assert_eq!(vermagic_of(b"name=vusbkey\0"), None);
    }
}
