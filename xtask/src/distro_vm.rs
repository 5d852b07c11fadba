//! The VMs on Debian forky's own kernel (`# vusbkey-flavour: distro`): that kernel's
//! `vmlinuz` booted unmodified, with its own modules from the package and a vusbkey.ko
//! built for it (see `distro_kmod`). `tests/vm/distro.sh` runs `kmod.sh`'s smoke subset
//! there, so both suites are in the initramfs.

use std::path::{Path, PathBuf};

use xshell::Shell;

use crate::distro_kernel::SUITE;
use crate::paths::Paths;
use crate::suite::Suite;
use crate::{distro_kmod, keydisk, stock, vm};

/// Modules of the kernel the suites load (`load_module NAME`), each with those it depends
/// on: the disk (Debian builds USB core and SCSI as modules), and the FAT mount (Debian's
/// vfat defaults to codepage 437 and iocharset ascii).
const MODULES: &[&str] = &["usb-storage", "sd_mod", "vfat", "nls_cp437", "nls_ascii"];

/// Builds the initramfs at `out` and returns the kernel to boot with it: `/init`, the test
/// library, the suites (and `kmod.sh`), the module with the demo image and the one forky's
/// DKMS built from its package, the image and its token, the kernel's modules, and
/// `/vusbkey/distro.env` naming the kernel the guest must find itself on.
pub(crate) fn initramfs(
    paths: &Paths,
    dir: &Path,
    out: &Path,
    suites: &[&Suite],
) -> anyhow::Result<PathBuf> {
    let sh = Shell::new()?;
    let keys = keydisk::make(paths)?;
    let module = distro_kmod::build(paths, &keys.image, "demo")?;
    let kernel = &module.kernel;
    println!(
        "vm: Debian {SUITE}'s own kernel {} (package version {}), unmodified: {}",
        kernel.release,
        kernel.version,
        kernel.vmlinuz().display()
    );
    let initramfs = vm::suite_initramfs(paths, &dir.join("initramfs"))?;
    let kmod = Suite::load(paths, vm::KMOD_SUITE)?;
    for suite in suites.iter().copied().chain([&kmod]) {
        initramfs.add_file(&suite.path, &suite.guest_path(), 0o644)?;
    }
    initramfs.add_file(&module.ko, "vusbkey/vusbkey.ko", 0o644)?;
    initramfs.add_file(&module.dkms_ko, "vusbkey/dkms/vusbkey.ko", 0o644)?;
    vm::add_key_disk(&initramfs, &keys)?;
    stock::add_modules(&initramfs, &kernel.modules_dir(), &kernel.release, MODULES)?;
    let env = format!(
        "DISTRO_RELEASE={}\nDISTRO_VERSION={}\n",
        kernel.release, kernel.version
    );
    initramfs.add_bytes("vusbkey/distro.env", env.as_bytes(), 0o644)?;
    initramfs.pack(&sh, out)?;
    Ok(kernel.vmlinuz())
}
