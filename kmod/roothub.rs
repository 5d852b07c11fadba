// SPDX-License-Identifier: GPL-2.0

//! The root hub: its hub class requests (USB 2.0 §11.24.2) parsed into hub-wide and
//! per-port ones, the hub descriptor for its ports, and the status-change bitmap.
//!
//! Pure functions, no C and no state: the ports' own state machines are [`RootPort`]s, one
//! per compiled-in image.
//!
//! [`RootPort`]: crate::root_port::RootPort

/// Most ports the root hub can have: its descriptor and change bitmap use two bytes of port
/// bits (bit 0 is the hub's), USB 2.0 §11.23.2.1 and §11.12.4.
pub(crate) const MAX_PORTS: usize = 15;

/// Bytes of the status-change bitmap for [`MAX_PORTS`] (USB 2.0 §11.12.4).
pub(crate) const MAX_STATUS_BYTES: usize = MAX_PORTS / 8 + 1;

// Hub class requests as usbcore encodes them: bmRequestType << 8 | bRequest
// (include/linux/usb/hcd.h), USB 2.0 §11.24.2 (Table 11-15).
const CLEAR_HUB_FEATURE: u16 = 0x2001;
const CLEAR_PORT_FEATURE: u16 = 0x2301;
const GET_HUB_DESCRIPTOR: u16 = 0xa006;
const GET_HUB_STATUS: u16 = 0xa000;
const GET_PORT_STATUS: u16 = 0xa300;
const SET_HUB_FEATURE: u16 = 0x2003;
const SET_PORT_FEATURE: u16 = 0x2303;

// Hub feature selectors, USB 2.0 §11.24.2 (Table 11-17).
const F_C_HUB_LOCAL_POWER: u16 = 0;
const F_C_HUB_OVER_CURRENT: u16 = 1;

/// Hub descriptor type, USB 2.0 §11.23.2.1 (Table 11-13).
const DT_HUB: u8 = 0x29;

/// A hub request the root hub does not support: usbcore turns it into a protocol stall.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Stall;

/// A request to one port (USB 2.0 §11.24.2.2, .7, .13), for its [`RootPort`].
///
/// [`RootPort`]: crate::root_port::RootPort
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PortRequest {
    GetStatus,
    SetFeature(u16),
    ClearFeature(u16),
}

/// A hub class request, parsed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Request {
    /// Answered by the hub itself: the data stage's bytes.
    Hub(HubReply),
    /// For port `port` (1-based, at most the hub's port count).
    Port { port: usize, request: PortRequest },
}

/// A hub-wide request's answer.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum HubReply {
    /// No data stage.
    Empty,
    /// The hub descriptor.
    Descriptor,
    /// wHubStatus and wHubChange.
    Status,
}

/// Parses a request to a root hub of `ports` ports; unsupported requests, and requests to
/// a port the hub does not have, are a [`Stall`].
pub(crate) fn parse(ports: usize, type_req: u16, value: u16, index: u16) -> Result<Request, Stall> {
    let port = |number: u16| {
        let number = usize::from(number);
        if (1..=ports).contains(&number) {
            Ok(number)
        } else {
            Err(Stall)
        }
    };
    let request = match type_req {
        // §11.24.2.1: the hub has no local power or over-current changes to clear.
        CLEAR_HUB_FEATURE => match value {
            F_C_HUB_LOCAL_POWER | F_C_HUB_OVER_CURRENT => Request::Hub(HubReply::Empty),
            _ => return Err(Stall),
        },
        // §11.24.2.12: only C_HUB_* features exist, and they cannot be set.
        SET_HUB_FEATURE => return Err(Stall),
        // §11.24.2.5.
        GET_HUB_DESCRIPTOR if value >> 8 == u16::from(DT_HUB) => {
            Request::Hub(HubReply::Descriptor)
        }
        // §11.24.2.6: local power good, no over-current; no changes.
        GET_HUB_STATUS => Request::Hub(HubReply::Status),
        // §11.24.2.7; wValue 0 is the only status type of a USB 2.0 hub.
        GET_PORT_STATUS if value == 0 => Request::Port {
            port: port(index)?,
            request: PortRequest::GetStatus,
        },
        // §11.24.2.13: the high byte of wIndex selects a test mode or indicator.
        SET_PORT_FEATURE => Request::Port {
            port: port(index & 0xff)?,
            request: PortRequest::SetFeature(value),
        },
        // §11.24.2.2.
        CLEAR_PORT_FEATURE => Request::Port {
            port: port(index)?,
            request: PortRequest::ClearFeature(value),
        },
        _ => return Err(Stall),
    };
    Ok(request)
}

/// Writes a hub-wide reply for a hub of `ports` ports into `buf`; returns its length.
pub(crate) fn answer(reply: &HubReply, ports: usize, buf: &mut [u8]) -> usize {
    match reply {
        HubReply::Empty => 0,
        HubReply::Descriptor => {
            let mut desc = [0u8; 7 + 2 * MAX_STATUS_BYTES];
            let len = descriptor(ports, &mut desc);
            put(buf, &desc[..len])
        }
        HubReply::Status => put(buf, &[0; 4]),
    }
}

/// The hub descriptor, USB 2.0 §11.23.2.1, into `out`; returns its length. `ports` ports;
/// wHubCharacteristics 0x0011 = per-port power switching, not compound, no over-current
/// protection; power good at once; no hub controller current; every port's device
/// removable (DeviceRemovable all zero); PortPwrCtrlMask all ones (USB 1.1 compatibility).
/// Both bitmaps have a bit per port after bit 0, in whole bytes.
fn descriptor(ports: usize, out: &mut [u8; 7 + 2 * MAX_STATUS_BYTES]) -> usize {
    let ports = ports.min(MAX_PORTS);
    let width = status_bytes(ports);
    let len = 7 + 2 * width;
    // Both fit a byte: at most 15 and 11.
    out[..7].copy_from_slice(&[len as u8, DT_HUB, ports as u8, 0x11, 0x00, 0, 0]);
    out[7..7 + width].fill(0);
    out[7 + width..len].fill(0xff);
    len
}

/// Bytes of the status-change bitmap (and of each descriptor bitmap) of a hub with `ports`
/// ports: bit 0 for the hub, bit N for port N (USB 2.0 §11.12.4).
pub(crate) fn status_bytes(ports: usize) -> usize {
    ports / 8 + 1
}

/// Copies as much of `data` as fits into `buf`; returns the number of bytes copied.
pub(crate) fn put(buf: &mut [u8], data: &[u8]) -> usize {
    let n = buf.len().min(data.len());
    buf[..n].copy_from_slice(&data[..n]);
    n
}
