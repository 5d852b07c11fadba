//! `cargo xtask vm`: boots QEMU (TCG by default) on the project's kernel and initramfs,
//! streams the serial console to a log under `target/`, and collects the guest's checks.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context;
use xshell::Shell;

use crate::initramfs::Initramfs;
use crate::kernel::Flavour;
use crate::kmod::{self, Module};
use crate::paths::Paths;
use crate::progress::elapsed;
use crate::results::{self, Check, Line, Summary};

/// Default hard limit for one VM run.
pub(crate) const DEFAULT_TIMEOUT_SECS: u64 = 600;

/// Linux's reference device (dummy_hcd + g_mass_storage) in load order, from the kernel build.
const REFERENCE_MODULES: &[&str] = &[
    "fs/configfs/configfs.ko",
    "drivers/usb/gadget/udc/udc-core.ko",
    "drivers/usb/gadget/libcomposite.ko",
    "drivers/usb/gadget/function/usb_f_mass_storage.ko",
    "drivers/usb/gadget/udc/dummy_hcd.ko",
    "drivers/usb/gadget/legacy/g_mass_storage.ko",
];

/// Programs of the build machine the guest tests use.
const GUEST_PROGRAMS: &[&str] = &[
    "/usr/bin/sg_inq",
    "/usr/bin/sg_readcap",
    "/usr/bin/sg_modes",
    "/usr/bin/sg_requests",
    "/usr/bin/sg_vpd",
    "/usr/bin/sg_raw",
    "/usr/bin/sg_turs",
];

/// How to run the VMs.
pub(crate) struct Options {
    /// Kernel flavour to boot.
    pub(crate) flavour: Flavour,
    /// KVM instead of TCG.
    pub(crate) kvm: bool,
    /// Hard limit per VM.
    pub(crate) timeout: Duration,
}

/// Builds everything, then boots one VM per suite of `tests/vm/` (all when `suites` is empty).
pub(crate) fn run_suites(
    paths: &Paths,
    options: &Options,
    suites: &[String],
) -> anyhow::Result<Summary> {
    let module = kmod::build(paths, options.flavour)?;
    let suites = if suites.is_empty() {
        all_suites(paths)?
    } else {
        suites.to_vec()
    };
    let dir = paths.target().join("vm").join(options.flavour.to_string());
    let initrd = dir.join("initramfs.cpio.gz");
    test_initramfs(paths, &module, &dir.join("initramfs"))?.pack(&Shell::new()?, &initrd)?;
    let mut summary = Summary::default();
    for suite in &suites {
        let boot = Boot {
            kernel: module.kernel.bzimage(),
            initrd: initrd.clone(),
            append: format!("vusbkey.suite={suite}"),
            log: dir.join(format!("{suite}.log")),
        };
        for check in boot.run(suite, options)? {
            summary.add(suite, check);
        }
    }
    Ok(summary)
}

/// The suite names: stems of `tests/vm/*.sh`, sorted.
fn all_suites(paths: &Paths) -> anyhow::Result<Vec<String>> {
    let mut suites = Vec::new();
    for entry in std::fs::read_dir(paths.root.join("tests/vm"))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "sh") {
            if let Some(stem) = path.file_stem().and_then(|s| s.to_str()) {
                suites.push(stem.to_owned());
            }
        }
    }
    suites.sort();
    Ok(suites)
}

/// The test VM's initramfs: init, test library and suites, the module, the reference device, sg3-utils.
fn test_initramfs(paths: &Paths, module: &Module, root: &Path) -> anyhow::Result<Initramfs> {
    let sh = Shell::new()?;
    let initramfs = Initramfs::new(root)?;
    initramfs.add_file(&paths.root.join("qemu/init.sh"), "init", 0o755)?;
    initramfs.add_file(&paths.root.join("qemu/lib.sh"), "vusbkey/lib.sh", 0o644)?;
    for suite in all_suites(paths)? {
        let file = format!("{suite}.sh");
        initramfs.add_file(
            &paths.root.join("tests/vm").join(&file),
            &format!("vusbkey/tests/{file}"),
            0o644,
        )?;
    }
    initramfs.add_file(&module.ko, "vusbkey/vusbkey.ko", 0o644)?;
    for reference in REFERENCE_MODULES {
        let source = module.kernel.build_dir.join(reference);
        let name = source
            .file_name()
            .context("module path")?
            .to_string_lossy()
            .into_owned();
        initramfs.add_file(&source, &format!("vusbkey/ref/{name}"), 0o644)?;
    }
    for program in GUEST_PROGRAMS {
        initramfs.add_program(&sh, Path::new(program))?;
    }
    Ok(initramfs)
}

/// One VM boot.
pub(crate) struct Boot {
    /// bzImage.
    pub(crate) kernel: PathBuf,
    /// gzip'd cpio.
    pub(crate) initrd: PathBuf,
    /// Extra kernel command line.
    pub(crate) append: String,
    /// Where the serial console goes.
    pub(crate) log: PathBuf,
}

impl Boot {
    /// Boots, streams the console into the log, and returns the checks the guest reported,
    /// plus a failed check when the guest hung, crashed or lost result lines.
    pub(crate) fn run(&self, what: &str, options: &Options) -> anyhow::Result<Vec<Check>> {
        let accel = if options.kvm { "kvm" } else { "tcg" };
        println!(
            "vm: booting {what} ({} kernel, {accel}, limit {} s; console log {})",
            options.flavour,
            options.timeout.as_secs(),
            self.log.display()
        );
        let mut child = Command::new("qemu-system-x86_64")
            .args(["-M", "pc", "-accel", accel, "-m", "2048", "-smp", "2"])
            .args(["-nographic", "-no-reboot", "-nic", "none"])
            .arg("-kernel")
            .arg(&self.kernel)
            .arg("-initrd")
            .arg(&self.initrd)
            .arg("-append")
            .arg(format!("console=ttyS0 quiet panic=-1 {}", self.append))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting qemu-system-x86_64 (run `cargo xtask setup`)")?;
        let stdout = child.stdout.take().context("qemu stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).split(b'\n').map_while(Result::ok) {
                if tx
                    .send(String::from_utf8_lossy(&line).into_owned())
                    .is_err()
                {
                    break;
                }
            }
        });
        let mut log = std::fs::File::create(&self.log)?;
        let start = Instant::now();
        let deadline = start + options.timeout;
        let mut checks = Vec::new();
        let mut done = None;
        let mut timed_out = false;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    writeln!(log, "{line}")?;
                    match results::parse(&line) {
                        Line::Check(check) => {
                            let verdict = if check.passed { "ok  " } else { "FAIL" };
                            println!("  {verdict} {what}/{} {}", check.name, check.detail);
                            checks.push(check);
                        }
                        Line::Done(count) => done = Some(count),
                        Line::Other => {}
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    timed_out = true;
                    break;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        if timed_out {
            let _ = child.kill();
        }
        let _ = child.wait();
        let reported = checks.len();
        let verdict = match done {
            _ if timed_out => Some(format!(
                "VM killed after the {} s limit; the guest hung (see {})",
                options.timeout.as_secs(),
                self.log.display()
            )),
            None => Some(format!(
                "the guest stopped before finishing (crash or panic?); see {}",
                self.log.display()
            )),
            Some(count) if count != reported => Some(format!(
                "the guest printed {count} results but {reported} were read (garbled console?); see {}",
                self.log.display()
            )),
            Some(_) => None,
        };
        if let Some(detail) = verdict {
            println!("  FAIL {what}/vm-completed {detail}");
            checks.push(Check {
                passed: false,
                name: "vm-completed".to_owned(),
                detail,
            });
        }
        println!("vm: {what} finished in {}", elapsed(start));
        Ok(checks)
    }
}
