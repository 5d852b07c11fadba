//! QEMU inside the test VM: what the host VM needs to run a guest VM with the key disk
//! passed through (`usb-host`), as on a real hypervisor host.

use std::path::Path;

use xshell::Shell;

use crate::initramfs::Initramfs;

/// The QEMU binary, carried at the same path.
const QEMU: &str = "/usr/bin/qemu-system-x86_64";
/// QEMU modules loaded at run time: TCG itself, and `usb-host` (which needs libusb).
const QEMU_MODULES: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu/qemu/accel-tcg-x86_64.so",
    "/usr/lib/x86_64-linux-gnu/qemu/hw-usb-host.so",
];
/// Firmware: qboot, the minimal BIOS the guests boot with (under nested emulation SeaBIOS
/// alone took minutes), SeaBIOS's directory for the VGA ROM, and the option ROMs QEMU
/// loads for `-kernel` boots.
const FIRMWARE_DIRS: &[&str] = &["/usr/share/seabios"];
const FIRMWARE_FILES: &[&str] = &[
    "/usr/share/qemu/qboot.rom",
    "/usr/share/qemu/kvmvapic.bin",
    "/usr/share/qemu/linuxboot.bin",
    "/usr/share/qemu/linuxboot_dma.bin",
    "/usr/share/qemu/pvh.bin",
    "/usr/share/qemu/multiboot_dma.bin",
];

/// Adds `qemu-system-x86_64`, its run-time modules and firmware, with their libraries.
pub(crate) fn add_qemu(initramfs: &Initramfs, sh: &Shell) -> anyhow::Result<()> {
    initramfs.add_program(sh, Path::new(QEMU))?;
    for module in QEMU_MODULES {
        initramfs.add_program(sh, Path::new(module))?;
    }
    for dir in FIRMWARE_DIRS {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            initramfs.add_host_file(&path, 0o644)?;
        }
    }
    for file in FIRMWARE_FILES {
        initramfs.add_host_file(Path::new(file), 0o644)?;
    }
    Ok(())
}
