//! [`UnverifiedToken`]: a token read for inspection, its signature NOT checked.

use crate::footer::Footer;
use crate::paseto::DecodedToken;
use crate::{Claims, KeyId, TokenError};

/// A well-formed token whose signature has **not** been checked: for display only.
/// Use [`crate::verify`] to trust a token.
#[derive(Debug, Clone)]
pub struct UnverifiedToken {
    claims: Claims,
    kid: KeyId,
}

impl UnverifiedToken {
    /// Decodes the token, its footer and its claims, without checking the signature.
    pub fn parse(token: &str) -> Result<Self, TokenError> {
        let decoded = DecodedToken::decode(token)?;
        let kid = Footer::parse(decoded.footer())?.kid;
        let claims = Claims::from_json(decoded.message()).map_err(TokenError::Claims)?;
        Ok(Self { claims, kid })
    }

    /// The claims, unverified.
    pub fn claims(&self) -> &Claims {
        &self.claims
    }

    /// The key id the token names, unverified.
    pub fn kid(&self) -> &KeyId {
        &self.kid
    }
}
