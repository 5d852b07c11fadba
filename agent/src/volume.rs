//! [`KeyVolume`]: what the key disk holds, read straight from the device, read-only.

use std::fs::File;
use std::io::{self, BufReader};
use std::path::{Path, PathBuf};

use image_builder::ReadError;

/// The key disk's FAT volume as read once through `image_builder::inspect`: its label and
/// its token (or why there is none). The device is opened `O_RDONLY` and never mounted.
#[derive(Debug)]
pub struct KeyVolume {
    label: String,
    token: Result<String, ReadError>,
}

/// Why a disk cannot be read as a FAT volume.
#[derive(Debug, thiserror::Error)]
pub enum VolumeError {
    /// The device node cannot be opened.
    #[error("cannot open {} read-only", path.display())]
    Open {
        /// The device node.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
    /// The contents cannot be read as a FAT volume.
    #[error("cannot read {} as a FAT volume", path.display())]
    Read {
        /// The device node.
        path: PathBuf,
        /// Why.
        #[source]
        source: ReadError,
    },
}

impl KeyVolume {
    /// Opens `path` read-only and reads its label and token file.
    pub fn open(path: &Path) -> Result<Self, VolumeError> {
        let device = File::open(path).map_err(|source| VolumeError::Open {
            path: path.to_owned(),
            source,
        })?;
        let inspection =
            guarded(|| image_builder::inspect(BufReader::new(device))).map_err(|source| {
                VolumeError::Read {
                    path: path.to_owned(),
                    source,
                }
            })?;
        Ok(Self {
            label: inspection.label,
            token: inspection.token,
        })
    }

    /// The volume label in the boot sector, as stored (upper case, space padded).
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The token, without surrounding white space, or why it could not be read.
    pub fn into_token(self) -> Result<String, ReadError> {
        self.token
    }
}

/// Runs `parse`, turning a panic of the FAT parser on a crafted volume into an error, so
/// that the policy still runs.
fn guarded<T>(parse: impl FnOnce() -> Result<T, ReadError>) -> Result<T, ReadError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(parse)).unwrap_or_else(|_| {
        Err(ReadError::NotFat(io::Error::new(
            io::ErrorKind::InvalidData,
            "the FAT parser failed on this volume",
        )))
    })
}
