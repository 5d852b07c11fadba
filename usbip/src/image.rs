//! A key image: the FAT disk a device serves, read-only, with its SHA-256 and the default
//! serial number derived from it (the same as `vusbkey.ko` derives).

use std::path::Path;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use thiserror::Error;
use vusbkey_device::{BlockDevice, ReadError};

/// Bytes per logical block of the disk.
pub const BLOCK_SIZE: u32 = 512;

/// Hex digits of the SHA-256 that make the default serial number (BOT 1.0 §4.1.1 asks
/// for at least 12).
const SERIAL_DIGITS: usize = 16;

/// An image that cannot be served.
#[derive(Debug, Error)]
pub enum ImageError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The image's path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Empty, or not a whole number of 512-byte blocks.
    #[error("{name}: {len} bytes is not a non-empty whole number of 512-byte blocks")]
    Size {
        /// The image's name.
        name: String,
        /// Its length.
        len: usize,
    },
}

/// A read-only key image, shared by every device that serves it.
#[derive(Debug, Clone)]
pub struct Image {
    name: String,
    bytes: Arc<[u8]>,
    sha256: String,
}

impl Image {
    /// Reads the image file at `path`.
    pub fn load(path: &Path) -> Result<Self, ImageError> {
        let bytes = std::fs::read(path).map_err(|source| ImageError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::new(path.display().to_string(), bytes.into())
    }

    /// An image from bytes already in memory (the one compiled into the binary).
    pub fn new(name: String, bytes: Arc<[u8]>) -> Result<Self, ImageError> {
        if bytes.is_empty() || !bytes.len().is_multiple_of(BLOCK_SIZE as usize) {
            return Err(ImageError::Size {
                name,
                len: bytes.len(),
            });
        }
        let sha256 = hex::encode(Sha256::digest(&bytes));
        Ok(Self {
            name,
            bytes,
            sha256,
        })
    }

    /// Where the image came from (a path, or "compiled-in").
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its size in bytes.
    pub fn len(&self) -> u64 {
        self.bytes.len() as u64
    }

    /// Never true: an image has at least one block.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The image's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// SHA-256 of the image, lowercase hex, as `sha256sum` prints it.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The default USB serial number: the first 16 hex digits of the SHA-256, upper case,
    /// exactly as `vusbkey.ko` (`kmod/image.rs`) derives it, so both serve the same device.
    pub fn default_serial(&self) -> String {
        self.sha256[..SERIAL_DIGITS].to_ascii_uppercase()
    }

    /// The image as the device model's disk.
    pub fn disk(&self) -> Disk<'_> {
        Disk(&self.bytes)
    }
}

/// The image as a [`BlockDevice`].
#[derive(Debug, Clone, Copy)]
pub struct Disk<'a>(&'a [u8]);

impl BlockDevice for Disk<'_> {
    fn block_size(&self) -> u32 {
        BLOCK_SIZE
    }

    fn block_count(&self) -> u64 {
        self.0.len() as u64 / u64::from(BLOCK_SIZE)
    }

    fn read(&self, offset: u64, dst: &mut [u8]) -> Result<(), ReadError> {
        let start = usize::try_from(offset).map_err(|_| ReadError)?;
        let end = start.checked_add(dst.len()).ok_or(ReadError)?;
        dst.copy_from_slice(self.0.get(start..end).ok_or(ReadError)?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_is_the_hash_prefix_upper_case() {
        let image = Image::new("t".into(), vec![0u8; 1024].into()).unwrap();
        // sha256 of 1024 zero bytes.
        assert_eq!(
            image.sha256(),
            "5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"
        );
        assert_eq!(image.default_serial(), "5F70BF18A0860070");
    }

    #[test]
    fn partial_blocks_are_refused() {
        let err = Image::new("odd.img".into(), vec![0u8; 513].into()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "odd.img: 513 bytes is not a non-empty whole number of 512-byte blocks"
        );
        assert!(Image::new("empty".into(), Vec::new().into()).is_err());
    }

    #[test]
    fn reads_past_the_end_fail() {
        let image = Image::new("t".into(), vec![7u8; 1024].into()).unwrap();
        let mut buf = [0u8; 512];
        assert_eq!(image.disk().read(512, &mut buf), Ok(()));
        assert_eq!(buf, [7u8; 512]);
        assert_eq!(image.disk().read(513, &mut buf), Err(ReadError));
        assert_eq!(image.disk().read(u64::MAX, &mut buf), Err(ReadError));
    }
}
