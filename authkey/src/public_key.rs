//! [`PublicKey`]: a trusted issuer key, strictly validated, stored as SPKI PEM.

use std::fmt;
use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::pkcs8::DecodePublicKey as _;
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest as _, Sha256};

use crate::paseto::BadSignature;
use crate::{pem_file, KeyError, KeyId, WeakKey};

/// The DER of an Ed25519 SubjectPublicKeyInfo is this fixed prefix and the 32 key bytes
/// (RFC 8410, section 4): SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING }.
const SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// An Ed25519 public key that is safe to trust: the canonical encoding of a point of
/// prime order (not small-order, no small-order component).
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    key: VerifyingKey,
}

impl PublicKey {
    /// Validates 32 raw key bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, KeyError> {
        let key =
            VerifyingKey::from_bytes(bytes).map_err(|_| KeyError::Weak(WeakKey::NotAPoint))?;
        Self::from_verifying_key(key)
    }

    /// Parses and validates an SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let key = VerifyingKey::from_public_key_pem(pem)
            .map_err(|e| KeyError::NotPublicKey(e.to_string()))?;
        Self::from_verifying_key(key)
    }

    /// Reads and validates an SPKI PEM file.
    pub fn load_pem_file(path: &Path) -> Result<Self, KeyError> {
        Self::from_pem(&pem_file::read(path)?).map_err(|e| KeyError::InFile {
            path: path.to_owned(),
            source: Box::new(e),
        })
    }

    /// Writes the key as SPKI PEM, mode 0644; an existing file is replaced only if `force`.
    pub fn save_pem_file(&self, path: &Path, force: bool) -> Result<(), KeyError> {
        pem_file::write(path, self.to_pem().as_bytes(), 0o644, force)
    }

    /// The SPKI PEM, byte for byte what `openssl pkey -pubout` writes.
    pub fn to_pem(&self) -> String {
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            STANDARD.encode(self.spki_der())
        )
    }

    /// The SubjectPublicKeyInfo DER.
    pub fn spki_der(&self) -> [u8; 44] {
        let mut der = [0; 44];
        der[..12].copy_from_slice(&SPKI_PREFIX);
        der[12..].copy_from_slice(self.key.as_bytes());
        der
    }

    /// The key id: SHA-256 of [`Self::spki_der`].
    pub fn kid(&self) -> KeyId {
        KeyId::from_digest(Sha256::digest(self.spki_der()).into())
    }

    /// The 32 raw key bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// Wraps a key derived from a secret key (always of prime order, canonical).
    pub(crate) fn from_trusted(key: VerifyingKey) -> Self {
        Self { key }
    }

    /// Checks an Ed25519 signature over `message` with `verify_strict`: `S` canonical,
    /// `R` not of small order (this key never is).
    pub fn verify_signature(&self, message: &[u8], signature: &[u8]) -> Result<(), BadSignature> {
        let signature = Signature::from_slice(signature).map_err(|_| BadSignature)?;
        self.key
            .verify_strict(message, &signature)
            .map_err(|_| BadSignature)
    }

    fn from_verifying_key(key: VerifyingKey) -> Result<Self, KeyError> {
        let point = key.to_edwards();
        let weakness = if key.is_weak() {
            Some(WeakKey::SmallOrder)
        } else if VerifyingKey::from(point).as_bytes() != key.as_bytes() {
            Some(WeakKey::NonCanonical)
        } else if !point.is_torsion_free() {
            Some(WeakKey::MixedOrder)
        } else {
            None
        };
        match weakness {
            Some(w) => Err(KeyError::Weak(w)),
            None => Ok(Self { key }),
        }
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey(kid {})", self.kid())
    }
}
