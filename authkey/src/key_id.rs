//! [`KeyId`]: the `kid` naming an issuer key, SHA-256 of its SubjectPublicKeyInfo DER.

use std::fmt;
use std::str::FromStr;

/// The `kid` of a public key: SHA-256 of its SubjectPublicKeyInfo DER, shown as 64
/// lowercase hex digits (`openssl pkey -pubin -in pub.pem -outform DER | sha256sum`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId([u8; 32]);

impl KeyId {
    /// Wraps a SHA-256 digest.
    pub fn from_digest(digest: [u8; 32]) -> Self {
        Self(digest)
    }

    /// The SHA-256 digest.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// The text is not 64 lowercase hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a key id is 64 lowercase hex digits")]
pub struct KeyIdSyntax;

impl FromStr for KeyId {
    type Err = KeyIdSyntax;

    fn from_str(text: &str) -> Result<Self, KeyIdSyntax> {
        let lowercase_hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
        if text.len() != 64 || !text.bytes().all(lowercase_hex) {
            return Err(KeyIdSyntax);
        }
        let mut digest = [0; 32];
        hex::decode_to_slice(text, &mut digest).map_err(|_| KeyIdSyntax)?;
        Ok(Self(digest))
    }
}
