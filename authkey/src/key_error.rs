//! [`KeyError`]: why a key could not be read, written or trusted.

use std::io;
use std::path::PathBuf;

/// Why a key could not be read, written or trusted.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key file could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
    /// The key file could not be written.
    #[error("cannot write {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
    /// The file exists and overwriting was not asked for.
    #[error("{} already exists; refusing to overwrite it", path.display())]
    Exists {
        /// The file.
        path: PathBuf,
    },
    /// The key file was read but does not hold a usable key.
    #[error("{} holds no usable key", path.display())]
    InFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with its contents.
        #[source]
        source: Box<KeyError>,
    },
    /// Not an Ed25519 private key in PKCS#8 PEM.
    #[error("not an Ed25519 private key in PKCS#8 PEM ({0})")]
    NotSecretKey(String),
    /// Not an Ed25519 public key in SPKI PEM.
    #[error("not an Ed25519 public key in SPKI PEM ({0})")]
    NotPublicKey(String),
    /// A well-formed public key that must not be trusted.
    #[error("public key rejected: {0}")]
    Weak(WeakKey),
    /// The private key could not be encoded.
    #[error("cannot encode the private key ({0})")]
    Encode(String),
}

/// Why a public key is rejected although it decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WeakKey {
    /// The 32 bytes are not the encoding of a curve point.
    #[error("not a point on edwards25519")]
    NotAPoint,
    /// The point is not in its canonical encoding.
    #[error("non-canonical point encoding")]
    NonCanonical,
    /// The point has small order: signatures under it can verify for many messages.
    #[error("small-order point")]
    SmallOrder,
    /// The point has a small-order component (it is not in the prime-order subgroup).
    #[error("point outside the prime-order subgroup")]
    MixedOrder,
}
