//! [`BuildOptions`]: everything an image is made from.

use authkey::PublicKey;
use time::OffsetDateTime;

use crate::Label;

/// Everything an image is made from; the same options give the same bytes.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The token (surrounding whitespace is ignored).
    pub token: String,
    /// The issuer's public key: written to the image, and the token must verify under it.
    pub issuer: Option<PublicKey>,
    /// The volume label.
    pub label: Label,
    /// The image size in bytes; `None` for the smallest that holds the files.
    pub size: Option<u64>,
    /// Every file timestamp; `None` for the token's `iat`.
    pub timestamp: Option<OffsetDateTime>,
}

impl BuildOptions {
    /// An image of the smallest size holding `token`, labelled [`crate::DEFAULT_LABEL`],
    /// timestamps from the token's `iat`.
    pub fn new(token: impl Into<String>) -> Self {
        Self {
            token: token.into(),
            issuer: None,
            label: Label::default(),
            size: None,
            timestamp: None,
        }
    }
}
