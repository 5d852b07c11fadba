//! [`sign`]: issue a vusbkey token.

use crate::footer::Footer;
use crate::{paseto, Claims, ClaimsError, SecretKey, IMPLICIT_ASSERTION};

/// Why a token could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The claims break a rule.
    #[error("invalid claims")]
    Claims(#[from] ClaimsError),
}

/// Signs validated `claims` into a v4.public token whose footer names the key.
pub fn sign(key: &SecretKey, claims: &Claims) -> Result<String, SignError> {
    let footer = Footer {
        kid: key.public_key().kid(),
    };
    Ok(paseto::sign(
        key,
        &claims.to_json()?,
        &footer.to_json(),
        IMPLICIT_ASSERTION,
    ))
}
