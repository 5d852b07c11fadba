//! Taking the Bulk-Only interface from the kernel's driver (usb-storage) for this
//! descriptor, the way QEMU's `usb-host` does, and giving it back.

use std::io;

use crate::usbfs::Device;

/// Claims `interface`, unbinding its kernel driver and configuring the device first when
/// needed. Three attempts: usb-storage may bind again between unbind and claim.
pub fn take(dev: &Device, interface: u8) -> io::Result<()> {
    let interface = u32::from(interface);
    let mut last = io::Error::from_raw_os_error(libc::EBUSY);
    for _ in 0..3 {
        match dev.claim(interface) {
            Ok(()) => return Ok(()),
            Err(e) => match e.raw_os_error() {
                Some(libc::EBUSY) => match dev.disconnect_driver(interface) {
                    Ok(()) => {}
                    Err(e) if e.raw_os_error() == Some(libc::ENODATA) => {}
                    Err(e) => last = e,
                },
                Some(libc::ENOENT | libc::EINVAL) => {
                    dev.set_configuration(1)?;
                    last = e;
                }
                _ => return Err(e),
            },
        }
    }
    Err(last)
}

/// Releases `interface` and lets usb-storage bind it again.
pub fn give_back(dev: &Device, interface: u8) -> io::Result<()> {
    let interface = u32::from(interface);
    match dev.release(interface) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {}
        Err(e) => return Err(e),
    }
    dev.connect_driver(interface)
}
