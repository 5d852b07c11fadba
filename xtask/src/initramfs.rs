//! The VM's root filesystem: a gzip'd cpio archive staged in a directory under `target/`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use xshell::{cmd, Shell};

/// An initramfs being staged.
pub(crate) struct Initramfs {
    root: PathBuf,
}

impl Initramfs {
    /// Starts an empty tree at `root` (removing an older one) with busybox as `/bin/sh`.
    pub(crate) fn new(root: &Path) -> anyhow::Result<Self> {
        if root.exists() {
            std::fs::remove_dir_all(root)?;
        }
        for dir in [
            "bin", "dev", "proc", "sys", "tmp", "mnt", "run", "etc", "usr/bin",
        ] {
            std::fs::create_dir_all(root.join(dir))?;
        }
        let initramfs = Self {
            root: root.to_path_buf(),
        };
        initramfs.add_file(Path::new("/bin/busybox"), "bin/busybox", 0o755)?;
        std::os::unix::fs::symlink("busybox", root.join("bin/sh"))?;
        Ok(initramfs)
    }

    /// Copies `source` to `dest` (relative to the root) with the given mode.
    pub(crate) fn add_file(&self, source: &Path, dest: &str, mode: u32) -> anyhow::Result<()> {
        let target = self.root.join(dest);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(source, &target).with_context(|| format!("copying {}", source.display()))?;
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(mode))?;
        Ok(())
    }

    /// Writes `contents` to `dest` (relative to the root) with the given mode.
    pub(crate) fn add_bytes(&self, dest: &str, contents: &[u8], mode: u32) -> anyhow::Result<()> {
        let target = self.root.join(dest);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&target, contents)?;
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(mode))?;
        Ok(())
    }

    /// Copies a file of the build machine to the same path in the initramfs.
    pub(crate) fn add_host_file(&self, source: &Path, mode: u32) -> anyhow::Result<()> {
        self.add_file(source, relative(source)?, mode)
    }

    /// Adds a dynamically linked program of the build machine, at the same path, with
    /// every shared library `ldd` lists for it.
    pub(crate) fn add_program(&self, sh: &Shell, program: &Path) -> anyhow::Result<()> {
        self.add_program_at(sh, program, relative(program)?)
    }

    /// Adds a dynamically linked program at `dest`, with its shared libraries at their paths.
    pub(crate) fn add_program_at(
        &self,
        sh: &Shell,
        program: &Path,
        dest: &str,
    ) -> anyhow::Result<()> {
        self.add_file(program, dest, 0o755)?;
        let listing = cmd!(sh, "ldd {program}").quiet().read()?;
        for library in shared_libraries(&listing) {
            let library = Path::new(library);
            if !self.root.join(relative(library)?).exists() {
                self.add_host_file(library, 0o755)?;
            }
        }
        Ok(())
    }

    /// Packs the tree into a gzip'd newc cpio archive at `out`.
    pub(crate) fn pack(&self, sh: &Shell, out: &Path) -> anyhow::Result<()> {
        let _dir = sh.push_dir(&self.root);
        let listing = cmd!(sh, "find . -mindepth 1").quiet().read()?;
        let archive = cmd!(sh, "cpio -o -H newc --quiet")
            .stdin(listing)
            .quiet()
            .output()?
            .stdout;
        let compressed = cmd!(sh, "gzip -1").stdin(archive).quiet().output()?.stdout;
        std::fs::write(out, compressed)?;
        Ok(())
    }
}

/// `/usr/bin/x` -> `usr/bin/x`.
fn relative(path: &Path) -> anyhow::Result<&str> {
    match path.to_str().and_then(|p| p.strip_prefix('/')) {
        Some(rel) => Ok(rel),
        None => bail!("{} is not an absolute UTF-8 path", path.display()),
    }
}

/// The absolute library paths in `ldd` output (including the dynamic loader).
fn shared_libraries(ldd: &str) -> Vec<&str> {
    ldd.lines()
        .filter_map(|line| {
            let line = line.trim();
            let path = match line.split_once(" => ") {
                Some((_, rest)) => rest,
                None => line,
            };
            path.split_whitespace()
                .next()
                .filter(|p| p.starts_with('/'))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::shared_libraries;

    #[test]
    fn ldd_listing_gives_library_paths() {
        let ldd = "\tlinux-vdso.so.1 (0x00007ffd)\n\
                   \tlibsgutils2-1.46.so.2 => /lib/x86_64-linux-gnu/libsgutils2-1.46.so.2 (0x00007f)\n\
                   \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)\n\
                   \t/lib64/ld-linux-x86-64.so.2 (0x00007f)\n";
        assert_eq!(
            shared_libraries(ldd),
            [
                "/lib/x86_64-linux-gnu/libsgutils2-1.46.so.2",
                "/lib/x86_64-linux-gnu/libc.so.6",
                "/lib64/ld-linux-x86-64.so.2"
            ]
        );
    }
}
