//! The PASETO v4.public primitive: Ed25519 over a pre-authentication encoding.
//!
//! This layer knows nothing of claims or key ids; the implicit assertion is a parameter,
//! so that the official test vectors (which use their own) can be checked. vusbkey
//! tokens always use [`crate::IMPLICIT_ASSERTION`].

mod decoded;
mod pae;

pub use decoded::{BadSignature, DecodedToken};
pub use pae::pae;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::Signer as _;

use crate::SecretKey;

/// The header of every v4.public token, version and purpose.
pub const HEADER: &str = "v4.public.";

/// Longest token accepted for decoding, in bytes (vusbkey tokens are ~500).
pub const MAX_TOKEN_LEN: usize = 8192;

/// Signs `message` with `footer` (omitted from the token if empty) and the implicit
/// assertion, and returns the token.
pub fn sign(key: &SecretKey, message: &[u8], footer: &[u8], implicit_assertion: &[u8]) -> String {
    let signed = pae(&[HEADER.as_bytes(), message, footer, implicit_assertion]);
    let signature = key.signing_key().sign(&signed).to_bytes();
    let mut body = Vec::with_capacity(message.len() + signature.len());
    body.extend_from_slice(message);
    body.extend_from_slice(&signature);
    let mut token = format!("{HEADER}{}", URL_SAFE_NO_PAD.encode(body));
    if !footer.is_empty() {
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(footer));
    }
    token
}
