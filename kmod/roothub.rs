// SPDX-License-Identifier: GPL-2.0

//! A root hub: its hub class requests (USB 2.0 §11.24.2, USB 3.2 §10.16.2) parsed into
//! hub-wide and per-port ones, the hub descriptor for its ports, the SuperSpeed hub's BOS
//! descriptor, and the status-change bitmap.
//!
//! Pure functions, no C and no state: the ports' own state machines are [`RootPort`]s, one
//! per compiled-in image on each root hub.
//!
//! [`RootPort`]: crate::root_port::RootPort

/// Most ports the root hub can have: its descriptor and change bitmap use two bytes of port
/// bits (bit 0 is the hub's), USB 2.0 §11.23.2.1 and §11.12.4.
pub(crate) const MAX_PORTS: usize = 15;

/// Bytes of the status-change bitmap for [`MAX_PORTS`] (USB 2.0 §11.12.4).
pub(crate) const MAX_STATUS_BYTES: usize = MAX_PORTS / 8 + 1;

// Hub class requests as usbcore encodes them: bmRequestType << 8 | bRequest
// (include/linux/usb/hcd.h), USB 2.0 §11.24.2 (Table 11-15), USB 3.2 §10.16.2 (Table
// 10-10).
const CLEAR_HUB_FEATURE: u16 = 0x2001;
const CLEAR_PORT_FEATURE: u16 = 0x2301;
const GET_HUB_DESCRIPTOR: u16 = 0xa006;
const GET_HUB_STATUS: u16 = 0xa000;
const GET_PORT_STATUS: u16 = 0xa300;
const SET_HUB_FEATURE: u16 = 0x2003;
const SET_PORT_FEATURE: u16 = 0x2303;
const SET_HUB_DEPTH: u16 = 0x200c;
const GET_PORT_ERROR_COUNT: u16 = 0xa308;
/// A standard GET_DESCRIPTOR to the root hub device that usbcore does not answer itself:
/// the SuperSpeed root hub's BOS (hcd.c `rh_call_control`).
const GET_DEVICE_DESCRIPTOR: u16 = 0x8006;

// Hub feature selectors, USB 2.0 §11.24.2 (Table 11-17).
const F_C_HUB_LOCAL_POWER: u16 = 0;
const F_C_HUB_OVER_CURRENT: u16 = 1;

/// Hub descriptor type, USB 2.0 §11.23.2.1 (Table 11-13).
const DT_HUB: u8 = 0x29;
/// SuperSpeed hub descriptor type, USB 3.2 §10.15.2.1 (Table 10-3).
const DT_SS_HUB: u8 = 0x2a;
/// BOS descriptor type, USB 3.2 §9.6.2.
const DT_BOS: u8 = 0x0f;

/// Deepest tier a SuperSpeed hub can be at below the root (USB 3.2 §10.16.2.9).
const MAX_HUB_DEPTH: u16 = 4;

/// The protocol of a root hub: which requests it takes, its descriptor and its ports'
/// status layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Protocol {
    /// A USB 2.0 hub (USB 2.0 chapter 11).
    Usb2,
    /// A SuperSpeed hub (USB 3.2 chapter 10).
    Usb3,
}

/// A hub request the root hub does not support: usbcore turns it into a protocol stall.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Stall;

/// A request to one port (USB 2.0 §11.24.2.2, .7, .13; USB 3.2 §10.16.2.2, .5, .6, .10),
/// for its [`RootPort`].
///
/// [`RootPort`]: crate::root_port::RootPort
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PortRequest {
    GetStatus,
    /// The feature selector, and the high byte of wIndex: the link state, timeout or mask
    /// some SuperSpeed features take (USB 3.2 Table 10-11).
    SetFeature(u16, u8),
    ClearFeature(u16),
    /// GetPortErrorCount (SuperSpeed only).
    GetErrorCount,
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
    /// The SuperSpeed root hub's BOS descriptor.
    Bos,
}

/// Parses a request to a root hub of `protocol` with `ports` ports; unsupported requests,
/// and requests to a port the hub does not have, are a [`Stall`].
pub(crate) fn parse(
    protocol: Protocol,
    ports: usize,
    type_req: u16,
    value: u16,
    index: u16,
) -> Result<Request, Stall> {
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
        // §11.24.2.5, USB 3.2 §10.16.2.4: each hub has its own descriptor type.
        GET_HUB_DESCRIPTOR if value >> 8 == u16::from(descriptor_type(protocol)) => {
            Request::Hub(HubReply::Descriptor)
        }
        // §11.24.2.6: local power good, no over-current; no changes.
        GET_HUB_STATUS => Request::Hub(HubReply::Status),
        // §11.24.2.7; wValue 0 is the only status type of a USB 2.0 or Gen 1 hub (USB 3.2
        // §10.16.2.6: the extended status is for Gen 2 hubs).
        GET_PORT_STATUS if value == 0 => Request::Port {
            port: port(index)?,
            request: PortRequest::GetStatus,
        },
        // §11.24.2.13: the high byte of wIndex selects a test mode or indicator; USB 3.2
        // §10.16.2.10: a link state, a U1/U2 timeout or a wake mask.
        SET_PORT_FEATURE => Request::Port {
            port: port(index & 0xff)?,
            request: PortRequest::SetFeature(value, (index >> 8) as u8),
        },
        // USB 3.2 §10.16.2.9: the hub's tier, for its routing; a root hub routes nothing.
        SET_HUB_DEPTH if protocol == Protocol::Usb3 && value <= MAX_HUB_DEPTH => {
            Request::Hub(HubReply::Empty)
        }
        // USB 3.2 §10.16.2.5.
        GET_PORT_ERROR_COUNT if protocol == Protocol::Usb3 => Request::Port {
            port: port(index)?,
            request: PortRequest::GetErrorCount,
        },
        // USB 3.2 §9.6.2: a SuperSpeed device has a BOS descriptor; usbcore reads the root
        // hub's when it registers it.
        GET_DEVICE_DESCRIPTOR if protocol == Protocol::Usb3 && value >> 8 == u16::from(DT_BOS) => {
            Request::Hub(HubReply::Bos)
        }
        // §11.24.2.2.
        CLEAR_PORT_FEATURE => Request::Port {
            port: port(index)?,
            request: PortRequest::ClearFeature(value),
        },
        _ => return Err(Stall),
    };
    Ok(request)
}

/// Writes a hub-wide reply for a hub of `protocol` with `ports` ports into `buf`; returns
/// its length.
pub(crate) fn answer(reply: &HubReply, protocol: Protocol, ports: usize, buf: &mut [u8]) -> usize {
    match reply {
        HubReply::Empty => 0,
        HubReply::Descriptor => match protocol {
            Protocol::Usb2 => {
                let mut desc = [0u8; 7 + 2 * MAX_STATUS_BYTES];
                let len = descriptor(ports, &mut desc);
                put(buf, &desc[..len])
            }
            Protocol::Usb3 => put(buf, &ss_descriptor(ports)),
        },
        HubReply::Status => put(buf, &[0; 4]),
        HubReply::Bos => put(buf, &BOS),
    }
}

/// The descriptor type of a hub of `protocol`.
fn descriptor_type(protocol: Protocol) -> u8 {
    match protocol {
        Protocol::Usb2 => DT_HUB,
        Protocol::Usb3 => DT_SS_HUB,
    }
}

/// The SuperSpeed root hub's BOS descriptor (USB 3.2 §9.6.2): the header and one SuperSpeed
/// USB device capability (§9.6.2.2): 5 Gb/s only (wSpeedsSupported 0x0008, full
/// functionality from there, bFunctionalitySupport 3), no LTM, no U1/U2 exit latencies (the
/// link has no low-power states here).
const BOS: [u8; 15] = [
    5, DT_BOS, 15, 0, 1, // bLength, BOS, wTotalLength 15, one capability
    10, 0x10, 0x03, 0x00, 0x08, 0x00, 3, 0, 0, 0, // SuperSpeed USB capability
];

/// The SuperSpeed hub descriptor, USB 3.2 §10.15.2.1 (Table 10-3): `ports` ports,
/// wHubCharacteristics 0x0011 as the USB 2.0 one (per-port power switching, not compound,
/// no over-current protection), power good at once, no hub controller current, a header
/// decode latency of 0.4 µs (bHubHdrDecLat 4, as dummy_hcd), no hub delay, every port's
/// device removable (DeviceRemovable, a bit per port after bit 0, all zero).
fn ss_descriptor(ports: usize) -> [u8; 12] {
    // At most MAX_PORTS, a byte.
    let ports = ports.min(MAX_PORTS) as u8;
    [12, DT_SS_HUB, ports, 0x11, 0x00, 0, 0, 4, 0, 0, 0, 0]
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
