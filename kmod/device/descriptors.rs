//! USB descriptors of the device (USB 2.0 §9.6, MSC BOT 1.0 §4), built on the fly into the
//! host's buffer.

use super::identity::Identity;

/// Endpoint address of bulk-IN (endpoint 1, IN).
pub const BULK_IN_ENDPOINT: u8 = 0x81;
/// Endpoint address of bulk-OUT (endpoint 2, OUT).
pub const BULK_OUT_ENDPOINT: u8 = 0x02;
/// `bMaxPacketSize0` of the default control pipe.
pub const EP0_MAX_PACKET: u8 = 64;
/// `wMaxPacketSize` of the bulk endpoints at high speed (USB 2.0 §5.8.3).
pub const BULK_MAX_PACKET: u16 = 512;
/// `wMaxPacketSize` of the bulk endpoints at full speed, for the other-speed configuration.
const BULK_MAX_PACKET_FULL_SPEED: u16 = 64;

/// Descriptor types (USB 2.0 §9.4, Table 9-5).
pub(crate) const DT_DEVICE: u8 = 1;
pub(crate) const DT_CONFIGURATION: u8 = 2;
pub(crate) const DT_STRING: u8 = 3;
const DT_INTERFACE: u8 = 4;
const DT_ENDPOINT: u8 = 5;
pub(crate) const DT_DEVICE_QUALIFIER: u8 = 6;
pub(crate) const DT_OTHER_SPEED_CONFIGURATION: u8 = 7;

/// `bcdUSB`: USB 2.0.
const BCD_USB: u16 = 0x0200;
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
/// Mass Storage class, SCSI transparent command set, Bulk-Only Transport (BOT 1.0 §4.3).
const MSC_CLASS: u8 = 0x08;
const MSC_SUBCLASS_SCSI: u8 = 0x06;
const MSC_PROTOCOL_BOT: u8 = 0x50;
/// Endpoint `bmAttributes`: bulk.
const EP_BULK: u8 = 0x02;
/// Length of the configuration descriptor with its interface and endpoints.
const CONFIGURATION_TOTAL_LENGTH: u16 = 9 + 9 + 7 + 7;
/// String descriptor 0: the one supported language, US English (USB 2.0 §9.6.7).
pub(crate) const LANGUAGE_US_ENGLISH: u16 = 0x0409;

/// Device descriptor (USB 2.0 §9.6.1). Device class 0: the class is per interface
/// (BOT 1.0 §4.1); string indices 1, 2, 3 name manufacturer, product and serial number.
pub(crate) fn device(identity: &Identity<'_>) -> [u8; 18] {
    let [usb_lo, usb_hi] = BCD_USB.to_le_bytes();
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
        EP0_MAX_PACKET,
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
    let [total_lo, total_hi] = CONFIGURATION_TOTAL_LENGTH.to_le_bytes();
    let [mps_lo, mps_hi] = max_packet.to_le_bytes();
    let [iface, _] = INTERFACE_NUMBER.to_le_bytes();
    #[rustfmt::skip]
    let bytes = [
        // Configuration: one interface, configuration value 1, no string.
        9, descriptor_type, total_lo, total_hi, 1, CONFIGURATION_VALUE, 0, CONFIG_ATTRIBUTES,
        MAX_POWER,
        // Interface 0, alternate setting 0, two endpoints, no string.
        9, DT_INTERFACE, iface, 0, 2, MSC_CLASS, MSC_SUBCLASS_SCSI, MSC_PROTOCOL_BOT, 0,
        // Bulk-IN, then bulk-OUT; bInterval 0 (never NAKs for bulk OUT at high speed).
        7, DT_ENDPOINT, BULK_IN_ENDPOINT, EP_BULK, mps_lo, mps_hi, 0,
        7, DT_ENDPOINT, BULK_OUT_ENDPOINT, EP_BULK, mps_lo, mps_hi, 0,
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
