//! [`TokenError`]: why a token is malformed (before any signature question).

use crate::ClaimsError;

/// Why a token is malformed.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Longer than any token we make, refused before decoding.
    #[error("the token is {len} bytes long, more than the {max} accepted")]
    TooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not `v4.public.`: another version or purpose, or not a PASETO token at all.
    #[error("not a PASETO v4.public token (it must start with \"v4.public.\")")]
    WrongHeader,
    /// The named section is not canonical unpadded URL-safe base64.
    #[error("the {0} is not unpadded URL-safe base64")]
    Base64(&'static str),
    /// The decoded payload cannot hold a 64-byte signature.
    #[error("the payload is {0} bytes long, too short to hold a 64-byte signature")]
    TooShort(usize),
    /// A `.` after the payload, with nothing after it.
    #[error("the footer section is empty")]
    EmptyFooterSection,
    /// No footer, so no key id.
    #[error("the token has no footer, so no key id")]
    MissingFooter,
    /// The footer is not `{"kid":"<64 hex digits>"}`.
    #[error("the footer is not {{\"kid\":\"<64 hex digits>\"}} ({0})")]
    Footer(String),
    /// The claims are missing, unknown or invalid.
    #[error("invalid claims")]
    Claims(#[source] ClaimsError),
}
