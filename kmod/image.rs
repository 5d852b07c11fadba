// SPDX-License-Identifier: GPL-2.0

//! The FAT image compiled into the module, and the read-only block device serving it.
//!
//! `image.img` and `image.sha256` are written next to `Kbuild` by `cargo xtask kmod`; both
//! are checked here at compile time, so a malformed pair fails the build, not the load.

use crate::device::{BlockDevice, ReadError};

/// The disk, as static data in the module.
static IMAGE: &[u8] = include_bytes!("image.img");

/// Block (sector) size of the disk.
pub(crate) const BLOCK_SIZE: u32 = 512;

/// SHA-256 of the image, 64 lowercase hex digits (as `sha256sum` prints it).
const SHA256: &str = include_str!("image.sha256");

const _: () = assert!(
    is_lower_hex(SHA256.as_bytes()) && SHA256.len() == 64,
    "image.sha256 must be 64 lowercase hex digits, no newline"
);
const _: () = assert!(
    !include_bytes!("image.img").is_empty()
        && include_bytes!("image.img").len() % BLOCK_SIZE as usize == 0,
    "image.img must be a non-empty whole number of 512-byte blocks"
);

const fn is_lower_hex(s: &[u8]) -> bool {
    let mut i = 0;
    while i < s.len() {
        if !matches!(s[i], b'0'..=b'9' | b'a'..=b'f') {
            return false;
        }
        i += 1;
    }
    true
}

/// The default USB serial number: the first 16 hex digits of the image's SHA-256, upper
/// case (the BOT spec wants 12 or more of `0-9A-F`), so that each image gets its own serial.
const DEFAULT_SERIAL_BYTES: [u8; 16] = {
    let mut out = [0u8; 16];
    let mut i = 0;
    while i < 16 {
        out[i] = SHA256.as_bytes()[i].to_ascii_uppercase();
        i += 1;
    }
    out
};

/// [`DEFAULT_SERIAL_BYTES`] as a string (all ASCII, so this cannot fail at run time).
pub(crate) const DEFAULT_SERIAL: &str = match core::str::from_utf8(&DEFAULT_SERIAL_BYTES) {
    Ok(s) => s,
    Err(_) => panic!("hex digits are ASCII"),
};

/// The image's SHA-256 as lowercase hex.
pub(crate) fn sha256() -> &'static str {
    SHA256
}

/// The image's size in bytes.
pub(crate) fn size() -> u64 {
    IMAGE.len() as u64
}

/// The compiled-in image as a read-only block device.
pub(crate) struct ImageDisk;

impl BlockDevice for ImageDisk {
    fn block_size(&self) -> u32 {
        BLOCK_SIZE
    }

    fn block_count(&self) -> u64 {
        size() / u64::from(BLOCK_SIZE)
    }

    /// The only copy of disk data: straight from the module's static image into `dst`,
    /// which is the URB's own buffer.
    fn read(&self, offset: u64, dst: &mut [u8]) -> Result<(), ReadError> {
        let start = usize::try_from(offset).map_err(|_| ReadError)?;
        let end = start.checked_add(dst.len()).ok_or(ReadError)?;
        let src = IMAGE.get(start..end).ok_or(ReadError)?;
        dst.copy_from_slice(src);
        Ok(())
    }
}
