//! [`TokenSummary`]: the VM and the expiry a token claims, read without verifying it.

use authkey::{ClaimsError, TokenError, UnverifiedToken};
use time::OffsetDateTime;
use uuid::Uuid;

/// What a key's token claims, its signature **not** checked: for listings only
/// ([`authkey::verify`] is what trusts a token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSummary {
    /// The VM it is bound to (`sub`).
    pub vm: Uuid,
    /// When it stops being valid (`exp`).
    pub expires: OffsetDateTime,
}

impl TokenSummary {
    /// Decodes `token`'s claims without checking its signature.
    pub fn of(token: &str) -> Result<Self, TokenError> {
        let parsed = UnverifiedToken::parse(token)?;
        let claims = parsed.claims();
        Ok(Self {
            // Decoded claims are validated, and a valid `sub` names a VM.
            vm: claims
                .vm_uuid()
                .ok_or_else(|| TokenError::Claims(ClaimsError::Subject(claims.sub.clone())))?,
            expires: claims.exp,
        })
    }
}
