//! SETUP packets: the 8 bytes of a control transfer to typed requests (USB 2.0 §9.3,
//! §9.4; USB 3.2 §9.4; BOT 1.0 §3). A request that is unknown, or whose fields do not have the values
//! the specification gives, parses as [`Request::Unsupported`]: a Request Error, answered
//! with a stall (USB 2.0 §9.2.7).

// bmRequestType (USB 2.0 §9.3, Table 9-2): direction, type, recipient.
const DEVICE_TO_HOST: u8 = 0x80;
const TYPE_CLASS: u8 = 0x20;
const RECIPIENT_DEVICE: u8 = 0x00;
const RECIPIENT_INTERFACE: u8 = 0x01;
const RECIPIENT_ENDPOINT: u8 = 0x02;

// Standard request codes (USB 2.0 §9.4, Table 9-4).
const GET_STATUS: u8 = 0;
const CLEAR_FEATURE: u8 = 1;
const SET_FEATURE: u8 = 3;
const SET_ADDRESS: u8 = 5;
const GET_DESCRIPTOR: u8 = 6;
const GET_CONFIGURATION: u8 = 8;
const SET_CONFIGURATION: u8 = 9;
const GET_INTERFACE: u8 = 10;
const SET_INTERFACE: u8 = 11;
// SuperSpeed request codes (USB 3.2 §9.4, Table 9-5).
const SET_SEL: u8 = 48;
const SET_ISOCH_DELAY: u8 = 49;
/// SET_SEL's data stage: U1 and U2 system exit latencies (USB 3.2 §9.4.12).
pub(crate) const SET_SEL_LENGTH: u16 = 6;

// Class-specific requests (BOT 1.0 §3.1, §3.2).
const BULK_ONLY_MASS_STORAGE_RESET: u8 = 0xff;
const GET_MAX_LUN: u8 = 0xfe;

/// Feature selector ENDPOINT_HALT (USB 2.0 §9.4, Table 9-6), the only feature this device
/// has: no remote wakeup (see `bmAttributes`), and no test modes to enter on a virtual bus.
const ENDPOINT_HALT: u16 = 0;

/// Highest USB device address (USB 2.0 §9.4.6).
const MAX_ADDRESS: u16 = 127;

/// What GET_STATUS asks about (USB 2.0 §9.4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Recipient {
    Device,
    Interface(u16),
    /// An endpoint address (direction bit 7, number in bits 3..0).
    Endpoint(u8),
}

/// A parsed control request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Request {
    /// GET_STATUS, wLength 2 (USB 2.0 §9.4.5).
    GetStatus(Recipient),
    /// CLEAR_FEATURE(ENDPOINT_HALT) of an endpoint address (USB 2.0 §9.4.1).
    ClearHalt(u8),
    /// SET_FEATURE(ENDPOINT_HALT) of an endpoint address (USB 2.0 §9.4.9).
    SetHalt(u8),
    /// SET_ADDRESS, 0 to 127 (USB 2.0 §9.4.6).
    SetAddress(u8),
    /// GET_DESCRIPTOR (USB 2.0 §9.4.3): type, index, language ID, wLength.
    GetDescriptor {
        descriptor_type: u8,
        index: u8,
        language: u16,
        length: u16,
    },
    /// GET_CONFIGURATION, wLength 1 (USB 2.0 §9.4.2).
    GetConfiguration,
    /// SET_CONFIGURATION (USB 2.0 §9.4.7).
    SetConfiguration(u8),
    /// GET_INTERFACE of an interface, wLength 1 (USB 2.0 §9.4.4).
    GetInterface(u16),
    /// SET_INTERFACE (USB 2.0 §9.4.10).
    SetInterface { interface: u16, alternate: u16 },
    /// SET_SEL, with its 6-byte data stage (USB 3.2 §9.4.12).
    SetSel,
    /// SET_ISOCH_DELAY (USB 3.2 §9.4.11); the delay is of no use to a bulk-only device.
    SetIsochDelay,
    /// Bulk-Only Mass Storage Reset of an interface (BOT 1.0 §3.1).
    BulkOnlyReset(u16),
    /// Get Max LUN of an interface, wLength 1 (BOT 1.0 §3.2).
    GetMaxLun(u16),
    /// Anything else, or a known request with fields out of specification.
    Unsupported,
}

/// Parses a SETUP packet.
pub(crate) fn parse(setup: &[u8; 8]) -> Request {
    let [request_type, request, v0, v1, i0, i1, l0, l1] = *setup;
    let value = u16::from_le_bytes([v0, v1]);
    let index = u16::from_le_bytes([i0, i1]);
    let length = u16::from_le_bytes([l0, l1]);
    const IN_DEVICE: u8 = DEVICE_TO_HOST | RECIPIENT_DEVICE;
    const IN_INTERFACE: u8 = DEVICE_TO_HOST | RECIPIENT_INTERFACE;
    const IN_ENDPOINT: u8 = DEVICE_TO_HOST | RECIPIENT_ENDPOINT;
    const OUT_CLASS_INTERFACE: u8 = TYPE_CLASS | RECIPIENT_INTERFACE;
    const IN_CLASS_INTERFACE: u8 = DEVICE_TO_HOST | TYPE_CLASS | RECIPIENT_INTERFACE;
    match (request_type, request, value, length) {
        (IN_DEVICE, GET_STATUS, 0, 2) if index == 0 => Request::GetStatus(Recipient::Device),
        (IN_INTERFACE, GET_STATUS, 0, 2) => Request::GetStatus(Recipient::Interface(index)),
        (IN_ENDPOINT, GET_STATUS, 0, 2) => match endpoint(index) {
            Some(ep) => Request::GetStatus(Recipient::Endpoint(ep)),
            None => Request::Unsupported,
        },
        (RECIPIENT_ENDPOINT, CLEAR_FEATURE, ENDPOINT_HALT, 0) => {
            endpoint(index).map_or(Request::Unsupported, Request::ClearHalt)
        }
        (RECIPIENT_ENDPOINT, SET_FEATURE, ENDPOINT_HALT, 0) => {
            endpoint(index).map_or(Request::Unsupported, Request::SetHalt)
        }
        (RECIPIENT_DEVICE, SET_ADDRESS, address, 0) if index == 0 && address <= MAX_ADDRESS => {
            let [address, _] = address.to_le_bytes();
            Request::SetAddress(address)
        }
        (IN_DEVICE, GET_DESCRIPTOR, _, _) => {
            let [index_, descriptor_type] = value.to_le_bytes();
            Request::GetDescriptor {
                descriptor_type,
                index: index_,
                language: index,
                length,
            }
        }
        (IN_DEVICE, GET_CONFIGURATION, 0, 1) if index == 0 => Request::GetConfiguration,
        // The upper byte of wValue is reserved (USB 2.0 §9.4.7).
        (RECIPIENT_DEVICE, SET_CONFIGURATION, configuration, 0)
            if index == 0 && configuration <= 0xff =>
        {
            let [configuration, _] = configuration.to_le_bytes();
            Request::SetConfiguration(configuration)
        }
        (IN_INTERFACE, GET_INTERFACE, 0, 1) => Request::GetInterface(index),
        (RECIPIENT_INTERFACE, SET_INTERFACE, alternate, 0) => Request::SetInterface {
            interface: index,
            alternate,
        },
        (RECIPIENT_DEVICE, SET_SEL, 0, SET_SEL_LENGTH) if index == 0 => Request::SetSel,
        (RECIPIENT_DEVICE, SET_ISOCH_DELAY, _, 0) if index == 0 => Request::SetIsochDelay,
        (OUT_CLASS_INTERFACE, BULK_ONLY_MASS_STORAGE_RESET, 0, 0) => Request::BulkOnlyReset(index),
        (IN_CLASS_INTERFACE, GET_MAX_LUN, 0, 1) => Request::GetMaxLun(index),
        _ => Request::Unsupported,
    }
}

/// The endpoint address in a wIndex (USB 2.0 §9.3.4, Figure 9-2): bits 14..8 and 6..4 are
/// reserved.
fn endpoint(index: u16) -> Option<u8> {
    let [address, high] = index.to_le_bytes();
    (high == 0 && address & 0x70 == 0).then_some(address)
}
