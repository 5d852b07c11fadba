//! Commands run inside a build root (`chroot`), with host directories bind-mounted into it
//! and `/proc` mounted, all unmounted again on every way out (the guard's `Drop`), and
//! mounts an interrupted earlier run left behind cleared before a root is used or removed.
//! Callers hold the kernel builds lock (`kernel::lock`), so no other run is using the root.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};
use xshell::{cmd, Shell};

/// The `PATH` of commands in the root (the host's would name tools the root lacks).
const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// A build root with what is mounted in it; dropping it unmounts them, last first.
pub(crate) struct Chroot {
    root: PathBuf,
    /// Mount points (host paths), in mount order.
    mounts: Vec<PathBuf>,
}

impl Chroot {
    /// The root at `root` (a directory holding a system), after unmounting whatever an
    /// interrupted earlier run left mounted below it.
    pub(crate) fn enter(root: &Path) -> anyhow::Result<Self> {
        let root = root
            .canonicalize()
            .with_context(|| format!("no build root at {}", root.display()))?;
        unmount_below(&root)?;
        Ok(Self {
            root,
            mounts: Vec::new(),
        })
    }

    /// Mounts the host directory `host` at `inside` (an absolute path in the root).
    pub(crate) fn bind(
        &mut self,
        host: &Path,
        inside: &Path,
        read_only: bool,
    ) -> anyhow::Result<()> {
        let options = if read_only { "bind,ro" } else { "bind" };
        self.mount(inside, &["-o", options], host)
    }

    /// Mounts `/proc` (objtool reads its stack limit there; rustc finds its sysroot through
    /// `/proc/self/exe`).
    pub(crate) fn mount_proc(&mut self) -> anyhow::Result<()> {
        self.mount(Path::new("/proc"), &["-t", "proc"], Path::new("proc"))
    }

    fn mount(&mut self, inside: &Path, options: &[&str], source: &Path) -> anyhow::Result<()> {
        let target = self.host_path(inside)?;
        std::fs::create_dir_all(&target)?;
        let sh = Shell::new()?;
        cmd!(sh, "mount {options...} {source} {target}")
            .quiet()
            .run()
            .with_context(|| {
                format!(
                    "mounting {} at {} in the build root",
                    source.display(),
                    inside.display()
                )
            })?;
        self.mounts.push(target);
        Ok(())
    }

    /// The host path of `inside`, an absolute path in the root.
    pub(crate) fn host_path(&self, inside: &Path) -> anyhow::Result<PathBuf> {
        match inside.strip_prefix("/") {
            Ok(relative) => Ok(self.root.join(relative)),
            Err(_) => bail!("{} is not an absolute path", inside.display()),
        }
    }

    /// `program` run in the root, with a clean environment (only `PATH` and `HOME`): the
    /// host's (cargo's `RUSTC`, `CARGO_*`, rustup's settings) must not steer the build there.
    pub(crate) fn command(&self, program: &str) -> Command {
        let mut command = Command::new("chroot");
        command
            .arg(&self.root)
            .arg(program)
            .env_clear()
            .env("PATH", PATH)
            .env("HOME", "/root")
            .current_dir("/");
        command
    }

    /// `program args...` in the root, its standard output trimmed.
    pub(crate) fn read(&self, program: &str, args: &[&str]) -> anyhow::Result<String> {
        let output = self
            .command(program)
            .args(args)
            .output()
            .with_context(|| format!("running {program} in the build root"))?;
        if !output.status.success() {
            bail!(
                "`{program} {}` in the build root failed ({}): {}",
                args.join(" "),
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }
}

impl Drop for Chroot {
    fn drop(&mut self) {
        for target in self.mounts.drain(..).rev() {
            if let Err(error) = unmount(&target) {
                eprintln!("warning: {error:#}");
            }
        }
    }
}

/// Removes `dir` (build roots included), unmounting first whatever is mounted below it: a
/// bind mount left in a root would otherwise have its host directory emptied too.
pub(crate) fn remove(dir: &Path) -> anyhow::Result<()> {
    let dir = dir.canonicalize()?;
    unmount_below(&dir)?;
    std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))
}

/// Unmounts every mount point below `dir`, deepest first.
fn unmount_below(dir: &Path) -> anyhow::Result<()> {
    let table = std::fs::read_to_string("/proc/self/mountinfo")?;
    let mut below: Vec<PathBuf> = mount_points(&table)
        .into_iter()
        .filter(|point| point.starts_with(dir) && point != dir)
        .collect();
    below.sort_by_key(|point| std::cmp::Reverse(point.components().count()));
    for point in below {
        println!(
            "build root: unmounting {} (left by an interrupted run)",
            point.display()
        );
        unmount(&point)?;
    }
    Ok(())
}

fn unmount(target: &Path) -> anyhow::Result<()> {
    let sh = Shell::new()?;
    cmd!(sh, "umount {target}")
        .quiet()
        .run()
        .with_context(|| format!("unmounting {}", target.display()))
}

/// The mount points of a `/proc/self/mountinfo` (field 5, octal escapes decoded).
fn mount_points(mountinfo: &str) -> Vec<PathBuf> {
    mountinfo
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(|escaped| PathBuf::from(unescape(escaped)))
        .collect()
}

/// `\040` (space), `\011`, `\012`, `\134` as the kernel escapes them in mount tables.
fn unescape(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut rest = field;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let code = rest
            .get(at + 1..at + 4)
            .and_then(|d| u8::from_str_radix(d, 8).ok());
        match code {
            Some(byte) => {
                out.push(char::from(byte));
                rest = &rest[at + 4..];
            }
            None => {
                out.push('\\');
                rest = &rest[at + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_points_come_from_mountinfo_with_escapes_decoded() {
        let table = "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n\
                     97 22 254:0 /root/linux /c/root/src ro,relatime shared:1 - ext4 /dev/vda rw\n\
                     98 22 0:5 / /c/a\\040b/proc rw - proc proc rw\n";
        assert_eq!(
            mount_points(table),
            [
                PathBuf::from("/"),
                PathBuf::from("/c/root/src"),
                PathBuf::from("/c/a b/proc")
            ]
        );
        assert_eq!(unescape("a\\134b\\"), "a\\b\\");
    }
}
