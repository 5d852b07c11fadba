//! The image compiled into the binary by `cargo xtask usbip --image FILE` (feature
//! `embedded-image`, path in `VUSBKEY_USBIP_IMAGE`), so that one file is the key, as one
//! `vusbkey.ko` is.

/// The compiled-in image, if this binary was built with one.
#[cfg(feature = "embedded-image")]
pub const IMAGE: Option<&[u8]> = Some(include_bytes!(env!("VUSBKEY_USBIP_IMAGE")));

/// The compiled-in image, if this binary was built with one.
#[cfg(not(feature = "embedded-image"))]
pub const IMAGE: Option<&[u8]> = None;
