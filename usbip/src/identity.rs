//! The USB identity a device presents: the same defaults as `vusbkey.ko`'s module
//! parameters, each overridable, and the serial number from the image by default.

use vusbkey_device::{
    Identity, IdentityError, DEFAULT_MANUFACTURER, DEFAULT_PRODUCT, DEFAULT_PRODUCT_ID,
    DEFAULT_VENDOR_ID, INQUIRY_PRODUCT, INQUIRY_REVISION, INQUIRY_VENDOR,
};

use crate::image::Image;

/// Overrides of the default identity (`None`: the module's default).
#[derive(Debug, Clone, Default)]
pub struct IdentityOptions {
    /// `idVendor` (default 0x1209, pid.codes).
    pub vendor_id: Option<u16>,
    /// `idProduct` (default 0x0001).
    pub product_id: Option<u16>,
    /// Manufacturer string.
    pub manufacturer: Option<String>,
    /// Product string.
    pub product: Option<String>,
}

/// The strings of one device's identity, owned; [`DeviceIdentity::identity`] borrows them.
#[derive(Debug, Clone)]
pub struct DeviceIdentity {
    vendor_id: u16,
    product_id: u16,
    manufacturer: String,
    product: String,
    serial: String,
}

impl DeviceIdentity {
    /// The identity of the device serving `image`, with `serial` or the image's default,
    /// validated as the device model requires.
    pub fn new(
        options: &IdentityOptions,
        image: &Image,
        serial: Option<&str>,
    ) -> Result<Self, IdentityError> {
        let identity = Self {
            vendor_id: options.vendor_id.unwrap_or(DEFAULT_VENDOR_ID),
            product_id: options.product_id.unwrap_or(DEFAULT_PRODUCT_ID),
            manufacturer: options
                .manufacturer
                .clone()
                .unwrap_or_else(|| DEFAULT_MANUFACTURER.to_owned()),
            product: options
                .product
                .clone()
                .unwrap_or_else(|| DEFAULT_PRODUCT.to_owned()),
            serial: serial.map_or_else(|| image.default_serial(), str::to_owned),
        };
        identity.identity().validate()?;
        Ok(identity)
    }

    /// The serial number.
    pub fn serial(&self) -> &str {
        &self.serial
    }

    /// The device model's view of it.
    pub fn identity(&self) -> Identity<'_> {
        Identity {
            vendor_id: self.vendor_id,
            product_id: self.product_id,
            manufacturer: &self.manufacturer,
            product: &self.product,
            serial: &self.serial,
            inquiry_vendor: INQUIRY_VENDOR,
            inquiry_product: INQUIRY_PRODUCT,
            inquiry_revision: INQUIRY_REVISION,
        }
    }
}
