//! [`load_trusted_keys`]: the issuer public keys this VM trusts, `*.pem` in one directory.

use std::io;
use std::path::{Path, PathBuf};

use authkey::{KeyError, PublicKey};

/// Why the trusted keys cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// The directory could not be listed.
    #[error("cannot list the trusted keys in {}", dir.display())]
    List {
        /// The directory.
        dir: PathBuf,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
    /// A `.pem` file is not a usable public key (a mistake to fix, not to skip).
    #[error("bad trusted key")]
    Key(#[from] KeyError),
    /// No `.pem` file at all.
    #[error("no trusted keys (*.pem) in {}", dir.display())]
    None {
        /// The directory.
        dir: PathBuf,
    },
}

/// Loads every `*.pem` in `dir`, in file name order. Any unreadable or invalid key file is
/// an error, and so is finding none.
pub fn load_trusted_keys(dir: &Path) -> Result<Vec<PublicKey>, TrustError> {
    let list_error = |source| TrustError::List {
        dir: dir.to_owned(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(list_error)? {
        let path = entry.map_err(list_error)?.path();
        if path.extension().is_some_and(|ext| ext == "pem") {
            files.push(path);
        }
    }
    if files.is_empty() {
        return Err(TrustError::None {
            dir: dir.to_owned(),
        });
    }
    files.sort();
    Ok(files
        .iter()
        .map(|path| PublicKey::load_pem_file(path))
        .collect::<Result<_, _>>()?)
}
