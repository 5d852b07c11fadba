//! `cargo xtask kmod`: builds vusbkey.ko out of tree, in a copy of `kmod/` under `target/`,
//! against the project's kernel or, with `--kdir`, any prepared tree or headers directory.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};
use clap::ValueEnum;
use sha2::{Digest, Sha256};
use xshell::Shell;

use crate::kernel::{self, Flavour, Kernel};
use crate::line::Line;
use crate::paths::Paths;
use crate::{kdir, progress};

/// A built module.
pub(crate) struct Module {
    /// The kernel it was built against.
    pub(crate) kernel: Kernel,
    /// `vusbkey.ko`.
    pub(crate) ko: PathBuf,
}

/// Builds the kernel if needed, then the module against it with `image` compiled in, in
/// `target/kmod/<line>-<flavour>-<variant>/`.
pub(crate) fn build(
    paths: &Paths,
    line: Line,
    flavour: Flavour,
    image: &Path,
    variant: &str,
) -> anyhow::Result<Module> {
    let kernel = kernel::build(paths, line, flavour)?;
    let name = format!("{line}-{flavour}-{variant}");
    let ko = compile(paths, kernel.make(), &kernel.build_dir, &name, image)?;
    Ok(Module { kernel, ko })
}

/// Builds the module against the prepared tree or headers directory `dir` with its own
/// toolchain (see `kdir`), in `target/kmod/kdir-<release>-<variant>/`; returns `vusbkey.ko`.
pub(crate) fn build_kdir(
    paths: &Paths,
    dir: &Path,
    image: &Path,
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
    compile(paths, tree.toolchain.make(), &tree.dir, &name, image)
}

/// Copies `kmod/` to `target/kmod/<name>/` with `image` and its hash, and runs `make`
/// (carrying the toolchain) `-C kdir M=... modules` there; returns `vusbkey.ko`.
pub(crate) fn compile(
    paths: &Paths,
    mut make: Command,
    kdir: &Path,
    name: &str,
    image: &Path,
) -> anyhow::Result<PathBuf> {
    let sh = Shell::new()?;
    check_version(&sh, paths)?;
    let dir = paths.target().join("kmod").join(name);
    if dir.exists() {
        sh.remove_path(&dir)?;
    }
    copy_tree(&paths.root.join("kmod"), &dir)?;
    let contents = Image::read(image)?;
    contents.add_to(&dir)?;
    make.arg("-C")
        .arg(kdir)
        .arg(format!("M={}", dir.display()))
        .arg("modules");
    progress::run_logged("module build", make, &dir.join("build.log"))?;
    let ko = dir.join("vusbkey.ko");
    let size = std::fs::metadata(&ko).with_context(|| format!("{} was not built", ko.display()))?;
    println!(
        "kmod ({name}): {} ({} bytes, vermagic {}) carrying {} ({} bytes, sha256 {})",
        ko.display(),
        size.len(),
        vermagic(&ko)?.trim_end(),
        image.display(),
        contents.bytes.len(),
        contents.sha256
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

/// The image file to compile in, and its SHA-256 (hex).
pub(crate) struct Image {
    pub(crate) bytes: Vec<u8>,
    pub(crate) sha256: String,
}

impl Image {
    /// Reads `path`, refusing what is not a key image: the module's build would refuse a
    /// size that is not whole 512-byte blocks (`image.rs`), and a disk without a readable
    /// token is no key.
    pub(crate) fn read(path: &Path) -> anyhow::Result<Self> {
        let bytes =
            std::fs::read(path).with_context(|| format!("reading the image {}", path.display()))?;
        if bytes.is_empty() || bytes.len() % 512 != 0 {
            bail!(
                "{} is {} bytes, not a whole number of 512-byte blocks: not a disk image \
                 from `image-builder build`",
                path.display(),
                bytes.len()
            );
        }
        image_builder::read_token(std::io::Cursor::new(&bytes)).with_context(|| {
            format!(
                "{} holds no readable token: not a key image from `image-builder build`",
                path.display()
            )
        })?;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        Ok(Self { bytes, sha256 })
    }

    /// Writes it into the module source tree `dir` as `image.img`, with its hash in
    /// `image.sha256` (what `image.rs` includes).
    pub(crate) fn add_to(&self, dir: &Path) -> anyhow::Result<()> {
        std::fs::write(dir.join("image.img"), &self.bytes)?;
        std::fs::write(dir.join("image.sha256"), &self.sha256)?;
        Ok(())
    }
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
    use super::{vermagic_of, Image};

    #[test]
    fn what_is_not_a_key_image_is_refused_with_the_reason() {
        let dir = std::env::temp_dir().join(format!("vusbkey-image-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let odd = dir.join("odd.img");
        std::fs::write(&odd, b"not a disk").unwrap();
        let error = format!("{:#}", Image::read(&odd).err().unwrap());
        assert!(
            error.contains("10 bytes, not a whole number of 512-byte blocks"),
            "{error}"
        );
        let zeros = dir.join("zeros.img");
        std::fs::write(&zeros, [0u8; 1024]).unwrap();
        let error = format!("{:#}", Image::read(&zeros).err().unwrap());
        assert!(error.contains("holds no readable token"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

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
