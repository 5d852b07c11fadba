//! The token footer: exactly `{"kid":"<64 hex digits>"}`.

use serde::Deserialize;

use crate::{KeyId, TokenError};

/// A parsed footer.
pub(crate) struct Footer {
    pub(crate) kid: KeyId,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FooterJson {
    kid: String,
}

impl Footer {
    /// Parses the footer bytes of a token, strictly.
    pub(crate) fn parse(footer: &[u8]) -> Result<Self, TokenError> {
        if footer.is_empty() {
            return Err(TokenError::MissingFooter);
        }
        let json: FooterJson =
            serde_json::from_slice(footer).map_err(|e| TokenError::Footer(e.to_string()))?;
        let kid = json
            .kid
            .parse()
            .map_err(|e: crate::KeyIdSyntax| TokenError::Footer(e.to_string()))?;
        Ok(Self { kid })
    }

    /// The footer JSON.
    pub(crate) fn to_json(&self) -> Vec<u8> {
        format!(r#"{{"kid":"{}"}}"#, self.kid).into_bytes()
    }
}
