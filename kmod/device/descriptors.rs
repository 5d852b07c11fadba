//! USB descriptors of the device (USB 2.0 §9.6, USB 3.2 §9.6, MSC BOT 1.0 §4), built on
//! the fly into the host's buffer.

use super::identity::Identity;
use super::speed::Speed;

/// Endpoint address of bulk-IN (endpoint 1, IN).
pub const BULK_IN_ENDPOINT: u8 = 0x81;
/// Endpoint address of bulk-OUT (endpoint 2, OUT).
pub const BULK_OUT_ENDPOINT: u8 = 0x02;
/// `bMaxPacketSize0` of the default control pipe at high speed.
const EP0_MAX_PACKET: u8 = 64;
/// `bMaxPacketSize0` at SuperSpeed: an exponent, 2^9 = 512 bytes (USB 3.2 §9.6.1).
const EP0_MAX_PACKET_EXPONENT_SUPER_SPEED: u8 = 9;
/// `wMaxPacketSize` of the bulk endpoints at high speed (USB 2.0 §5.8.3).
const BULK_MAX_PACKET: u16 = 512;
/// `wMaxPacketSize` of the bulk endpoints at full speed, for the other-speed configuration.
const BULK_MAX_PACKET_FULL_SPEED: u16 = 64;
/// `wMaxPacketSize` of the bulk endpoints at SuperSpeed (USB 3.2 §9.6.6).
const BULK_MAX_PACKET_SUPER_SPEED: u16 = 1024;
/// `bMaxBurst` of the bulk endpoints: 16 packets per burst (USB 3.2 §9.6.7), the most a
/// bulk endpoint may declare; nothing paces a virtual bus, so the largest bursts.
const BULK_MAX_BURST: u8 = 15;

/// Descriptor types (USB 2.0 §9.4, Table 9-5).
pub(crate) const DT_DEVICE: u8 = 1;
pub(crate) const DT_CONFIGURATION: u8 = 2;
pub(crate) const DT_STRING: u8 = 3;
const DT_INTERFACE: u8 = 4;
const DT_ENDPOINT: u8 = 5;
pub(crate) const DT_DEVICE_QUALIFIER: u8 = 6;
pub(crate) const DT_OTHER_SPEED_CONFIGURATION: u8 = 7;
/// Descriptor types of USB 3.2 (§9.4, Table 9-6).
pub(crate) const DT_BOS: u8 = 15;
const DT_DEVICE_CAPABILITY: u8 = 16;
const DT_SUPER_SPEED_ENDPOINT_COMPANION: u8 = 48;
/// Device capability types (USB 3.2 §9.6.2, Table 9-14).
const CAPABILITY_USB_2_0_EXTENSION: u8 = 2;
const CAPABILITY_SUPER_SPEED_USB: u8 = 3;

/// `bcdUSB` at high speed: USB 2.0 (no BOS, as Linux's f_mass_storage on a high-speed UDC).
const BCD_USB: u16 = 0x0200;
/// `bcdUSB` at SuperSpeed: USB 3.2 (USB 3.2 §9.6.1).
const BCD_USB_SUPER_SPEED: u16 = 0x0320;
/// `bcdDevice`: device release 1.00.
const BCD_DEVICE: u16 = 0x0100;
/// The only configuration's `bConfigurationValue`.
pub(crate) const CONFIGURATION_VALUE: u8 = 1;
/// The only interface's `bInterfaceNumber`.
pub(crate) const INTERFACE_NUMBER: u16 = 0;
/// `bmAttributes`: bit 7 must be one (USB 2.0 §9.6.3); bus powered, no remote wakeup.
const CONFIG_ATTRIBUTES: u8 = 0x80;
/// `bMaxPower` in 2 mA units: 100 mA.
const MAX_POWER: u8 = 50;
/// `bMaxPower` at SuperSpeed, in 8 mA units (USB 3.2 §9.6.3): 96 mA.
const MAX_POWER_SUPER_SPEED: u8 = 12;
/// Mass Storage class, SCSI transparent command set, Bulk-Only Transport (BOT 1.0 §4.3).
const MSC_CLASS: u8 = 0x08;
const MSC_SUBCLASS_SCSI: u8 = 0x06;
const MSC_PROTOCOL_BOT: u8 = 0x50;
/// Endpoint `bmAttributes`: bulk.
const EP_BULK: u8 = 0x02;
/// Length of the configuration descriptor with its interface and endpoints.
const CONFIGURATION_TOTAL_LENGTH: u16 = 9 + 9 + 7 + 7;
/// The same at SuperSpeed, where each endpoint has its companion descriptor.
const SUPER_SPEED_CONFIGURATION_TOTAL_LENGTH: u16 = 9 + 9 + (7 + 6) * 2;
/// Length of the BOS descriptor with its two device capabilities.
const BOS_TOTAL_LENGTH: u16 = 5 + 7 + 10;
/// SuperSpeed capability: the speeds the device supports (bit 2 high speed, bit 3
/// SuperSpeed) and the lowest one at which all of it works (2, high speed).
const SPEEDS_SUPPORTED: u16 = 0b1100;
const FUNCTIONALITY_SUPPORT: u8 = 2;
/// U1 and U2 exit latencies the device declares (USB 3.2 §9.6.2.2: at most 10 µs and
/// 2047 µs); Linux's UDCs give the same defaults (`USB_DEFAULT_U1_DEV_EXIT_LAT`,
/// `USB_DEFAULT_U2_DEV_EXIT_LAT`).
const U1_EXIT_LATENCY: u8 = 0x01;
const U2_EXIT_LATENCY: u16 = 0x01f4;
/// String descriptor 0: the one supported language, US English (USB 2.0 §9.6.7).
pub(crate) const LANGUAGE_US_ENGLISH: u16 = 0x0409;

/// Device descriptor (USB 2.0 §9.6.1, USB 3.2 §9.6.1). Device class 0: the class is per
/// interface (BOT 1.0 §4.1); string indices 1, 2, 3 name manufacturer, product and serial
/// number.
pub(crate) fn device(identity: &Identity<'_>, speed: Speed) -> [u8; 18] {
    let (bcd_usb, ep0_max_packet) = match speed {
        Speed::High => (BCD_USB, EP0_MAX_PACKET),
        Speed::Super => (BCD_USB_SUPER_SPEED, EP0_MAX_PACKET_EXPONENT_SUPER_SPEED),
    };
    let [usb_lo, usb_hi] = bcd_usb.to_le_bytes();
    let [vid_lo, vid_hi] = identity.vendor_id.to_le_bytes();
    let [pid_lo, pid_hi] = identity.product_id.to_le_bytes();
    let [rel_lo, rel_hi] = BCD_DEVICE.to_le_bytes();
    [
        18,
        DT_DEVICE,
        usb_lo,
        usb_hi,
        0,
        0,
        0,
        ep0_max_packet,
        vid_lo,
        vid_hi,
        pid_lo,
        pid_hi,
        rel_lo,
        rel_hi,
        1,
        2,
        3,
        1,
    ]
}

/// Device qualifier (USB 2.0 §9.6.2): what the device would report at full speed.
pub(crate) fn device_qualifier() -> [u8; 10] {
    let [usb_lo, usb_hi] = BCD_USB.to_le_bytes();
    [
        10,
        DT_DEVICE_QUALIFIER,
        usb_lo,
        usb_hi,
        0,
        0,
        0,
        EP0_MAX_PACKET,
        1,
        0,
    ]
}

/// The configuration at high speed (`descriptor_type` [`DT_CONFIGURATION`]) or, as the
/// other-speed configuration (USB 2.0 §9.6.4), at full speed: configuration, interface
/// (BOT 1.0 §4.3) and the two bulk endpoints (BOT 1.0 §4.4, §4.5).
pub(crate) fn configuration(descriptor_type: u8) -> [u8; CONFIGURATION_TOTAL_LENGTH as usize] {
    let max_packet = if descriptor_type == DT_OTHER_SPEED_CONFIGURATION {
        BULK_MAX_PACKET_FULL_SPEED
    } else {
        BULK_MAX_PACKET
    };
    concat(&[
        &configuration_and_interface(descriptor_type, CONFIGURATION_TOTAL_LENGTH, MAX_POWER),
        &bulk_endpoint(BULK_IN_ENDPOINT, max_packet),
        &bulk_endpoint(BULK_OUT_ENDPOINT, max_packet),
    ])
}

/// The configuration at SuperSpeed (USB 3.2 §9.6.3 to §9.6.7): as at high speed, with
/// 1024-byte bulk endpoints, each followed by its SuperSpeed endpoint companion.
pub(crate) fn super_speed_configuration() -> [u8; SUPER_SPEED_CONFIGURATION_TOTAL_LENGTH as usize] {
    let companion = super_speed_endpoint_companion();
    concat(&[
        &configuration_and_interface(
            DT_CONFIGURATION,
            SUPER_SPEED_CONFIGURATION_TOTAL_LENGTH,
            MAX_POWER_SUPER_SPEED,
        ),
        &bulk_endpoint(BULK_IN_ENDPOINT, BULK_MAX_PACKET_SUPER_SPEED),
        &companion,
        &bulk_endpoint(BULK_OUT_ENDPOINT, BULK_MAX_PACKET_SUPER_SPEED),
        &companion,
    ])
}

/// The configuration descriptor (one interface, configuration value 1, no string) and the
/// interface (interface 0, alternate setting 0, two endpoints, no string).
fn configuration_and_interface(descriptor_type: u8, total_length: u16, max_power: u8) -> [u8; 18] {
    let [total_lo, total_hi] = total_length.to_le_bytes();
    let [iface, _] = INTERFACE_NUMBER.to_le_bytes();
    #[rustfmt::skip]
    let bytes = [
        9, descriptor_type, total_lo, total_hi, 1, CONFIGURATION_VALUE, 0, CONFIG_ATTRIBUTES,
        max_power,
        9, DT_INTERFACE, iface, 0, 2, MSC_CLASS, MSC_SUBCLASS_SCSI, MSC_PROTOCOL_BOT, 0,
    ];
    bytes
}

/// A bulk endpoint; bInterval 0 (it never NAKs bulk OUT at high speed, and is reserved
/// at SuperSpeed).
fn bulk_endpoint(address: u8, max_packet: u16) -> [u8; 7] {
    let [mps_lo, mps_hi] = max_packet.to_le_bytes();
    [7, DT_ENDPOINT, address, EP_BULK, mps_lo, mps_hi, 0]
}

/// A bulk endpoint's SuperSpeed companion (USB 3.2 §9.6.7): bMaxBurst, bmAttributes 0 (no
/// streams; BOT 1.0 has none), wBytesPerInterval 0 (bulk).
fn super_speed_endpoint_companion() -> [u8; 6] {
    [
        6,
        DT_SUPER_SPEED_ENDPOINT_COMPANION,
        BULK_MAX_BURST,
        0,
        0,
        0,
    ]
}

/// The descriptors `parts` one after the other; `N` is their total length.
fn concat<const N: usize>(parts: &[&[u8]]) -> [u8; N] {
    let mut out = [0u8; N];
    for (d, s) in out.iter_mut().zip(parts.iter().copied().flatten()) {
        *d = *s;
    }
    out
}

/// The Binary device Object Store at SuperSpeed (USB 3.2 §9.6.2): the USB 2.0 extension
/// (no link power management) and the SuperSpeed USB device capability (no latency
/// tolerance messages).
pub(crate) fn bos() -> [u8; BOS_TOTAL_LENGTH as usize] {
    let [total_lo, total_hi] = BOS_TOTAL_LENGTH.to_le_bytes();
    let [speeds_lo, speeds_hi] = SPEEDS_SUPPORTED.to_le_bytes();
    let [u2_lo, u2_hi] = U2_EXIT_LATENCY.to_le_bytes();
    #[rustfmt::skip]
    let bytes = [
        5, DT_BOS, total_lo, total_hi, 2,
        // USB 2.0 extension (§9.6.2.1): bmAttributes 0, LPM not supported.
        7, DT_DEVICE_CAPABILITY, CAPABILITY_USB_2_0_EXTENSION, 0, 0, 0, 0,
        // SuperSpeed USB device capability (§9.6.2.2).
        10, DT_DEVICE_CAPABILITY, CAPABILITY_SUPER_SPEED_USB, 0, speeds_lo, speeds_hi,
        FUNCTIONALITY_SUPPORT, U1_EXIT_LATENCY, u2_lo, u2_hi,
    ];
    bytes
}

/// String descriptor 0: the list of supported language IDs (USB 2.0 §9.6.7).
pub(crate) fn languages() -> [u8; 4] {
    let [lang_lo, lang_hi] = LANGUAGE_US_ENGLISH.to_le_bytes();
    [4, DT_STRING, lang_lo, lang_hi]
}

/// Writes the string descriptor for `s` (UTF-16LE, USB 2.0 §9.6.7) into `out`, truncated
/// to its length; returns the number of bytes written.
pub(crate) fn write_string(s: &str, out: &mut [u8]) -> usize {
    // `Identity::validate` bounds the string to 126 code units, so this fits in a byte.
    let length = s
        .encode_utf16()
        .count()
        .checked_mul(2)
        .and_then(|n| n.checked_add(2))
        .and_then(|n| u8::try_from(n).ok())
        .unwrap_or(u8::MAX);
    let bytes = [length, DT_STRING]
        .into_iter()
        .chain(s.encode_utf16().flat_map(u16::to_le_bytes))
        .take(usize::from(length));
    out.iter_mut().zip(bytes).map(|(d, b)| *d = b).count()
}
