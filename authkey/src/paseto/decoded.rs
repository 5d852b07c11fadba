//! [`DecodedToken`]: a v4.public token split into message, signature and footer.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::{Signature, SIGNATURE_LENGTH};

use super::{pae, HEADER, MAX_TOKEN_LEN};
use crate::{PublicKey, TokenError};

/// A structurally valid v4.public token whose signature has not been checked yet.
#[derive(Debug, Clone)]
pub struct DecodedToken {
    message: Vec<u8>,
    signature: Signature,
    footer: Vec<u8>,
}

/// The signature does not verify under the key (strict Ed25519 verification).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the signature does not verify")]
pub struct BadSignature;

impl DecodedToken {
    /// Splits `header.payload[.footer]`. Rejects another version or purpose, padded or
    /// non-canonical base64, a payload too short for a signature, an empty footer section.
    pub fn decode(token: &str) -> Result<Self, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::TooLong {
                len: token.len(),
                max: MAX_TOKEN_LEN,
            });
        }
        let rest = token.strip_prefix(HEADER).ok_or(TokenError::WrongHeader)?;
        let (payload, footer) = match rest.split_once('.') {
            Some((_, "")) => return Err(TokenError::EmptyFooterSection),
            Some((payload, footer)) => (payload, Some(footer)),
            None => (rest, None),
        };
        let mut message = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| TokenError::Base64("payload"))?;
        let footer = match footer {
            Some(f) => URL_SAFE_NO_PAD
                .decode(f)
                .map_err(|_| TokenError::Base64("footer"))?,
            None => Vec::new(),
        };
        let Some(split) = message.len().checked_sub(SIGNATURE_LENGTH) else {
            return Err(TokenError::TooShort(message.len()));
        };
        let signature = message.split_off(split);
        let signature =
            Signature::from_slice(&signature).map_err(|_| TokenError::TooShort(split))?;
        Ok(Self {
            message,
            signature,
            footer,
        })
    }

    /// The signed message (for vusbkey, the claims JSON). Untrusted until [`Self::verify`].
    pub fn message(&self) -> &[u8] {
        &self.message
    }

    /// The footer, empty if the token has none. Authenticated by the signature.
    pub fn footer(&self) -> &[u8] {
        &self.footer
    }

    /// The 64-byte Ed25519 signature.
    pub fn signature(&self) -> [u8; SIGNATURE_LENGTH] {
        self.signature.to_bytes()
    }

    /// What the signature covers: PAE(header, message, footer, implicit assertion).
    pub fn signed_bytes(&self, implicit_assertion: &[u8]) -> Vec<u8> {
        pae(&[
            HEADER.as_bytes(),
            &self.message,
            &self.footer,
            implicit_assertion,
        ])
    }

    /// Checks the signature with `verify_strict`.
    pub fn verify(&self, key: &PublicKey, implicit_assertion: &[u8]) -> Result<(), BadSignature> {
        key.verify_signature(
            &self.signed_bytes(implicit_assertion),
            &self.signature.to_bytes(),
        )
    }
}
