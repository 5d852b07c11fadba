//! `cargo xtask kmod --kdir DIR`: what a prepared kernel tree or a distribution's headers
//! directory asks of a module build (Rust enabled, its Rust metadata present, the exact
//! rustc and the C compiler family it was built with), found or refused with the reason.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context};

/// The compilers `make` runs in a kernel tree.
pub(crate) struct Toolchain {
    /// A rustc whose `--version` is the tree's `CONFIG_RUSTC_VERSION_TEXT`: the crates in
    /// `rust/*.rmeta` load only into the compiler build that wrote them (else E0514).
    pub(crate) rustc: PathBuf,
    /// The C compiler the kernel was built with. Mixing families breaks the C flags the
    /// kernel's Makefiles chose for its compiler.
    pub(crate) cc: Compiler,
}

/// A kernel's C compiler.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Compiler {
    /// Clang of this major version (`LLVM=-NN`, so that `clang-NN`, `ld.lld-NN`, ... are
    /// used).
    Clang(u32),
    /// gcc, by the command the kernel was built with (`CC=`, e.g. Debian's
    /// `x86_64-linux-gnu-gcc-16`; the kernel's default `gcc` when it is just that).
    Gcc(String),
}

impl Toolchain {
    /// `make` with this toolchain. Bindgen is not passed: only the kernel's own build runs it.
    pub(crate) fn make(&self) -> Command {
        let mut make = Command::new("make");
        match &self.cc {
            Compiler::Clang(major) => make.arg(format!("LLVM=-{major}")),
            Compiler::Gcc(gcc) if gcc != "gcc" => make.arg(format!("CC={gcc}")),
            Compiler::Gcc(_) => &mut make,
        };
        make.arg(format!("RUSTC={}", self.rustc.display()));
        make
    }
}

/// A kernel tree a module can be built against.
pub(crate) struct Tree {
    /// The directory (`make -C`).
    pub(crate) dir: PathBuf,
    /// `include/config/kernel.release`, e.g. `6.12.118`.
    pub(crate) release: String,
    /// The compilers to build with.
    pub(crate) toolchain: Toolchain,
}

/// What a tree's configuration asks for.
#[derive(Debug, PartialEq, Eq)]
struct Needs {
    /// `CONFIG_RUSTC_VERSION_TEXT`.
    rustc_version_text: String,
    /// The C compiler.
    cc: Compiler,
}

/// The Rust metadata an out-of-tree Rust module is compiled against (`--extern kernel
/// -L rust/`, and the `macros` proc-macro crate).
const RUST_METADATA: &[&str] = &[
    "rust/libcore.rmeta",
    "rust/libkernel.rmeta",
    "rust/libmacros.so",
];

/// Inspects `dir` and finds its toolchain, or says why a module cannot be built there.
pub(crate) fn inspect(dir: &Path) -> anyhow::Result<Tree> {
    if !dir.is_dir() {
        bail!(
            "{} is not a directory; for the running kernel, install its headers (e.g. \
             Debian/Ubuntu `linux-headers-$(uname -r)`) and pass /lib/modules/$(uname -r)/build",
            dir.display()
        );
    }
    let dir = dir
        .canonicalize()
        .with_context(|| format!("resolving {}", dir.display()))?;
    let (config_file, text) = ["include/config/auto.conf", ".config"]
        .iter()
        .find_map(|name| Some((*name, std::fs::read_to_string(dir.join(name)).ok()?)))
        .with_context(|| {
            format!(
                "{} is not a kernel tree: it has neither include/config/auto.conf nor .config",
                dir.display()
            )
        })?;
    let needs = needs(&parse_config(&text))
        .with_context(|| format!("{} ({config_file})", dir.display()))?;
    let missing: Vec<&str> = RUST_METADATA
        .iter()
        .copied()
        .filter(|file| !dir.join(file).is_file())
        .collect();
    if !missing.is_empty() {
        bail!(
            "{} has CONFIG_RUST=y but not the Rust metadata out-of-tree Rust modules are \
             compiled against (missing: {}). Ubuntu ships it apart from the headers: install \
             `linux-lib-rust-$(uname -r)`. Debian's, Proxmox's and Fedora's headers packages \
             have none: rebuild it with `make modules_prepare` on that kernel's source with \
             its exact .config and rustc, or serve the key with vusbkey-usbip instead \
             (`cargo xtask usbip --image key.img`, see usbip/README.md)",
            dir.display(),
            missing.join(", ")
        );
    }
    let release = std::fs::read_to_string(dir.join("include/config/kernel.release"))
        .map(|r| r.trim().to_owned())
        .with_context(|| {
            format!(
                "{} is configured but not prepared (no include/config/kernel.release); \
                 run `make modules_prepare` in it",
                dir.display()
            )
        })?;
    let found = rustc_candidates()
        .into_iter()
        .filter_map(|path| Some((version(&path)?, path)))
        .collect::<Vec<_>>();
    let rustc = pick_rustc(&needs.rustc_version_text, &found)
        .map(Path::to_path_buf)
        .with_context(|| rustc_hint(&needs.rustc_version_text, &found))?;
    let cc = match needs.cc {
        Compiler::Clang(major) if on_path(&format!("clang-{major}")).is_none() => bail!(
            "the kernel in {} was built with clang {major}: install it (Debian/Ubuntu: \
             clang-{major} lld-{major} llvm-{major})",
            dir.display()
        ),
        Compiler::Gcc(gcc) if on_path(&gcc).is_none() => {
            if gcc == "gcc" || on_path("gcc").is_none() {
                bail!(
                    "the kernel in {} was built with {gcc}: install it (and binutils)",
                    dir.display()
                );
            }
            println!(
                "kmod: note: the kernel in {} was built with {gcc}, which is not installed; \
                 building with `gcc` instead (install {gcc} if the build fails)",
                dir.display()
            );
            Compiler::Gcc("gcc".to_owned())
        }
        cc => cc,
    };
    Ok(Tree {
        dir,
        release,
        toolchain: Toolchain { rustc, cc },
    })
}

/// `CONFIG_NAME=value` lines of `auto.conf` (strings bare) or `.config` (strings quoted).
pub(crate) fn parse_config(text: &str) -> BTreeMap<&str, &str> {
    text.lines()
        .filter(|line| line.starts_with("CONFIG_"))
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| {
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            (name, value)
        })
        .collect()
}

/// What the configuration asks of a module build, or why a module cannot be built.
fn needs(config: &BTreeMap<&str, &str>) -> anyhow::Result<Needs> {
    if config.get("CONFIG_RUST") != Some(&"y") {
        bail!(
            "this kernel is built without Rust (CONFIG_RUST is not set), so it cannot load \
             vusbkey.ko. Serve the key with vusbkey-usbip instead, which runs the same device \
             model in user space on the kernel's vhci-hcd: `cargo xtask usbip --image \
             key.img` (see usbip/README.md)"
        );
    }
    let rustc_version_text = rustc_version_text(config)
        .context(
            "CONFIG_RUST=y but CONFIG_RUSTC_VERSION_TEXT is missing: not a 6.12 or later tree",
        )?
        .to_string();
    let cc = if config.get("CONFIG_CC_IS_CLANG") == Some(&"y") {
        let version: u32 = config
            .get("CONFIG_CLANG_VERSION")
            .and_then(|v| v.parse().ok())
            .context("CONFIG_CC_IS_CLANG=y without a numeric CONFIG_CLANG_VERSION")?;
        // Kconfig encodes 19.1.7 as 190107.
        Compiler::Clang(version / 10000)
    } else if config.get("CONFIG_CC_IS_GCC") == Some(&"y") {
        Compiler::Gcc(gcc_command(config).unwrap_or("gcc").to_owned())
    } else {
        bail!("neither CONFIG_CC_IS_CLANG nor CONFIG_CC_IS_GCC is set: which compiler built it?");
    };
    Ok(Needs {
        rustc_version_text,
        cc,
    })
}

/// `CONFIG_RUSTC_VERSION_TEXT`, if it names a rustc.
pub(crate) fn rustc_version_text<'a>(config: &BTreeMap<&str, &'a str>) -> Option<&'a str> {
    config
        .get("CONFIG_RUSTC_VERSION_TEXT")
        .copied()
        .filter(|text| text.starts_with("rustc "))
}

/// The gcc command `CONFIG_CC_VERSION_TEXT` names, if any: in
/// `x86_64-linux-gnu-gcc-16 (Debian 16.2.0-3) 16.2.0` the command comes first.
pub(crate) fn gcc_command<'a>(config: &BTreeMap<&str, &'a str>) -> Option<&'a str> {
    config
        .get("CONFIG_CC_VERSION_TEXT")
        .and_then(|text| text.split_whitespace().next())
        .filter(|command| command.contains("gcc"))
}

/// The rustc whose version text is exactly `wanted`, among `(version text, path)` pairs.
fn pick_rustc<'a>(wanted: &str, found: &'a [(String, PathBuf)]) -> Option<&'a Path> {
    found
        .iter()
        .find(|(text, _)| text == wanted)
        .map(|(_, path)| path.as_path())
}

/// Which rustc to install for `wanted`, and what was found instead.
fn rustc_hint(wanted: &str, found: &[(String, PathBuf)]) -> String {
    let number = wanted.split_whitespace().nth(1).unwrap_or("?");
    let install = if wanted.contains("(built from a source tarball)") {
        format!(
            "install the distribution's own rustc {number}, the one that built this kernel (Debian: \
             `rustc` or `rustc-web`; Ubuntu: `rustc` or `rustc-{}`); rustup's {number} is \
             another build and is rejected (E0514)",
            number.rsplit_once('.').map_or(number, |(minor, _)| minor)
        )
    } else {
        format!("install it with `rustup toolchain install {number}`")
    };
    let mut hint = format!(
        "no rustc prints exactly \"{wanted}\" (the kernel's CONFIG_RUSTC_VERSION_TEXT); {install}"
    );
    if found.is_empty() {
        hint.push_str("\nno rustc found at all");
    }
    for (text, path) in found {
        hint.push_str(&format!("\n  found {}: {text}", path.display()));
    }
    hint
}

/// Every rustc worth asking, in order: PATH, rustup's toolchains, Debian/Ubuntu's
/// versioned `/usr/bin/rustc-X.Y`, `/usr/bin/rustc`.
fn rustc_candidates() -> Vec<PathBuf> {
    let mut candidates: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|path| {
            std::env::split_paths(&path)
                .map(|d| d.join("rustc"))
                .collect()
        })
        .unwrap_or_default();
    let rustup = std::env::var_os("RUSTUP_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".rustup")));
    if let Some(rustup) = rustup {
        candidates
            .extend(children(&rustup.join("toolchains"), |_| true).map(|t| t.join("bin/rustc")));
    }
    candidates.extend(children(Path::new("/usr/bin"), |name| {
        name.strip_prefix("rustc-")
            .is_some_and(|v| v.starts_with(|c: char| c.is_ascii_digit()))
    }));
    candidates.push(PathBuf::from("/usr/bin/rustc"));
    // The same file twice (/bin is /usr/bin on a merged-/usr system) is asked once; the
    // path kept is the one found, as rustup's proxies are symlinks named after their tool.
    let mut seen = Vec::new();
    candidates
        .into_iter()
        .filter(|candidate| {
            let Ok(file) = candidate.canonicalize() else {
                return false;
            };
            let new = !seen.contains(&file);
            seen.push(file);
            new
        })
        .collect()
}

/// Entries of `dir` whose names pass `keep`, sorted (none if `dir` is unreadable).
fn children(dir: &Path, keep: impl Fn(&str) -> bool) -> impl Iterator<Item = PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_str().is_some_and(&keep))
        .map(|e| e.path())
        .collect();
    entries.sort();
    entries.into_iter()
}

/// `rustc --version`, trimmed, or `None` if it does not run.
fn version(rustc: &Path) -> Option<String> {
    let output = Command::new(rustc)
        .arg("--version")
        .stderr(Stdio::null())
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// The first `name` on PATH.
fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A clang-built 6.12 tree's `auto.conf`, as ours writes it (strings bare).
    const CLANG_AUTO_CONF: &str = "\
CONFIG_CC_VERSION_TEXT=Debian clang version 19.1.7 (3~deb12u1)
CONFIG_CC_IS_CLANG=y
CONFIG_CLANG_VERSION=190107
CONFIG_RUSTC_VERSION_TEXT=rustc 1.96.0 (ac68faa20 2026-05-25) (built from a source tarball)
CONFIG_RUST=y
";

    /// A gcc-built tree's `.config` (strings quoted), like Ubuntu's.
    const GCC_DOT_CONFIG: &str = "\
CONFIG_CC_VERSION_TEXT=\"x86_64-linux-gnu-gcc-13 (Ubuntu 13.2.0-23ubuntu4) 13.2.0\"
CONFIG_CC_IS_GCC=y
CONFIG_GCC_VERSION=130200
CONFIG_CLANG_VERSION=0
CONFIG_RUSTC_VERSION_TEXT=\"rustc 1.75.0 (82e1608df 2023-12-21) (built from a source tarball)\"
CONFIG_RUST=y
";

    /// Debian 13's: Rust off.
    const NO_RUST: &str = "\
CONFIG_CC_IS_GCC=y
CONFIG_RUSTC_VERSION=0
# CONFIG_RUST is not set
";

    #[test]
    fn a_clang_tree_asks_for_its_rustc_and_llvm_suffix() {
        let needs = needs(&parse_config(CLANG_AUTO_CONF)).unwrap();
        assert_eq!(
            needs,
            Needs {
                rustc_version_text:
                    "rustc 1.96.0 (ac68faa20 2026-05-25) (built from a source tarball)".into(),
                cc: Compiler::Clang(19),
            }
        );
        let toolchain = Toolchain {
            rustc: "/usr/bin/rustc".into(),
            cc: needs.cc,
        };
        let args: Vec<_> = toolchain.make().get_args().map(|a| a.to_owned()).collect();
        assert_eq!(args, ["LLVM=-19", "RUSTC=/usr/bin/rustc"]);
    }

    #[test]
    fn a_gcc_tree_gets_its_own_gcc_and_quoted_strings_are_unquoted() {
        let needs = needs(&parse_config(GCC_DOT_CONFIG)).unwrap();
        assert_eq!(needs.cc, Compiler::Gcc("x86_64-linux-gnu-gcc-13".into()));
        assert_eq!(
            needs.rustc_version_text,
            "rustc 1.75.0 (82e1608df 2023-12-21) (built from a source tarball)"
        );
        let toolchain = Toolchain {
            rustc: "/usr/bin/rustc-1.75".into(),
            cc: needs.cc,
        };
        let args: Vec<_> = toolchain.make().get_args().map(|a| a.to_owned()).collect();
        assert_eq!(
            args,
            ["CC=x86_64-linux-gnu-gcc-13", "RUSTC=/usr/bin/rustc-1.75"]
        );
        let plain = Toolchain {
            rustc: "/usr/bin/rustc".into(),
            cc: Compiler::Gcc("gcc".into()),
        };
        let args: Vec<_> = plain.make().get_args().map(|a| a.to_owned()).collect();
        assert_eq!(args, ["RUSTC=/usr/bin/rustc"]);
    }

    #[test]
    fn a_kernel_without_rust_is_pointed_at_vusbkey_usbip() {
        let error = needs(&parse_config(NO_RUST)).unwrap_err().to_string();
        assert!(error.contains("CONFIG_RUST is not set"), "{error}");
        assert!(error.contains("vusbkey-usbip"), "{error}");
        assert!(error.contains("cargo xtask usbip"), "{error}");
    }

    #[test]
    fn only_the_exact_version_text_is_picked() {
        let wanted = "rustc 1.96.0 (ac68faa20 2026-05-25) (built from a source tarball)";
        let found = vec![
            (
                "rustc 1.96.0 (ac68faa20 2026-05-25)".to_owned(),
                PathBuf::from("/root/.cargo/bin/rustc"),
            ),
            (wanted.to_owned(), PathBuf::from("/usr/bin/rustc")),
        ];
        assert_eq!(
            pick_rustc(wanted, &found),
            Some(Path::new("/usr/bin/rustc"))
        );
        assert_eq!(pick_rustc(wanted, &found[..1]), None);
        let hint = rustc_hint(wanted, &found[..1]);
        assert!(hint.contains("`rustc-1.96`"), "{hint}");
        assert!(hint.contains("found /root/.cargo/bin/rustc"), "{hint}");
        let hint = rustc_hint("rustc 1.82.0 (f6e511eec 2024-10-15)", &[]);
        assert!(hint.contains("`rustup toolchain install 1.82.0`"), "{hint}");
    }

    /// A fake tree on disk: only its configuration, as a Debian 13 headers package has it.
    #[test]
    fn kdir_without_rust_is_refused_before_anything_else() {
        let dir = std::env::temp_dir().join(format!("vusbkey-kdir-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("include/config")).unwrap();
        std::fs::write(dir.join("include/config/auto.conf"), NO_RUST).unwrap();
        let error = format!("{:#}", inspect(&dir).err().unwrap());
        std::fs::write(dir.join("include/config/auto.conf"), CLANG_AUTO_CONF).unwrap();
        let no_metadata = format!("{:#}", inspect(&dir).err().unwrap());
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(error.contains("vusbkey-usbip"), "{error}");
        assert!(
            no_metadata.contains("linux-lib-rust-$(uname -r)"),
            "{no_metadata}"
        );
        assert!(
            no_metadata.contains("rust/libkernel.rmeta"),
            "{no_metadata}"
        );
    }
}
