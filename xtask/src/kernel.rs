//! `cargo xtask kernel`: the Rust-enabled Linux kernel the module builds against and the
//! VMs boot, of a line (6.12 or 7.2, from Debian's `linux-source-<line>`) and a flavour,
//! built in `~/.cache/vusbkey/kernel/<line>/<flavour>/`, outside the git tree.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::bail;
use clap::ValueEnum;
use sha2::{Digest, Sha256};
use xshell::{cmd, Shell};

use crate::kdir::{Compiler, Toolchain};
use crate::line::Line;
use crate::paths::Paths;
use crate::{kernel_source, progress, setup};

/// The Rust compiler with `rust-src` (Debian's `rustc-web`); rustup's has none.
pub(crate) const RUSTC: &str = "/usr/bin/rustc";
/// The clang the kernel is built with (Debian's `clang-19`, `lld-19`, `llvm-19`).
pub(crate) const CLANG_MAJOR: u32 = 19;

/// Which kernel configuration to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Flavour {
    /// KASAN, kmemleak, lockdep, debug objects, failslab: what the tests boot.
    Debug,
    /// No debugging aids: what the benchmarks boot.
    Release,
}

impl fmt::Display for Flavour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Debug => "debug",
            Self::Release => "release",
        })
    }
}

/// A built kernel.
pub(crate) struct Kernel {
    /// Its line.
    pub(crate) line: Line,
    /// Its flavour.
    pub(crate) flavour: Flavour,
    /// The `O=` build directory, which out-of-tree modules build against.
    pub(crate) build_dir: PathBuf,
}

impl Kernel {
    /// The bootable image.
    pub(crate) fn bzimage(&self) -> PathBuf {
        self.build_dir.join("arch/x86/boot/bzImage")
    }

    /// `make` in the kernel tree with the toolchain settings every kernel and module build
    /// needs: clang 19, Debian's rustc, and bindgen (the kernel's own build runs it).
    pub(crate) fn make(&self) -> Command {
        let toolchain = Toolchain {
            rustc: PathBuf::from(RUSTC),
            cc: Compiler::Clang(CLANG_MAJOR),
        };
        let mut make = toolchain.make();
        make.arg(format!("BINDGEN={}", setup::bindgen().display()));
        make
    }
}

/// How a kernel build shares the machine's CPUs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Priority {
    /// As any other step: the caller waits for it.
    Normal,
    /// At the lowest CPU priority (`nice -n 19`), on what the steps running meanwhile leave.
    Background,
}

/// Builds the kernel of `line` and `flavour` unless the cached build matches every input.
pub(crate) fn build(paths: &Paths, line: Line, flavour: Flavour) -> anyhow::Result<Kernel> {
    build_at(paths, line, flavour, Priority::Normal)
}

/// Builds `kernels` one after another in a thread of their own, at the lowest CPU priority,
/// while the caller goes on: the VM suites leave a core idle (TCG runs a VM's one vCPU on one
/// host thread), which these builds then use. A step that needs one of these kernels calls
/// [`build`] as usual: it waits for the background build of that kernel (its lock), then
/// finds it up to date; a background build that failed is only reported, and that step
/// builds it again in the foreground, failing there with the reason.
pub(crate) fn build_in_background(
    paths: &Paths,
    kernels: &[(Line, Flavour)],
) -> std::thread::JoinHandle<()> {
    let paths = paths.clone();
    let kernels = kernels.to_vec();
    std::thread::spawn(move || {
        for (line, flavour) in kernels {
            if let Err(e) = build_at(&paths, line, flavour, Priority::Background) {
                println!(
                    "kernel ({line} {flavour}): the background build failed, the step that needs \
                     it builds it again: {e:#}"
                );
            }
        }
    })
}

fn build_at(
    paths: &Paths,
    line: Line,
    flavour: Flavour,
    priority: Priority,
) -> anyhow::Result<Kernel> {
    let what = match priority {
        Priority::Normal => format!("kernel ({line} {flavour})"),
        Priority::Background => format!("kernel ({line} {flavour}, in the background)"),
    };
    if setup::needed(paths) {
        println!("{what}: system packages missing, running setup first");
        setup::run(paths)?;
    }
    let sh = Shell::new()?;
    // Extracting a tree (and the apt runs behind it) holds every other kernel or tree step
    // off; the build then holds off only builds of the same kernel, so that two kernels can
    // build at once from one source tree (`O=` builds leave the tree unwritten). A rebuild
    // of a kernel whose source package changed while another run builds from the old tree
    // would fail that other build: the tree is extracted again only for a new version.
    let source = {
        let _lock = lock(paths, "kernel", &what)?;
        kernel_source::extract(&sh, paths, line)?
    };
    let _lock = lock(paths, &format!("kernel-{line}-{flavour}"), &what)?;
    let fragments = fragments(paths, line, flavour);
    let key = cache_key(&sh, &source.version, &fragments)?;
    let kernel = Kernel {
        line,
        flavour,
        build_dir: paths
            .cache
            .join("kernel")
            .join(line.to_string())
            .join(flavour.to_string()),
    };
    let package = format!("{} {}", line.package(), source.version);
    let stamp = kernel.build_dir.join(".vusbkey-stamp");
    // The build (`O=`) links to its source tree by absolute path: a cache that was moved,
    // or whose source is now elsewhere, matches the key but fails at the first module build.
    let linked = kernel.build_dir.join("source").canonicalize().ok();
    let same_source = linked.is_some() && linked == source.dir.canonicalize().ok();
    if kernel.bzimage().exists() && sh.read_file(&stamp).is_ok_and(|s| s == key) {
        if same_source {
            println!(
                "{what}: up to date in {} ({package})",
                kernel.build_dir.display()
            );
            return Ok(kernel);
        }
        println!(
            "{what}: the build in {} does not lead to the source in {} (moved?): building again",
            kernel.build_dir.display(),
            source.dir.display()
        );
    }
    println!(
        "{what}: building Linux from {package} in {} -- the first build takes 10-20 minutes on 2 cores",
        kernel.build_dir.display()
    );
    sh.create_dir(&kernel.build_dir)?;
    // Until the build is done, nothing says it is: an interrupted rebuild is not up to date.
    if stamp.exists() {
        sh.remove_path(&stamp)?;
    }
    configure(&sh, &source.dir, &kernel, &fragments)?;
    let jobs = std::thread::available_parallelism().map_or(2, |n| n.get() + 1);
    let mut make = kernel.make();
    make.current_dir(&source.dir)
        .arg(format!("O={}", kernel.build_dir.display()))
        .arg(format!("-j{jobs}"))
        .args(["bzImage", "modules"]);
    if priority == Priority::Background {
        make = niced(&make);
    }
    let log = kernel.build_dir.join("build.log");
    progress::run_logged(&format!("{what} build"), make, &log)?;
    sh.write_file(&stamp, &key)?;
    Ok(kernel)
}

/// Waits until no other thread or `cargo xtask` run holds the lock `name` of the cache, and
/// holds it until the returned file is dropped: `kernel` for extracting trees and preparing
/// build roots, `kernel-<line>-<flavour>` for that kernel's build. Two at once would work on
/// the same trees together and corrupt them (the second waits, then finds them up to date).
pub(crate) fn lock(paths: &Paths, name: &str, what: &str) -> anyhow::Result<std::fs::File> {
    std::fs::create_dir_all(&paths.cache)?;
    // Each call opens its own file description: `flock` locks exclude each other across
    // descriptions, threads of one process included.
    let lock = std::fs::File::create(paths.cache.join(format!("{name}.lock")))?;
    if lock.try_lock().is_err() {
        println!("{what}: another build holds {name}.lock; waiting for it to finish");
        lock.lock()?;
    }
    Ok(lock)
}

/// `command` run through `nice -n 19`: its program, arguments, environment and directory.
fn niced(command: &Command) -> Command {
    let mut niced = Command::new("nice");
    niced
        .args(["-n", "19"])
        .arg(command.get_program())
        .args(command.get_args());
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => niced.env(key, value),
            None => niced.env_remove(key),
        };
    }
    if let Some(dir) = command.get_current_dir() {
        niced.current_dir(dir);
    }
    niced
}

/// The config fragments of a line and flavour, in merge order: base, flavour, the line's own.
fn fragments(paths: &Paths, line: Line, flavour: Flavour) -> Vec<PathBuf> {
    let dir = paths.root.join("qemu/kernel");
    let mut fragments = vec![
        dir.join("base.config"),
        dir.join(format!("{flavour}.config")),
    ];
    fragments.extend(line.fragment(paths));
    fragments
}

/// Hash of everything that changes the kernel build: source package version, fragments,
/// toolchain. (The line is in the version, and each line builds in its own directory.)
fn cache_key(sh: &Shell, version: &str, fragments: &[PathBuf]) -> anyhow::Result<String> {
    let mut hasher = Sha256::new();
    hasher.update(version);
    for fragment in fragments {
        hasher.update(sh.read_file(fragment)?);
    }
    let bindgen = setup::bindgen();
    for version in [
        cmd!(sh, "{RUSTC} --version").quiet().read()?,
        cmd!(sh, "clang-19 --version").quiet().read()?,
        cmd!(sh, "{bindgen} --version").quiet().read()?,
    ] {
        hasher.update(version);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// `allnoconfig` + the fragments + `olddefconfig`, then checks every fragment line took effect.
fn configure(
    sh: &Shell,
    source: &Path,
    kernel: &Kernel,
    fragments: &[PathBuf],
) -> anyhow::Result<()> {
    let out = &kernel.build_dir;
    let config = out.join(".config");
    let make = |target: &str| -> anyhow::Result<()> {
        let status = kernel
            .make()
            .current_dir(source)
            .arg(format!("O={}", out.display()))
            .arg("-s")
            .arg(target)
            .status()?;
        if !status.success() {
            bail!("make {target} failed");
        }
        Ok(())
    };
    make("allnoconfig")?;
    let _dir = sh.push_dir(source);
    cmd!(
        sh,
        "scripts/kconfig/merge_config.sh -m -O {out} {config} {fragments...}"
    )
    .env("KCONFIG_CONFIG", &config)
    .quiet()
    .ignore_stdout()
    .run()?;
    make("olddefconfig")?;
    let merged = sh.read_file(&config)?;
    let mut unmet = Vec::new();
    for fragment in fragments {
        for wanted in sh
            .read_file(fragment)?
            .lines()
            .filter(|l| l.starts_with("CONFIG_"))
        {
            if !option_met(&merged, wanted) {
                unmet.push(wanted.to_owned());
            }
        }
    }
    if !unmet.is_empty() {
        bail!(
            "the kernel configuration does not have these options (a dependency is missing?):\n  {}",
            unmet.join("\n  ")
        );
    }
    Ok(())
}

/// Whether the merged `.config` satisfies one fragment line (`=n` means "not set").
fn option_met(config: &str, wanted: &str) -> bool {
    match wanted.split_once('=') {
        Some((name, "n")) => !config.lines().any(|l| l.starts_with(&format!("{name}="))),
        _ => config.lines().any(|l| l == wanted),
    }
}

#[cfg(test)]
mod tests {
    use super::option_met;

    #[test]
    fn fragment_lines_are_checked_against_the_config() {
        let config = "CONFIG_RUST=y\n# CONFIG_KASAN is not set\nCONFIG_NR_CPUS=4\n";
        assert!(option_met(config, "CONFIG_RUST=y"));
        assert!(option_met(config, "CONFIG_KASAN=n"));
        assert!(option_met(config, "CONFIG_NR_CPUS=4"));
        assert!(!option_met(config, "CONFIG_NR_CPUS=8"));
        assert!(!option_met(config, "CONFIG_RUST=n"));
        assert!(!option_met(config, "CONFIG_KASAN=y"));
    }
}
