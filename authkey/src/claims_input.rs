//! [`ClaimsInput`]: what an issuer decides; [`Claims`] are made from it.

use std::time::Duration;

use rand_core::{OsRng, RngCore as _};
use time::{OffsetDateTime, UtcOffset};
use uuid::Uuid;

use crate::{Claims, ClaimsError, DEFAULT_AUDIENCE, DEFAULT_ISSUER};

/// What an issuer decides about a token; [`Self::to_claims`] adds a random `jti`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimsInput {
    /// The VM the token is bound to.
    pub vm: Uuid,
    /// How long the token is valid, from `not_before`.
    pub valid_for: Duration,
    /// Start of validity; `issued_at` if `None`.
    pub not_before: Option<OffsetDateTime>,
    /// `iat`.
    pub issued_at: OffsetDateTime,
    /// `iss`.
    pub issuer: String,
    /// `aud`.
    pub audience: String,
}

impl ClaimsInput {
    /// A token for `vm`, issued now and valid from now for `valid_for`, with the default
    /// issuer and audience.
    pub fn new(vm: Uuid, valid_for: Duration) -> Self {
        Self {
            vm,
            valid_for,
            not_before: None,
            issued_at: OffsetDateTime::now_utc(),
            issuer: DEFAULT_ISSUER.to_owned(),
            audience: DEFAULT_AUDIENCE.to_owned(),
        }
    }

    /// The claims: times in UTC truncated to whole seconds, `exp` = `nbf` + `valid_for`,
    /// `jti` = 128 bits from the OS random number generator.
    pub fn to_claims(&self) -> Result<Claims, ClaimsError> {
        if self.valid_for.is_zero() {
            return Err(ClaimsError::ZeroValidity);
        }
        let whole_seconds_utc = |t: OffsetDateTime, name| {
            t.checked_to_offset(UtcOffset::UTC)
                .and_then(|t| t.replace_nanosecond(0).ok())
                .ok_or(ClaimsError::OutOfRange(name))
        };
        let iat = whole_seconds_utc(self.issued_at, "iat")?;
        let nbf = whole_seconds_utc(self.not_before.unwrap_or(self.issued_at), "nbf")?;
        let exp = time::Duration::try_from(self.valid_for)
            .ok()
            .and_then(|d| nbf.checked_add(d))
            .ok_or(ClaimsError::OutOfRange("exp"))?;
        let exp = whole_seconds_utc(exp, "exp")?;
        let mut jti = [0u8; 16];
        OsRng.fill_bytes(&mut jti);
        let claims = Claims {
            iss: self.issuer.clone(),
            sub: Claims::subject_for(self.vm),
            aud: self.audience.clone(),
            iat,
            nbf,
            exp,
            jti: hex::encode(jti),
        };
        claims.validate()?;
        Ok(claims)
    }
}
