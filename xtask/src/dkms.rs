//! vusbkey.ko as DKMS builds it on an operator's host: `cargo xtask package`'s `.deb`
//! unpacked, its sources registered with `dkms add` and built by `dkms build` against the
//! project kernel's headers directory (`kernel --headers`). DKMS works in trees of its own
//! under `target/dkms/` (`--sourcetree`, `--dkmstree`): the system's DKMS state and
//! `/usr/src` are not touched.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};
use xshell::{cmd, Shell};

use crate::kernel::Kernel;
use crate::package::{self, Package};
use crate::paths::Paths;
use crate::{headers, progress};

/// Packages `image`, builds the module from the package with DKMS against `kernel`'s headers
/// directory and returns it, after checking that its vermagic is the kernel's.
pub(crate) fn build(paths: &Paths, kernel: &Kernel, image: &Path) -> anyhow::Result<PathBuf> {
    let sh = Shell::new()?;
    let headers = headers::make(paths, kernel)?;
    let package = package::make(paths, image)?;
    check_control(&sh, &package)?;
    let root = paths
        .target()
        .join("dkms")
        .join(format!("{}-{}", kernel.line, kernel.flavour));
    if root.exists() {
        std::fs::remove_dir_all(&root).with_context(|| format!("removing {}", root.display()))?;
    }
    let files = root.join("root");
    std::fs::create_dir_all(&files)?;
    std::fs::create_dir_all(root.join("dkms"))?;
    let deb = &package.deb;
    cmd!(sh, "dpkg-deb -x {deb} {files}").quiet().run()?;
    let release = std::fs::read_to_string(headers.join("include/config/kernel.release"))
        .context("the headers directory has no kernel.release")?;
    let release = release.trim();
    let arch = package::DKMS_ARCH;
    let trees = |command: &mut Command| {
        command
            .arg("-m")
            .arg(package::MODULE)
            .arg("-v")
            .arg(&package.version)
            .arg(format!("--sourcetree={}", files.join("usr/src").display()))
            .arg(format!("--dkmstree={}", root.join("dkms").display()));
    };
    let mut add = Command::new("dkms");
    add.arg("add");
    trees(&mut add);
    let status = add.stdout(std::process::Stdio::null()).status()?;
    if !status.success() {
        bail!("dkms add of {} failed ({status})", deb.display());
    }
    let mut dkms_build = Command::new("dkms");
    dkms_build.arg("build");
    trees(&mut dkms_build);
    dkms_build
        .args(["-k", release, "-a", arch])
        .arg(format!("--kernelsourcedir={}", headers.display()));
    progress::run_logged("dkms build", dkms_build, &root.join("dkms-build.log"))?;
    let ko = package
        .built_module_dir(&root.join("dkms"), release)
        .join("vusbkey.ko");
    let vermagic = headers::same_vermagic(kernel, &ko)?;
    println!(
        "dkms: {} built by DKMS from {} against {} (vermagic {vermagic})",
        ko.display(),
        package.deb.display(),
        headers.display()
    );
    Ok(ko)
}

/// The control fields a host's dpkg and DKMS rely on.
fn check_control(sh: &Shell, package: &Package) -> anyhow::Result<()> {
    let expected = [
        ("Package", package::PACKAGE),
        ("Version", &package.version),
        ("Architecture", "all"),
        ("Depends", "dkms (>= 3.0)"),
    ];
    let deb = &package.deb;
    for (field, value) in expected {
        let found = cmd!(sh, "dpkg-deb --field {deb} {field}").quiet().read()?;
        if found.trim() != value {
            bail!(
                "{}: {field} is \"{}\", expected \"{value}\"",
                deb.display(),
                found.trim()
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::process::Command;

    /// Runs `packaging/dkms/dkms-make.sh` on a fake kernel tree with this `auto.conf` (and
    /// the Rust metadata files when `metadata`); returns its stderr, asserting it failed.
    fn refusal(name: &str, auto_conf: &str, metadata: bool) -> String {
        let kdir = std::env::temp_dir().join(format!("vusbkey-dkms-{name}-{}", std::process::id()));
        let config = kdir.join("include/config");
        std::fs::create_dir_all(&config).unwrap();
        std::fs::write(config.join("auto.conf"), auto_conf).unwrap();
        if metadata {
            std::fs::create_dir_all(kdir.join("rust")).unwrap();
            for file in ["libcore.rmeta", "libkernel.rmeta", "libmacros.so"] {
                std::fs::write(kdir.join("rust").join(file), b"").unwrap();
            }
        }
        let script: PathBuf = [
            env!("CARGO_MANIFEST_DIR"),
            "..",
            "packaging/dkms/dkms-make.sh",
        ]
        .iter()
        .collect();
        let output = Command::new("sh")
            .arg(&script)
            .arg(&kdir)
            .args(["CC=clang", "LD=ld.lld"])
            .current_dir(std::env::temp_dir())
            .output()
            .unwrap();
        std::fs::remove_dir_all(&kdir).unwrap();
        assert!(!output.status.success(), "{name}: it did not fail");
        String::from_utf8_lossy(&output.stderr).into_owned()
    }

    /// What this machine's `rustc` on PATH prints, as a kernel built with it records it.
    fn host_rustc() -> String {
        let output = Command::new("rustc").arg("--version").output().unwrap();
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    }

    #[test]
    fn the_build_script_refuses_what_it_cannot_build_and_says_why() {
        let error = refusal("empty-config", "", false);
        assert!(error.contains("CONFIG_RUST is not set"), "{error}");
        let no_rust = "CONFIG_CC_IS_GCC=y\n# CONFIG_RUST is not set\n";
        assert!(refusal("no-rust", no_rust, false).contains("vusbkey-usbip"));
        let rust = "CONFIG_RUST=y\nCONFIG_RUSTC_VERSION_TEXT=\"rustc 0.0.1 (none)\"\n";
        let error = refusal("no-metadata", rust, false);
        assert!(error.contains("lacks rust/libcore.rmeta"), "{error}");
        let error = refusal("no-rustc", rust, true);
        assert!(
            error.contains("no rustc prints exactly \"rustc 0.0.1 (none)\""),
            "{error}"
        );
        let gcc = format!(
            "CONFIG_RUST=y\nCONFIG_RUSTC_VERSION_TEXT={}\nCONFIG_CC_IS_GCC=y\n\
             CONFIG_CC_VERSION_TEXT=\"x86_64-linux-gnu-gcc-99 (Debian 99.1-1) 99.1\"\n",
            host_rustc()
        );
        let error = refusal("no-gcc", &gcc, true);
        assert!(
            error.contains("built with x86_64-linux-gnu-gcc-99: install it"),
            "{error}"
        );
    }
}
