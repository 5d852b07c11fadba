//! usbdevfs, the interface QEMU's `usb-host` drives: the ioctls on `/dev/bus/usb/BBB/DDD`
//! and the asynchronous URBs they submit and reap. The only `unsafe` code of the crate.

use std::collections::HashMap;
use std::ffi::c_void;
use std::fs::OpenOptions;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

/// `_IOC` of asm-generic/ioctl.h for usbdevfs's type `'U'`.
const fn ioc(dir: u32, nr: u32, size: usize) -> libc::c_ulong {
    ((dir << 30) | ((size as u32) << 16) | ((b'U' as u32) << 8) | nr) as libc::c_ulong
}
const IOC_NONE: u32 = 0;
const IOC_WRITE: u32 = 1;
const IOC_READ: u32 = 2;
const PTR: usize = std::mem::size_of::<*mut c_void>();
const UINT: usize = std::mem::size_of::<u32>();

const USBDEVFS_CONTROL: libc::c_ulong =
    ioc(IOC_READ | IOC_WRITE, 0, std::mem::size_of::<CtrlTransfer>());
const USBDEVFS_BULK: libc::c_ulong =
    ioc(IOC_READ | IOC_WRITE, 2, std::mem::size_of::<BulkTransfer>());
const USBDEVFS_RESETEP: libc::c_ulong = ioc(IOC_READ, 3, UINT);
const USBDEVFS_SETINTERFACE: libc::c_ulong = ioc(IOC_READ, 4, std::mem::size_of::<SetInterface>());
const USBDEVFS_SETCONFIGURATION: libc::c_ulong = ioc(IOC_READ, 5, UINT);
const USBDEVFS_GETDRIVER: libc::c_ulong = ioc(IOC_WRITE, 8, std::mem::size_of::<GetDriver>());
const USBDEVFS_SUBMITURB: libc::c_ulong = ioc(IOC_READ, 10, std::mem::size_of::<Urb>());
const USBDEVFS_DISCARDURB: libc::c_ulong = ioc(IOC_NONE, 11, 0);
const USBDEVFS_REAPURBNDELAY: libc::c_ulong = ioc(IOC_WRITE, 13, PTR);
const USBDEVFS_CLAIMINTERFACE: libc::c_ulong = ioc(IOC_READ, 15, UINT);
const USBDEVFS_RELEASEINTERFACE: libc::c_ulong = ioc(IOC_READ, 16, UINT);
const USBDEVFS_IOCTL: libc::c_ulong =
    ioc(IOC_READ | IOC_WRITE, 18, std::mem::size_of::<UsbIoctl>());
const USBDEVFS_RESET: libc::c_ulong = ioc(IOC_NONE, 20, 0);
const USBDEVFS_CLEAR_HALT: libc::c_ulong = ioc(IOC_READ, 21, UINT);
const USBDEVFS_DISCONNECT: libc::c_ulong = ioc(IOC_NONE, 22, 0);
const USBDEVFS_CONNECT: libc::c_ulong = ioc(IOC_NONE, 23, 0);

const URB_TYPE_CONTROL: u8 = 2;
const URB_TYPE_BULK: u8 = 3;
const MAX_DRIVER_NAME: usize = 256;

/// `struct usbdevfs_ctrltransfer`.
#[repr(C)]
struct CtrlTransfer {
    request_type: u8,
    request: u8,
    value: u16,
    index: u16,
    length: u16,
    timeout: u32,
    data: *mut c_void,
}

/// `struct usbdevfs_bulktransfer`.
#[repr(C)]
struct BulkTransfer {
    ep: u32,
    len: u32,
    timeout: u32,
    data: *mut c_void,
}

/// `struct usbdevfs_setinterface`.
#[repr(C)]
struct SetInterface {
    interface: u32,
    altsetting: u32,
}

/// `struct usbdevfs_getdriver`.
#[repr(C)]
struct GetDriver {
    interface: u32,
    driver: [u8; MAX_DRIVER_NAME],
}

/// `struct usbdevfs_ioctl`: an ioctl for the driver of one interface.
#[repr(C)]
struct UsbIoctl {
    ifno: i32,
    ioctl_code: i32,
    data: *mut c_void,
}

/// `struct usbdevfs_urb` without iso frames.
#[repr(C)]
struct Urb {
    kind: u8,
    endpoint: u8,
    status: i32,
    flags: u32,
    buffer: *mut c_void,
    buffer_length: i32,
    actual_length: i32,
    start_frame: i32,
    number_of_packets: i32,
    error_count: i32,
    signr: u32,
    usercontext: *mut c_void,
}

/// The 8-byte SETUP packet of a control transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Setup {
    /// `bmRequestType`; bit 7 set means device-to-host.
    pub request_type: u8,
    /// `bRequest`.
    pub request: u8,
    /// `wValue`.
    pub value: u16,
    /// `wIndex`.
    pub index: u16,
    /// `wLength`.
    pub length: u16,
}

impl Setup {
    /// The packet as it goes on the wire (little-endian words).
    pub fn to_bytes(self) -> [u8; 8] {
        let [v0, v1] = self.value.to_le_bytes();
        let [i0, i1] = self.index.to_le_bytes();
        let [l0, l1] = self.length.to_le_bytes();
        [self.request_type, self.request, v0, v1, i0, i1, l0, l1]
    }
}

/// What kind of transfer an asynchronous URB is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UrbKind {
    /// Bulk, on the endpoint given with it.
    Bulk,
    /// Control on endpoint 0; the buffer starts with the SETUP packet.
    Control,
}

/// A URB given back by the kernel.
#[derive(Debug)]
pub struct Completion {
    /// The handle [`Device::submit`] returned.
    pub id: u64,
    /// 0 or a negative errno.
    pub status: i32,
    /// Bytes transferred.
    pub actual: usize,
    /// The buffer, with the data of an IN transfer.
    pub buffer: Vec<u8>,
}

/// A submitted URB and its buffer, kept at a fixed address until the kernel gives it back.
struct InFlight {
    urb: Urb,
    buffer: Vec<u8>,
    id: u64,
}

/// URBs the kernel holds, by the address of their `usbdevfs_urb`.
#[derive(Default)]
struct InFlightTable {
    urbs: Mutex<HashMap<usize, *mut InFlight>>,
}

// SAFETY: the raw pointers are owned boxes, only touched under the mutex or after the
// kernel has handed them back; nothing in them is tied to a thread.
unsafe impl Send for InFlightTable {}
// SAFETY: as for `Send`; all access goes through the mutex.
unsafe impl Sync for InFlightTable {}

impl Drop for InFlightTable {
    fn drop(&mut self) {
        let urbs = self.urbs.get_mut().unwrap_or_else(|e| e.into_inner());
        for (_, ptr) in urbs.drain() {
            // SAFETY: the pointer came from `Box::into_raw`, and the descriptor was closed
            // before this table dropped (field order of `Device`), which makes the kernel
            // kill and forget every URB it held: nothing else refers to the box any more.
            drop(unsafe { Box::from_raw(ptr) });
        }
    }
}

/// An open usbdevfs device node. Shareable between threads, like QEMU's one descriptor.
pub struct Device {
    // Field order matters: the descriptor closes (and the kernel drops our URBs) before
    // the table frees their buffers.
    fd: OwnedFd,
    in_flight: InFlightTable,
    next_id: std::sync::atomic::AtomicU64,
}

/// The result of an ioctl returning an int: the value, or the errno.
fn check(ret: libc::c_int) -> io::Result<usize> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret as usize)
    }
}

impl Device {
    /// Opens a device node read-write.
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = OpenOptions::new().read(true).write(true).open(path)?;
        Ok(Self {
            fd: file.into(),
            in_flight: InFlightTable::default(),
            next_id: std::sync::atomic::AtomicU64::new(1),
        })
    }

    /// An ioctl whose argument is a pointer to `arg`.
    fn ioctl_with<T>(&self, request: libc::c_ulong, arg: &mut T) -> io::Result<usize> {
        // SAFETY: `request` is one of the usbdevfs codes above, each encoding the size of
        // the `#[repr(C)]` type it is used with here; `arg` is a valid, exclusive pointer
        // for the duration of the call, and the kernel does not keep it.
        check(unsafe { libc::ioctl(self.fd.as_raw_fd(), request, arg as *mut T) })
    }

    /// An ioctl without argument.
    fn ioctl_none(&self, request: libc::c_ulong) -> io::Result<usize> {
        // SAFETY: usbdevfs requests of type `_IO` read no argument.
        check(unsafe { libc::ioctl(self.fd.as_raw_fd(), request, 0usize) })
    }

    /// USBDEVFS_CONTROL: a synchronous control transfer; `data` must be `wLength` long.
    /// Returns the bytes transferred.
    pub fn control(&self, setup: Setup, data: &mut [u8], timeout_ms: u32) -> io::Result<usize> {
        if data.len() != usize::from(setup.length) {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        let mut ctrl = CtrlTransfer {
            request_type: setup.request_type,
            request: setup.request,
            value: setup.value,
            index: setup.index,
            length: setup.length,
            timeout: timeout_ms,
            data: data.as_mut_ptr().cast(),
        };
        self.ioctl_with(USBDEVFS_CONTROL, &mut ctrl)
    }

    /// USBDEVFS_BULK: a synchronous bulk transfer of `data.len()` bytes on `ep`.
    /// Returns the bytes transferred.
    pub fn bulk(&self, ep: u8, data: &mut [u8], timeout_ms: u32) -> io::Result<usize> {
        let len =
            u32::try_from(data.len()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        let mut bulk = BulkTransfer {
            ep: u32::from(ep),
            len,
            timeout: timeout_ms,
            data: data.as_mut_ptr().cast(),
        };
        self.ioctl_with(USBDEVFS_BULK, &mut bulk)
    }

    /// USBDEVFS_SUBMITURB: queues `buffer` on `ep` (0 for control) and returns its handle.
    pub fn submit(&self, kind: UrbKind, ep: u8, buffer: Vec<u8>) -> io::Result<u64> {
        let length =
            i32::try_from(buffer.len()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let raw = Box::into_raw(Box::new(InFlight {
            urb: Urb {
                kind: match kind {
                    UrbKind::Bulk => URB_TYPE_BULK,
                    UrbKind::Control => URB_TYPE_CONTROL,
                },
                endpoint: ep,
                status: 0,
                flags: 0,
                buffer: std::ptr::null_mut(),
                buffer_length: length,
                actual_length: 0,
                start_frame: 0,
                number_of_packets: 0,
                error_count: 0,
                signr: 0,
                usercontext: std::ptr::null_mut(),
            },
            buffer,
            id,
        }));
        // SAFETY: `raw` is a fresh box that only this function refers to until it is in
        // the table; the buffer pointer stays valid because the vector is never resized.
        let urb = unsafe {
            (*raw).urb.buffer = (*raw).buffer.as_mut_ptr().cast();
            std::ptr::addr_of_mut!((*raw).urb)
        };
        let mut table = self
            .in_flight
            .urbs
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        // SAFETY: `urb` points to a live `usbdevfs_urb` whose buffer is valid for
        // `buffer_length` bytes; both stay allocated until the kernel hands the URB back
        // through REAPURB (which removes it from the table) or the descriptor closes.
        let ret = check(unsafe { libc::ioctl(self.fd.as_raw_fd(), USBDEVFS_SUBMITURB, urb) });
        match ret {
            Ok(_) => {
                table.insert(urb as usize, raw);
                Ok(id)
            }
            Err(e) => {
                // SAFETY: the kernel refused the URB, so it holds no reference to the box.
                drop(unsafe { Box::from_raw(raw) });
                Err(e)
            }
        }
    }

    /// USBDEVFS_DISCARDURB: asks the kernel to unlink URB `id`. It is still reaped later.
    pub fn discard(&self, id: u64) -> io::Result<()> {
        let table = self
            .in_flight
            .urbs
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let found = table.iter().find(|(_, &ptr)| {
            // SAFETY: boxes in the table are live; the kernel writes only `status`,
            // `actual_length` and the buffer, not `id`.
            unsafe { (*ptr).id == id }
        });
        let Some((&urb, _)) = found else {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        };
        // SAFETY: DISCARDURB takes the user address of a URB this descriptor submitted; the
        // kernel only compares it.
        check(unsafe { libc::ioctl(self.fd.as_raw_fd(), USBDEVFS_DISCARDURB, urb) }).map(|_| ())
    }

    /// USBDEVFS_REAPURBNDELAY: one given-back URB, or `None` when none is waiting.
    pub fn reap_nowait(&self) -> io::Result<Option<Completion>> {
        let mut urb: *mut c_void = std::ptr::null_mut();
        match self.ioctl_with(USBDEVFS_REAPURBNDELAY, &mut urb) {
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => return Ok(None),
            Err(e) => return Err(e),
        }
        let raw = self
            .in_flight
            .urbs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&(urb as usize))
            .ok_or_else(|| io::Error::other("kernel reaped a URB this process never submitted"))?;
        // SAFETY: the kernel handed this URB back, so it no longer refers to it, and it is
        // out of the table: this is the only reference to the box.
        let in_flight = unsafe { Box::from_raw(raw) };
        let InFlight { urb, buffer, id } = *in_flight;
        Ok(Some(Completion {
            id,
            status: urb.status,
            actual: usize::try_from(urb.actual_length).unwrap_or(0),
            buffer,
        }))
    }

    /// Waits until a URB is ready to reap (or the device is gone); false on timeout.
    pub fn wait_reapable(&self, timeout: Duration) -> io::Result<bool> {
        let mut pfd = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLOUT,
            revents: 0,
        };
        let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
        // SAFETY: one valid pollfd, for the duration of the call.
        let n = check(unsafe { libc::poll(&mut pfd, 1, ms) })?;
        Ok(n > 0)
    }

    /// How many URBs the kernel still holds for this descriptor.
    pub fn in_flight(&self) -> usize {
        self.in_flight
            .urbs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    /// USBDEVFS_CLEAR_HALT: CLEAR_FEATURE(ENDPOINT_HALT) and the host side's toggle reset.
    pub fn clear_halt(&self, ep: u8) -> io::Result<()> {
        let mut ep = u32::from(ep);
        self.ioctl_with(USBDEVFS_CLEAR_HALT, &mut ep).map(|_| ())
    }

    /// USBDEVFS_RESETEP: resets the host side of an endpoint only.
    pub fn reset_ep(&self, ep: u8) -> io::Result<()> {
        let mut ep = u32::from(ep);
        self.ioctl_with(USBDEVFS_RESETEP, &mut ep).map(|_| ())
    }

    /// USBDEVFS_RESET: a port reset, after which the kernel restores address and configuration.
    pub fn reset(&self) -> io::Result<()> {
        self.ioctl_none(USBDEVFS_RESET).map(|_| ())
    }

    /// USBDEVFS_SETINTERFACE.
    pub fn set_interface(&self, interface: u32, alt: u32) -> io::Result<()> {
        let mut arg = SetInterface {
            interface,
            altsetting: alt,
        };
        self.ioctl_with(USBDEVFS_SETINTERFACE, &mut arg).map(|_| ())
    }

    /// USBDEVFS_SETCONFIGURATION (-1 unconfigures, as libusb does).
    pub fn set_configuration(&self, config: i32) -> io::Result<()> {
        let mut arg = config;
        self.ioctl_with(USBDEVFS_SETCONFIGURATION, &mut arg)
            .map(|_| ())
    }

    /// USBDEVFS_CLAIMINTERFACE.
    pub fn claim(&self, interface: u32) -> io::Result<()> {
        let mut arg = interface;
        self.ioctl_with(USBDEVFS_CLAIMINTERFACE, &mut arg)
            .map(|_| ())
    }

    /// USBDEVFS_RELEASEINTERFACE.
    pub fn release(&self, interface: u32) -> io::Result<()> {
        let mut arg = interface;
        self.ioctl_with(USBDEVFS_RELEASEINTERFACE, &mut arg)
            .map(|_| ())
    }

    /// The kernel driver bound to `interface`, if any (USBDEVFS_GETDRIVER).
    pub fn driver(&self, interface: u32) -> io::Result<Option<String>> {
        let mut arg = GetDriver {
            interface,
            driver: [0; MAX_DRIVER_NAME],
        };
        match self.ioctl_with(USBDEVFS_GETDRIVER, &mut arg) {
            Ok(_) => {
                let end = arg
                    .driver
                    .iter()
                    .position(|&b| b == 0)
                    .unwrap_or(MAX_DRIVER_NAME);
                Ok(Some(
                    String::from_utf8_lossy(&arg.driver[..end]).into_owned(),
                ))
            }
            Err(e) if e.raw_os_error() == Some(libc::ENODATA) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// USBDEVFS_IOCTL(USBDEVFS_DISCONNECT): unbinds the kernel driver of `interface`.
    pub fn disconnect_driver(&self, interface: u32) -> io::Result<()> {
        self.interface_ioctl(interface, USBDEVFS_DISCONNECT)
    }

    /// USBDEVFS_IOCTL(USBDEVFS_CONNECT): lets kernel drivers bind `interface` again.
    pub fn connect_driver(&self, interface: u32) -> io::Result<()> {
        self.interface_ioctl(interface, USBDEVFS_CONNECT)
    }

    fn interface_ioctl(&self, interface: u32, code: libc::c_ulong) -> io::Result<()> {
        let mut arg = UsbIoctl {
            ifno: i32::try_from(interface)
                .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?,
            ioctl_code: code as i32,
            data: std::ptr::null_mut(),
        };
        self.ioctl_with(USBDEVFS_IOCTL, &mut arg).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ioctl_numbers_match_the_kernel_headers() {
        // Values as the C macros compute them on x86_64.
        assert_eq!(USBDEVFS_CONTROL, 0xc018_5500);
        assert_eq!(USBDEVFS_BULK, 0xc018_5502);
        assert_eq!(USBDEVFS_SUBMITURB, 0x8038_550a);
        assert_eq!(USBDEVFS_REAPURBNDELAY, 0x4008_550d);
        assert_eq!(USBDEVFS_DISCARDURB, 0x550b);
        assert_eq!(USBDEVFS_IOCTL, 0xc010_5512);
        assert_eq!(USBDEVFS_CLEAR_HALT, 0x8004_5515);
        assert_eq!(USBDEVFS_GETDRIVER, 0x4104_5508);
        assert_eq!(USBDEVFS_RESET, 0x5514);
    }

    #[test]
    fn setup_packet_is_little_endian() {
        let setup = Setup {
            request_type: 0x80,
            request: 6,
            value: 0x0100,
            index: 0x0409,
            length: 0x12,
        };
        assert_eq!(setup.to_bytes(), [0x80, 6, 0, 1, 9, 4, 0x12, 0]);
    }
}
