//! The USB/IP path's benchmark VM: `vusbkey-usbip` on Debian 12's stock kernel next to
//! Linux's reference device (f_mass_storage through the gadget configfs) serving the same
//! image, in one VM run (`qemu/bench-usbip.sh`).

use std::path::Path;

use xshell::Shell;

use crate::paths::Paths;
use crate::suite::Suite;
use crate::vm::{self, Boot, Report};
use crate::vm_kernel::VmKernel;

/// Boots the stock-kernel benchmark VM serving `image` and returns what it measured.
pub(crate) fn run(paths: &Paths, image: &Path, runs: u32, kvm: bool) -> anyhow::Result<Report> {
    let dir = paths.target().join("bench/usbip");
    std::fs::create_dir_all(&dir)?;
    let sh = Shell::new()?;
    let (initramfs, kernel) = vm::stock_base_initramfs(paths, &dir.join("initramfs"))?;
    let suite = Suite::load(paths, "bench-usbip")?;
    initramfs.add_file(&suite.path, &suite.guest_path(), 0o644)?;
    initramfs.add_file(image, "vusbkey/bench/image.img", 0o644)?;
    // The plain release build: the image is given with --image at run time.
    let release = vm::cargo_release(paths, "vusbkey-usbip")?;
    initramfs.add_program_at(&sh, &release.join("vusbkey-usbip"), "usr/bin/vusbkey-usbip")?;
    let initrd = dir.join("initramfs.cpio.gz");
    initramfs.pack(&sh, &initrd)?;
    let boot = Boot {
        kernel: kernel.vmlinuz(),
        initrd,
        append: format!("vusbkey.suite=bench-usbip vusbkey.bench_runs={runs}"),
        log: dir.join("bench-usbip.log"),
        memory_mib: 3072,
        uuid: None,
        timeout: suite.timeout,
        vm_kernel: VmKernel::Stock,
    };
    boot.run("bench-usbip", kvm)
}
