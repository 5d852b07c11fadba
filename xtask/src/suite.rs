//! A VM test suite: a busybox `sh` script run by the VM's `/init`, and the settings its
//! leading comment block declares (`# vusbkey-timeout: SECS`, `# vusbkey-flavour:
//! debug|release|stock|distro` and `# vusbkey-line: 6.12|7.2`: the kernel its VM boots, by
//! default the project's 6.12 debug kernel, the line only for the project's kernels;
//! `# vusbkey-append: ARGS`: more kernel command line for its VM; `# vusbkey-module: dkms`:
//! the VM also gets, at `/vusbkey/dkms/vusbkey.ko`, the module DKMS built from `cargo xtask
//! package`'s `.deb` against the kernel's headers directory, and the `kmod` suite, whose
//! checks it runs on that module; `# vusbkey-module: ports`: the VM also gets, in
//! `/vusbkey/ports/`, a module carrying three images (one root-hub port each), the images
//! and the module's manifest).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::ValueEnum;

use crate::kernel::Flavour;
use crate::line::Line;
use crate::paths::Paths;
use crate::vm_kernel::VmKernel;

/// Time limit of a suite that declares none.
pub(crate) const DEFAULT_TIMEOUT_SECS: u64 = 600;

/// One suite.
pub(crate) struct Suite {
    /// Its name: the file stem.
    pub(crate) name: String,
    /// The script.
    pub(crate) path: PathBuf,
    /// The VM is killed after this.
    pub(crate) timeout: Duration,
    /// The kernel it runs on (default: the project's 6.12 debug kernel).
    pub(crate) vm_kernel: VmKernel,
    /// More kernel command line for its VM (default: none).
    pub(crate) append: String,
    /// Another module it tests (`# vusbkey-module:`), if any.
    pub(crate) module: Option<ExtraModule>,
}

/// A module a suite tests besides the one `cargo xtask kmod` builds with the demo image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ExtraModule {
    /// The one DKMS builds from `cargo xtask package`'s `.deb` (`dkms`).
    Dkms,
    /// One carrying three images, a root-hub port each (`ports`).
    Ports,
}

impl Suite {
    /// The suite `name`: `tests/vm/NAME.sh`, or `qemu/NAME.sh` for roles that are not
    /// tests (the demo, the benchmarks).
    pub(crate) fn load(paths: &Paths, name: &str) -> anyhow::Result<Self> {
        let file = format!("{name}.sh");
        let path = [
            paths.root.join("tests/vm").join(&file),
            paths.root.join("qemu").join(&file),
        ]
        .into_iter()
        .find(|p| p.exists())
        .with_context(|| format!("no suite `{name}` in tests/vm/ or qemu/"))?;
        let text = std::fs::read_to_string(&path)?;
        let Header {
            timeout,
            vm_kernel,
            append,
            module,
        } = header(&text).with_context(|| format!("in the header of {}", path.display()))?;
        Ok(Self {
            name: name.to_owned(),
            path,
            timeout,
            vm_kernel,
            append,
            module,
        })
    }

    /// Every suite of `tests/vm/`, sorted by name.
    pub(crate) fn all(paths: &Paths) -> anyhow::Result<Vec<Self>> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(paths.root.join("tests/vm"))? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "sh") {
                if let Some(stem) = path.file_stem().and_then(|s| s.to_str()) {
                    names.push(stem.to_owned());
                }
            }
        }
        names.sort();
        names.iter().map(|name| Self::load(paths, name)).collect()
    }

    /// Where the suite goes in the initramfs.
    pub(crate) fn guest_path(&self) -> String {
        format!("vusbkey/tests/{}.sh", self.name)
    }
}

/// The settings of a suite's leading comment lines.
#[derive(Debug, PartialEq)]
struct Header {
    timeout: Duration,
    vm_kernel: VmKernel,
    append: String,
    module: Option<ExtraModule>,
}

/// The settings in a suite's leading comment lines.
fn header(text: &str) -> anyhow::Result<Header> {
    let mut settings = Header {
        timeout: Duration::from_secs(DEFAULT_TIMEOUT_SECS),
        vm_kernel: VmKernel::Project(Line::default(), Flavour::Debug),
        append: String::new(),
        module: None,
    };
    let mut kernel_line = None;
    for line in text.lines().take_while(|line| line.starts_with('#')) {
        if let Some(secs) = line.strip_prefix("# vusbkey-timeout:") {
            settings.timeout =
                Duration::from_secs(secs.trim().parse().context("bad vusbkey-timeout")?);
        } else if let Some(name) = line.strip_prefix("# vusbkey-flavour:") {
            settings.vm_kernel = match VmKernel::parse(name.trim()) {
                Some(kernel) => kernel,
                None => bail!("bad vusbkey-flavour `{}`", name.trim()),
            };
        } else if let Some(name) = line.strip_prefix("# vusbkey-line:") {
            kernel_line = match Line::from_str(name.trim(), false) {
                Ok(parsed) => Some(parsed),
                Err(_) => bail!("bad vusbkey-line `{}`", name.trim()),
            };
        } else if let Some(args) = line.strip_prefix("# vusbkey-append:") {
            settings.append = args.trim().to_owned();
        } else if let Some(module) = line.strip_prefix("# vusbkey-module:") {
            settings.module = Some(match module.trim() {
                "dkms" => ExtraModule::Dkms,
                "ports" => ExtraModule::Ports,
                other => bail!("bad vusbkey-module `{other}` (`dkms` or `ports`)"),
            });
        }
    }
    if let Some(line) = kernel_line {
        settings.vm_kernel = match settings.vm_kernel {
            VmKernel::Project(_, flavour) => VmKernel::Project(line, flavour),
            kernel @ (VmKernel::Stock | VmKernel::Distro) => {
                bail!("vusbkey-line {line} with Debian's {kernel} kernel, which has no line")
            }
        };
    }
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_settings_parse() {
        let text = "# e2e: ...\n# vusbkey-timeout: 3000\n# vusbkey-flavour: release\n. /lib\n";
        assert_eq!(
            header(text).unwrap(),
            Header {
                timeout: Duration::from_secs(3000),
                vm_kernel: VmKernel::Project(Line::V6_12, Flavour::Release),
                append: String::new(),
                module: None,
            }
        );
        assert_eq!(
            header("# usbip\n# vusbkey-flavour: stock\n")
                .unwrap()
                .vm_kernel,
            VmKernel::Stock
        );
        assert_eq!(
            header("# async\n# vusbkey-append:  driver_async_probe=* \n")
                .unwrap()
                .append,
            "driver_async_probe=*"
        );
        assert_eq!(
            header("# plain\n").unwrap(),
            Header {
                timeout: Duration::from_secs(DEFAULT_TIMEOUT_SECS),
                vm_kernel: VmKernel::Project(Line::V6_12, Flavour::Debug),
                append: String::new(),
                module: None,
            }
        );
        assert_eq!(
            header("# dkms\n# vusbkey-module: dkms\n").unwrap().module,
            Some(ExtraModule::Dkms)
        );
        assert_eq!(
            header("# ports\n# vusbkey-module: ports\n").unwrap().module,
            Some(ExtraModule::Ports)
        );
        assert!(header("# vusbkey-module: kbuild\n").is_err());
        assert!(header("# vusbkey-timeout: soon\n").is_err());
        assert!(header("# vusbkey-flavour: fast\n").is_err());
    }

    #[test]
    fn the_line_header_chooses_the_project_kernel_line() {
        assert_eq!(
            header("# smoke\n# vusbkey-line: 7.2\n").unwrap().vm_kernel,
            VmKernel::Project(Line::V7_2, Flavour::Debug)
        );
        // In either order with the flavour.
        assert_eq!(
            header("# vusbkey-line: 7.2\n# vusbkey-flavour: release\n")
                .unwrap()
                .vm_kernel,
            VmKernel::Project(Line::V7_2, Flavour::Release)
        );
        assert_eq!(
            header("# vusbkey-flavour: release\n# vusbkey-line: 6.12\n")
                .unwrap()
                .vm_kernel,
            VmKernel::Project(Line::V6_12, Flavour::Release)
        );
        assert!(header("# vusbkey-line: 6.13\n").is_err());
        assert!(header("# vusbkey-flavour: stock\n# vusbkey-line: 7.2\n").is_err());
        assert!(header("# vusbkey-flavour: distro\n# vusbkey-line: 7.2\n").is_err());
    }

    #[test]
    fn settings_after_the_header_are_ignored() {
        let text = "# suite\ntrue\n# vusbkey-timeout: 1\n";
        assert_eq!(
            header(text).unwrap().timeout,
            Duration::from_secs(DEFAULT_TIMEOUT_SECS)
        );
    }
}
