// SPDX-License-Identifier: GPL-2.0

//! The FAT images compiled into the module, one per root-hub port, and the read-only block
//! device serving one of them.
//!
//! `cargo xtask kmod` writes `imageN.img` and `imageN.sha256` next to `Kbuild` for each
//! port N, and `images.rs`, the list of them (port 1 first) included below. Every image is
//! checked at compile time ([`Image::new`] is evaluated as a constant), so a malformed one
//! fails the build, not the load.

use crate::device::{BlockDevice, ReadError};
use crate::roothub::MAX_PORTS;

/// Block (sector) size of the disks.
pub(crate) const BLOCK_SIZE: u32 = 512;

/// One compiled-in disk.
///
/// # Invariants
///
/// `data` is a non-empty whole number of [`BLOCK_SIZE`] blocks; `sha256` is 64 lowercase
/// hex digits; `serial` is the upper-cased first 16 of them.
pub(crate) struct Image {
    data: &'static [u8],
    sha256: &'static str,
    serial: [u8; 16],
}

/// The images, port 1 first.
const TABLE: &[Image] = &include!("images.rs");

const _: () = assert!(
    !TABLE.is_empty() && TABLE.len() <= MAX_PORTS,
    "images.rs must list 1 to 15 images (one per root-hub port)"
);

/// The images, port 1 first: the root hub has one port per image.
pub(crate) static IMAGES: &[Image] = TABLE;

impl Image {
    /// An image and its SHA-256 (as `sha256sum` prints it, without newline). Evaluated at
    /// compile time: a malformed pair stops the build with the reason.
    const fn new(data: &'static [u8], sha256: &'static str) -> Self {
        assert!(
            !data.is_empty() && data.len() % BLOCK_SIZE as usize == 0,
            "an image must be a non-empty whole number of 512-byte blocks"
        );
        let hex = sha256.as_bytes();
        assert!(
            hex.len() == 64,
            "an image's .sha256 must be 64 lowercase hex digits, no newline"
        );
        let mut serial = [0u8; 16];
        let mut i = 0;
        while i < hex.len() {
            assert!(
                matches!(hex[i], b'0'..=b'9' | b'a'..=b'f'),
                "an image's .sha256 must be 64 lowercase hex digits, no newline"
            );
            if i < serial.len() {
                serial[i] = hex[i].to_ascii_uppercase();
            }
            i += 1;
        }
        // INVARIANT: checked above.
        Self {
            data,
            sha256,
            serial,
        }
    }

    /// The image of root-hub port `port` (1-based), if there is one.
    pub(crate) fn of_port(port: usize) -> Option<&'static Image> {
        IMAGES.get(port.checked_sub(1)?)
    }

    /// The image's SHA-256 as lowercase hex.
    pub(crate) fn sha256(&self) -> &'static str {
        self.sha256
    }

    /// The image's size in bytes.
    pub(crate) fn size(&self) -> u64 {
        self.data.len() as u64
    }

    /// The default USB serial number: the first 16 hex digits of the image's SHA-256, upper
    /// case (the BOT spec wants 12 or more of `0-9A-F`), so that each image gets its own.
    pub(crate) fn default_serial(&self) -> &str {
        // Hex digits are ASCII (type invariant): this never falls back.
        core::str::from_utf8(&self.serial).unwrap_or_default()
    }
}

/// A compiled-in image as a read-only block device.
pub(crate) struct ImageDisk(pub(crate) &'static Image);

impl BlockDevice for ImageDisk {
    fn block_size(&self) -> u32 {
        BLOCK_SIZE
    }

    fn block_count(&self) -> u64 {
        self.0.size() / u64::from(BLOCK_SIZE)
    }

    /// The only copy of disk data: straight from the module's static image into `dst`,
    /// which is the URB's own buffer.
    fn read(&self, offset: u64, dst: &mut [u8]) -> Result<(), ReadError> {
        let start = usize::try_from(offset).map_err(|_| ReadError)?;
        let end = start.checked_add(dst.len()).ok_or(ReadError)?;
        let src = self.0.data.get(start..end).ok_or(ReadError)?;
        dst.copy_from_slice(src);
        Ok(())
    }
}
