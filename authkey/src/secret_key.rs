//! [`SecretKey`]: the issuer's signing key, stored as PKCS#8 v1 PEM with mode 0600.

use std::fmt;
use std::path::Path;

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _, KeypairBytes};
use ed25519_dalek::SigningKey;
use rand_core::OsRng;
use zeroize::Zeroizing;

use crate::{pem_file, KeyError, PublicKey};

/// An Ed25519 signing key. Its `Debug` shows only the key id.
#[derive(Clone)]
pub struct SecretKey {
    key: SigningKey,
}

impl SecretKey {
    /// A fresh key from the operating system's random number generator.
    pub fn generate() -> Self {
        Self {
            key: SigningKey::generate(&mut OsRng),
        }
    }

    /// The key with this 32-byte seed (the RFC 8032 "private key").
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self {
            key: SigningKey::from_bytes(seed),
        }
    }

    /// Parses a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), v1 or v2; a v2 key's embedded
    /// public key must match.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        SigningKey::from_pkcs8_pem(pem)
            .map(|key| Self { key })
            .map_err(|e| KeyError::NotSecretKey(e.to_string()))
    }

    /// Reads a PKCS#8 PEM file.
    pub fn load_pem_file(path: &Path) -> Result<Self, KeyError> {
        let pem = Zeroizing::new(pem_file::read(path)?);
        Self::from_pem(&pem).map_err(|e| KeyError::InFile {
            path: path.to_owned(),
            source: Box::new(e),
        })
    }

    /// The PKCS#8 **v1** PEM (no embedded public key), as `openssl genpkey` writes it;
    /// OpenSSL 3.0 cannot read the v2 form.
    pub fn to_pem(&self) -> Result<Zeroizing<String>, KeyError> {
        let v1 = KeypairBytes {
            secret_key: self.key.to_bytes(),
            public_key: None,
        };
        v1.to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| KeyError::Encode(e.to_string()))
    }

    /// Writes [`Self::to_pem`] with mode 0600; an existing file is replaced only if `force`.
    pub fn save_pem_file(&self, path: &Path, force: bool) -> Result<(), KeyError> {
        pem_file::write(path, self.to_pem()?.as_bytes(), 0o600, force)
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey::from_trusted(self.key.verifying_key())
    }

    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.key
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey(kid {})", self.public_key().kid())
    }
}
