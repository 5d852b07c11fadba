//! [`read_vm_uuid`]: this VM's identity, the SMBIOS system UUID the kernel exposes.

use std::io;
use std::path::{Path, PathBuf};

use uuid::Uuid;

/// Why this VM's UUID is unknown.
#[derive(Debug, thiserror::Error)]
pub enum VmUuidError {
    /// The file could not be read (`product_uuid` is readable by root only).
    #[error("cannot read this VM's UUID from {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
    /// The file does not hold a UUID.
    #[error("{} holds {text:?}, not a UUID", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// What it holds.
        text: String,
    },
}

/// Reads the UUID in `path` (normally `/sys/class/dmi/id/product_uuid`), in any case:
/// UUIDs compare as values, not as text.
pub fn read_vm_uuid(path: &Path) -> Result<Uuid, VmUuidError> {
    let text = std::fs::read_to_string(path).map_err(|source| VmUuidError::Read {
        path: path.to_owned(),
        source,
    })?;
    Uuid::try_parse(text.trim()).map_err(|_| VmUuidError::Parse {
        path: path.to_owned(),
        text,
    })
}
