//! USB and SCSI identity of the device, and its validation.

use core::fmt;

/// Longest USB string, in UTF-16 code units: a string descriptor's `bLength` is one byte
/// and covers the 2-byte header (USB 2.0 §9.6.7), so (255 - 2) / 2.
pub(crate) const MAX_USB_STRING_UNITS: usize = 126;
/// Shortest serial number: BOT 1.0 §4.1.1 requires at least 12 digits.
const MIN_SERIAL_DIGITS: usize = 12;
/// INQUIRY T10 VENDOR IDENTIFICATION field width (SPC-4, standard INQUIRY data).
pub(crate) const INQUIRY_VENDOR_LEN: usize = 8;
/// INQUIRY PRODUCT IDENTIFICATION field width (SPC-4, standard INQUIRY data).
pub(crate) const INQUIRY_PRODUCT_LEN: usize = 16;
/// INQUIRY PRODUCT REVISION LEVEL field width (SPC-4, standard INQUIRY data).
pub(crate) const INQUIRY_REVISION_LEN: usize = 4;

/// Default `idVendor`: pid.codes, the open-source vendor id.
pub const DEFAULT_VENDOR_ID: u16 = 0x1209;
/// Default `idProduct`: the pid.codes test product id.
pub const DEFAULT_PRODUCT_ID: u16 = 0x0001;
/// Default USB manufacturer string.
pub const DEFAULT_MANUFACTURER: &str = "vusbkey";
/// Default USB product string.
pub const DEFAULT_PRODUCT: &str = "vusbkey authentication key";
/// SCSI INQUIRY vendor identification.
pub const INQUIRY_VENDOR: &str = "vusbkey";
/// SCSI INQUIRY product identification.
pub const INQUIRY_PRODUCT: &str = "Key Disk";
/// SCSI INQUIRY product revision level: the device model's major.minor version.
pub const INQUIRY_REVISION: &str = "0.1";

/// USB and SCSI identity of the device; borrowed strings so no allocation is needed.
#[derive(Debug, Clone, Copy)]
pub struct Identity<'a> {
    /// USB `idVendor`.
    pub vendor_id: u16,
    /// USB `idProduct`.
    pub product_id: u16,
    /// USB manufacturer string (1 to 126 UTF-16 code units).
    pub manufacturer: &'a str,
    /// USB product string (1 to 126 UTF-16 code units).
    pub product: &'a str,
    /// At least 12 characters, each 0-9 or A-F (BOT 1.0 §4.1.1); at most 126.
    pub serial: &'a str,
    /// INQUIRY vendor identification: 1 to 8 printable ASCII characters.
    pub inquiry_vendor: &'a str,
    /// INQUIRY product identification: 1 to 16 printable ASCII characters.
    pub inquiry_product: &'a str,
    /// INQUIRY product revision level: 1 to 4 printable ASCII characters.
    pub inquiry_revision: &'a str,
}

/// Why an identity is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityError {
    /// The manufacturer string is empty or longer than a string descriptor can hold.
    Manufacturer,
    /// The product string is empty or longer than a string descriptor can hold.
    Product,
    /// The serial number is not 12 to 126 characters of 0-9 and A-F.
    Serial,
    /// The INQUIRY vendor is not 1 to 8 printable ASCII characters.
    InquiryVendor,
    /// The INQUIRY product is not 1 to 16 printable ASCII characters.
    InquiryProduct,
    /// The INQUIRY revision is not 1 to 4 printable ASCII characters.
    InquiryRevision,
}

impl IdentityError {
    /// What is wrong, as one line (what `Display` prints; the kernel's `pr_*!` of 7.x
    /// formats only its own `Display`, so the module logs this string).
    pub fn message(&self) -> &'static str {
        match self {
            Self::Manufacturer => "manufacturer string must be 1 to 126 UTF-16 code units",
            Self::Product => "product string must be 1 to 126 UTF-16 code units",
            Self::Serial => "serial must be 12 to 126 hex digits (0-9, A-F)",
            Self::InquiryVendor => "inquiry vendor must be 1 to 8 printable ASCII characters",
            Self::InquiryProduct => "inquiry product must be 1 to 16 printable ASCII characters",
            Self::InquiryRevision => "inquiry revision must be 1 to 4 printable ASCII characters",
        }
    }
}

impl fmt::Display for IdentityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl Identity<'_> {
    /// Checks every field against the limits documented on it.
    pub fn validate(&self) -> Result<(), IdentityError> {
        if !usb_string_ok(self.manufacturer) {
            return Err(IdentityError::Manufacturer);
        }
        if !usb_string_ok(self.product) {
            return Err(IdentityError::Product);
        }
        // BOT 1.0 §4.1.1: "0-9 and A-F", at least 12 digits; the upper bound keeps it a
        // valid string descriptor.
        let serial_ok = (MIN_SERIAL_DIGITS..=MAX_USB_STRING_UNITS).contains(&self.serial.len())
            && self
                .serial
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b));
        if !serial_ok {
            return Err(IdentityError::Serial);
        }
        // SPC-4, ASCII data fields hold printable characters 20h-7Eh.
        if !inquiry_ok(self.inquiry_vendor, INQUIRY_VENDOR_LEN) {
            return Err(IdentityError::InquiryVendor);
        }
        if !inquiry_ok(self.inquiry_product, INQUIRY_PRODUCT_LEN) {
            return Err(IdentityError::InquiryProduct);
        }
        if !inquiry_ok(self.inquiry_revision, INQUIRY_REVISION_LEN) {
            return Err(IdentityError::InquiryRevision);
        }
        Ok(())
    }

    /// The USB string with the given descriptor index (1 manufacturer, 2 product,
    /// 3 serial number), as referenced by the device descriptor.
    pub(crate) fn usb_string(&self, index: u8) -> Option<&str> {
        match index {
            1 => Some(self.manufacturer),
            2 => Some(self.product),
            3 => Some(self.serial),
            _ => None,
        }
    }
}

fn usb_string_ok(s: &str) -> bool {
    !s.is_empty() && s.encode_utf16().count() <= MAX_USB_STRING_UNITS
}

fn inquiry_ok(s: &str, max: usize) -> bool {
    (1..=max).contains(&s.len()) && s.bytes().all(|b| (0x20..=0x7e).contains(&b))
}
