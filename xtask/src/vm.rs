//! `cargo xtask vm`: boots QEMU (TCG by default) on the project's kernel, Debian's stock
//! kernel or Debian forky's own kernel with a test initramfs, streams the serial console
//! to a log under `target/`, and collects the guest's checks.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use uuid::Uuid;
use xshell::Shell;

use crate::initramfs::Initramfs;
use crate::kernel::{self, Flavour, Kernel};
use crate::keydisk::{self, KeyDisk};
use crate::kmod;
use crate::line::Line;
use crate::nested_qemu;
use crate::paths::Paths;
use crate::progress::elapsed;
use crate::results::{self, Check, Metric, Share, Summary};
use crate::stock::{self, StockKernel};
use crate::suite::{ExtraModule, Suite};
use crate::usbip;
use crate::vm_kernel::VmKernel;
use crate::{distro_vm, dkms};

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

/// The USB/IP tools (Debian package `usbip`), for the VMs on the stock kernel.
const USBIP_PROGRAMS: &[&str] = &["/usr/sbin/usbip", "/usr/sbin/usbipd"];
/// The USB ids the tools name devices with: Debian's path (package `usb.ids`), not hwdata's.
const USB_IDS: &str = "/usr/share/misc/usb.ids";

/// Guest programs of the workspace (package `vusbkey-vmtools`), installed in `/usr/bin`.
const VMTOOLS: &[&str] = &["diskread", "elapsed", "hostile"];

/// The suite whose checks `distro.sh` and `dkms.sh` run on another module or kernel.
pub(crate) const KMOD_SUITE: &str = "kmod";

/// How to run the VMs.
#[derive(Default)]
pub(crate) struct Options {
    /// Project kernel line to boot, overriding each suite's own (stock suites keep theirs).
    pub(crate) line: Option<Line>,
    /// Project kernel flavour to boot, overriding each suite's own (stock suites keep theirs).
    pub(crate) flavour: Option<Flavour>,
    /// KVM instead of TCG.
    pub(crate) kvm: bool,
    /// Hard limit per VM, overriding each suite's own.
    pub(crate) timeout: Option<Duration>,
    /// More kernel command line for every VM (settings the suites read from /proc/cmdline).
    pub(crate) append: String,
    /// Appended to each suite's name in messages and results (e.g. `-7.2`), so that the
    /// checks of a suite run again on another kernel stay apart from its first run's.
    pub(crate) name_suffix: String,
}

/// Builds everything, then boots one VM per suite (all of `tests/vm/` when `names` is
/// empty), grouped by the kernel they boot.
pub(crate) fn run_suites(
    paths: &Paths,
    options: &Options,
    names: &[String],
) -> anyhow::Result<Summary> {
    let suites = if names.is_empty() {
        Suite::all(paths)?
    } else {
        names
            .iter()
            .map(|name| Suite::load(paths, name))
            .collect::<anyhow::Result<Vec<_>>>()?
    };
    let mut summary = Summary::default();
    for vm_kernel in VmKernel::all() {
        let group: Vec<&Suite> = suites
            .iter()
            .filter(|suite| suite.vm_kernel.overridden(options.line, options.flavour) == vm_kernel)
            .collect();
        if group.is_empty() {
            continue;
        }
        let dir = paths.target().join("vm").join(vm_kernel.to_string());
        let initrd = dir.join("initramfs.cpio.gz");
        let kernel = match vm_kernel {
            VmKernel::Project(line, flavour) => {
                test_initramfs(paths, line, flavour, &dir, &initrd, &group)?
            }
            VmKernel::Stock => stock_initramfs(paths, &dir, &initrd, &group)?,
            VmKernel::Distro => distro_vm::initramfs(paths, &dir, &initrd, &group)?,
        };
        for suite in group {
            let name = format!("{}{}", suite.name, options.name_suffix);
            let boot = Boot {
                kernel: kernel.clone(),
                vm_kernel,
                initrd: initrd.clone(),
                append: format!(
                    "vusbkey.suite={} {} {}",
                    suite.name, suite.append, options.append
                ),
                log: dir.join(format!("{}.log", suite.name)),
                memory_mib: 2048,
                uuid: None,
                timeout: options.timeout.unwrap_or(suite.timeout),
            };
            for check in boot.run(&name, options.kvm)?.checks {
                summary.add(&name, check);
            }
        }
    }
    Ok(summary)
}

/// Builds the test VM's initramfs at `out` and returns the kernel to boot with it. It holds
/// the init, test library and suites, the module with the demo image (and one with the
/// token altered), the image itself, the reference device, sg3-utils, and for the
/// end-to-end suite QEMU with a guest VM (6.12 release kernel, initramfs with the agent).
fn test_initramfs(
    paths: &Paths,
    line: Line,
    flavour: Flavour,
    dir: &Path,
    out: &Path,
    suites: &[&Suite],
) -> anyhow::Result<PathBuf> {
    let sh = Shell::new()?;
    let keys = keydisk::make(paths)?;
    let module = kmod::build(paths, line, flavour, &[&keys.image], "demo")?;
    let tampered = kmod::build(paths, line, flavour, &[&keys.tampered], "tampered")?;

    let initramfs = base_initramfs(paths, &module.kernel, &dir.join("initramfs"))?;
    add_host_role(paths, &keys, dir, &initramfs)?;
    for suite in suites {
        initramfs.add_file(&suite.path, &suite.guest_path(), 0o644)?;
    }
    initramfs.add_file(&module.ko, "vusbkey/vusbkey.ko", 0o644)?;
    add_key_disk(&initramfs, &keys)?;
    initramfs.add_file(&tampered.ko, "vusbkey/tampered/vusbkey.ko", 0o644)?;
    if suites
        .iter()
        .any(|suite| suite.module == Some(ExtraModule::Ports))
    {
        add_ports_module(paths, line, flavour, &initramfs)?;
    }
    if suites
        .iter()
        .any(|suite| suite.module == Some(ExtraModule::Dkms))
    {
        let ko = dkms::build(paths, &module.kernel, &keys.image)?;
        initramfs.add_file(&ko, "vusbkey/dkms/vusbkey.ko", 0o644)?;
        if !suites.iter().any(|suite| suite.name == KMOD_SUITE) {
            let kmod = Suite::load(paths, KMOD_SUITE)?;
            initramfs.add_file(&kmod.path, &kmod.guest_path(), 0o644)?;
        }
    }
    for program in GUEST_PROGRAMS {
        initramfs.add_program(&sh, Path::new(program))?;
    }
    initramfs.pack(&sh, out)?;
    Ok(module.kernel.bzimage())
}

/// The images of the module with a port per VM: tokens for [`keydisk::VM_UUID`] (1 MiB),
/// [`keydisk::OTHER_UUID`] (4 MiB) and [`keydisk::THIRD_UUID`] (5 MiB): ports 2 and 3 large
/// enough to time reads.
const PORT_VMS: [(Uuid, u64); 3] = [
    (keydisk::VM_UUID, 1 << 20),
    (keydisk::OTHER_UUID, 4 << 20),
    (keydisk::THIRD_UUID, 5 << 20),
];

/// The module with one port per VM, in `/vusbkey/ports/`: `vusbkey.ko` carrying the
/// images of [`PORT_VMS`], the images as `image1.img` .. `image3.img`, the manifest `cargo
/// xtask kmod` wrote (`vusbkey.ports`), and `image-builder` (its `ports` command reads the
/// same from the VM's sysfs).
fn add_ports_module(
    paths: &Paths,
    line: Line,
    flavour: Flavour,
    initramfs: &Initramfs,
) -> anyhow::Result<()> {
    let sh = Shell::new()?;
    let images = add_port_images(paths, initramfs)?;
    let module = kmod::build(paths, line, flavour, &images, "ports")?;
    initramfs.add_file(&module.ko, "vusbkey/ports/vusbkey.ko", 0o644)?;
    let manifest = module.ko.with_file_name(kmod::PORTS_MANIFEST);
    initramfs.add_file(&manifest, "vusbkey/ports/vusbkey.ports", 0o644)?;
    let builder = cargo_release(paths, "image-builder")?.join("image-builder");
    initramfs.add_program_at(&sh, &builder, "usr/bin/image-builder")
}

/// The images of [`PORT_VMS`], as `/vusbkey/ports/image1.img` .. `image3.img`; returns
/// their files.
fn add_port_images(paths: &Paths, initramfs: &Initramfs) -> anyhow::Result<Vec<PathBuf>> {
    let images = keydisk::images_for(paths, "port", &PORT_VMS)?;
    for (i, image) in images.iter().enumerate() {
        initramfs.add_file(image, &format!("vusbkey/ports/image{}.img", i + 1), 0o644)?;
    }
    Ok(images)
}

/// The hypervisor-host role (`qemu/host.sh`): QEMU, the host's monitor, and a guest VM
/// (6.12 release kernel, initramfs with the agent) to start with the key disk attached.
fn add_host_role(
    paths: &Paths,
    keys: &KeyDisk,
    dir: &Path,
    initramfs: &Initramfs,
) -> anyhow::Result<()> {
    let sh = Shell::new()?;
    initramfs.add_file(&paths.root.join("qemu/host.sh"), "vusbkey/host.sh", 0o644)?;
    nested_qemu::add_qemu(initramfs, &sh)?;
    // The host's monitor of the guests' agents.
    let monitor = cargo_release(paths, "vusbkey-monitor")?.join("vusbkey-monitor");
    initramfs.add_program_at(&sh, &monitor, "usr/bin/vusbkey-monitor")?;
    // Guests run the 6.12 release kernel, whatever the host VM's: the code under test is in
    // the host VM, and a debug kernel under nested emulation boots several times slower.
    let guest_kernel = kernel::build(paths, Line::V6_12, Flavour::Release)?;
    let guest_initrd = dir.join("guest-initramfs.cpio.gz");
    guest_initramfs(paths, keys, &dir.join("guest-initramfs"))?.pack(&sh, &guest_initrd)?;
    initramfs.add_file(&guest_kernel.bzimage(), "vusbkey/guest/bzImage", 0o644)?;
    initramfs.add_file(&guest_initrd, "vusbkey/guest/initramfs.cpio.gz", 0o644)?;
    let env = format!(
        "VM_UUID={}\nOTHER_UUID={}\nTHIRD_UUID={}\n",
        keydisk::VM_UUID,
        keydisk::OTHER_UUID,
        keydisk::THIRD_UUID
    );
    initramfs.add_bytes("vusbkey/e2e.env", env.as_bytes(), 0o644)
}

/// Builds the initramfs of the VMs on Debian's stock kernel at `out` and returns that
/// kernel: the suites, the demo image and its token, `vusbkey-usbip` carrying it, the
/// images of [`PORT_VMS`] (several keys at once), the host role with its guest VM,
/// sg3-utils, the USB/IP tools, and the stock kernel's modules the suites load (no
/// vusbkey.ko: the kernel has no Rust).
fn stock_initramfs(
    paths: &Paths,
    dir: &Path,
    out: &Path,
    suites: &[&Suite],
) -> anyhow::Result<PathBuf> {
    let sh = Shell::new()?;
    let (initramfs, kernel) = stock_base_initramfs(paths, &dir.join("initramfs"))?;
    for suite in suites {
        initramfs.add_file(&suite.path, &suite.guest_path(), 0o644)?;
    }
    let keys = keydisk::make(paths)?;
    add_key_disk(&initramfs, &keys)?;
    add_host_role(paths, &keys, dir, &initramfs)?;
    // vusbkey-usbip with the demo image compiled in, as `cargo xtask usbip` builds it.
    let server = usbip::build(paths, &keys.image, "demo")?;
    initramfs.add_program_at(&sh, &server, "usr/bin/vusbkey-usbip")?;
    add_port_images(paths, &initramfs)?;
    initramfs.pack(&sh, out)?;
    Ok(kernel.vmlinuz())
}

/// What every VM on Debian's stock kernel has: `/init`, the test library, the vmtools
/// programs, sg3-utils, the USB/IP tools, and the stock kernel's modules the suites load.
pub(crate) fn stock_base_initramfs(
    paths: &Paths,
    root: &Path,
) -> anyhow::Result<(Initramfs, StockKernel)> {
    let sh = Shell::new()?;
    let kernel = stock::kernel(paths)?;
    println!(
        "vm: Debian's stock kernel {} (package version {})",
        kernel.release, kernel.version
    );
    let initramfs = suite_initramfs(paths, root)?;
    for program in GUEST_PROGRAMS.iter().chain(USBIP_PROGRAMS) {
        initramfs.add_program(&sh, Path::new(program))?;
    }
    initramfs.add_host_file(Path::new(USB_IDS), 0o644)?;
    kernel.add_modules(&initramfs, stock::MODULES)?;
    Ok((initramfs, kernel))
}

/// The demo image as `/vusbkey/image.img` and its token as `/vusbkey/token.pst`.
pub(crate) fn add_key_disk(initramfs: &Initramfs, keys: &KeyDisk) -> anyhow::Result<()> {
    initramfs.add_file(&keys.image, "vusbkey/image.img", 0o644)?;
    // As image-builder stores it.
    initramfs.add_bytes(
        "vusbkey/token.pst",
        format!("{}\n", keys.token).as_bytes(),
        0o644,
    )
}

/// What every VM on the project's kernel that runs suites has: `/init`, the test library,
/// the vmtools programs, the reference device.
pub(crate) fn base_initramfs(
    paths: &Paths,
    kernel: &Kernel,
    root: &Path,
) -> anyhow::Result<Initramfs> {
    let initramfs = suite_initramfs(paths, root)?;
    for reference in REFERENCE_MODULES {
        let source = kernel.build_dir.join(reference);
        let name = source
            .file_name()
            .context("module path")?
            .to_string_lossy()
            .into_owned();
        initramfs.add_file(&source, &format!("vusbkey/ref/{name}"), 0o644)?;
    }
    Ok(initramfs)
}

/// What every VM that runs suites has: `/init`, the test library, the vmtools programs.
pub(crate) fn suite_initramfs(paths: &Paths, root: &Path) -> anyhow::Result<Initramfs> {
    let initramfs = Initramfs::new(root)?;
    initramfs.add_file(&paths.root.join("qemu/init.sh"), "init", 0o755)?;
    initramfs.add_file(&paths.root.join("qemu/lib.sh"), "vusbkey/lib.sh", 0o644)?;
    let sh = Shell::new()?;
    let release = cargo_release(paths, "vusbkey-vmtools")?;
    for tool in VMTOOLS {
        initramfs.add_program_at(&sh, &release.join(tool), &format!("usr/bin/{tool}"))?;
    }
    Ok(initramfs)
}

/// Builds a package of the workspace in release mode; returns `target/release`.
pub(crate) fn cargo_release(paths: &Paths, package: &str) -> anyhow::Result<PathBuf> {
    println!("vm: building {package} (release)");
    let status = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--release", "-p", package])
        .current_dir(&paths.root)
        .status()?;
    if !status.success() {
        bail!("building {package} failed");
    }
    Ok(paths.target().join("release"))
}

/// Adds the agent (release build) as `/usr/bin/vusbkey-agent` and the demo issuer's public
/// key as its trusted key.
pub(crate) fn add_agent(
    paths: &Paths,
    keys: &KeyDisk,
    initramfs: &Initramfs,
) -> anyhow::Result<()> {
    let sh = Shell::new()?;
    let agent = cargo_release(paths, "vusbkey-agent")?.join("vusbkey-agent");
    initramfs.add_program_at(&sh, &agent, "usr/bin/vusbkey-agent")?;
    initramfs.add_file(&keys.issuer_public, "etc/vusbkey/trusted/issuer.pem", 0o644)
}

/// The guest VM's initramfs: `qemu/guest-init.sh`, the agent, the trusted keys, `flood`.
fn guest_initramfs(paths: &Paths, keys: &KeyDisk, root: &Path) -> anyhow::Result<Initramfs> {
    let initramfs = Initramfs::new(root)?;
    let qemu = paths.root.join("qemu");
    initramfs.add_file(&qemu.join("guest-init.sh"), "init", 0o755)?;
    initramfs.add_file(&qemu.join("guest-alarm.sh"), "usr/bin/vusbkey-alarm", 0o755)?;
    initramfs.add_file(
        &qemu.join("guest-poweroff.sh"),
        "usr/bin/vusbkey-poweroff",
        0o755,
    )?;
    add_agent(paths, keys, &initramfs)?;
    // The hostile guest of the e2e suite's flood check.
    let flood = cargo_release(paths, "vusbkey-vmtools")?.join("flood");
    initramfs.add_program_at(&Shell::new()?, &flood, "usr/bin/flood")?;
    initramfs.add_file(
        &keys.other_public,
        "etc/vusbkey/trusted-other/other.pem",
        0o644,
    )?;
    Ok(initramfs)
}

/// One VM boot.
pub(crate) struct Boot {
    /// bzImage (or the stock kernel's vmlinuz).
    pub(crate) kernel: PathBuf,
    /// gzip'd cpio.
    pub(crate) initrd: PathBuf,
    /// Extra kernel command line.
    pub(crate) append: String,
    /// Where the serial console goes.
    pub(crate) log: PathBuf,
    /// Which kernel that is, for messages.
    pub(crate) vm_kernel: VmKernel,
    /// Guest memory in MiB.
    pub(crate) memory_mib: u32,
    /// The VM's SMBIOS UUID (`-uuid`), when it matters.
    pub(crate) uuid: Option<Uuid>,
    /// Hard limit: the VM is killed after it.
    pub(crate) timeout: Duration,
}

/// What a VM reported.
#[derive(Default)]
pub(crate) struct Report {
    /// The checks, plus a failed one when the guest hung, crashed or lost result lines.
    pub(crate) checks: Vec<Check>,
    /// The measurements.
    pub(crate) metrics: Vec<Metric>,
    /// The rows of the profiles it took.
    pub(crate) profile: Vec<Share>,
}

impl Boot {
    /// Boots, streams the console into the log, and returns what the guest reported.
    pub(crate) fn run(&self, what: &str, kvm: bool) -> anyhow::Result<Report> {
        let accel = if kvm { "kvm" } else { "tcg" };
        println!(
            "vm: booting {what} ({} kernel, {accel}, limit {} s; console log {})",
            self.vm_kernel,
            self.timeout.as_secs(),
            self.log.display()
        );
        let mut qemu = Command::new("qemu-system-x86_64");
        if let Some(uuid) = self.uuid {
            qemu.arg("-uuid").arg(uuid.to_string());
        }
        let mut child = qemu
            .args(["-M", "pc", "-accel", accel, "-smp", "2"])
            .arg("-m")
            .arg(self.memory_mib.to_string())
            .args(["-nographic", "-no-reboot", "-nic", "none"])
            .arg("-kernel")
            .arg(&self.kernel)
            .arg("-initrd")
            .arg(&self.initrd)
            .arg("-append")
            // A 16 MiB log: the checks read new kernel reports by line count, which a
            // wrapped 128 KiB buffer would hide.
            .arg(format!(
                "console=ttyS0 quiet panic=-1 log_buf_len=16M {}",
                self.append
            ))
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
        let deadline = start + self.timeout;
        let mut report = Report::default();
        let checks = &mut report.checks;
        let mut done = None;
        let mut timed_out = false;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    writeln!(log, "{line}")?;
                    match results::parse(&line) {
                        results::Line::Check(check) => {
                            let verdict = if check.passed { "ok  " } else { "FAIL" };
                            println!("  {verdict} {what}/{} {}", check.name, check.detail);
                            checks.push(check);
                        }
                        results::Line::Done(count) => done = Some(count),
                        results::Line::Progress(text) => println!("  {text}"),
                        results::Line::Metric(metric) => report.metrics.push(metric),
                        results::Line::Profile(share) => report.profile.push(share),
                        results::Line::Other => {}
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
                self.timeout.as_secs(),
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
        Ok(report)
    }
}
