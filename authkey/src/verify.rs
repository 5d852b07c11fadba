//! [`verify`]: the only way to trust a token, and each way it can fail.

use std::time::Duration;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::footer::Footer;
use crate::paseto::DecodedToken;
use crate::rfc3339::rfc3339;
use crate::{Claims, KeyId, PublicKey, TokenError, IMPLICIT_ASSERTION};

/// What a token is checked against besides the trusted keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyOptions {
    /// The VM the token must be bound to; `None` accepts any VM.
    pub vm: Option<Uuid>,
    /// The time at which the token must be valid.
    pub at: OffsetDateTime,
    /// Tolerated clock difference, applied to both `nbf` and `exp`.
    pub skew: Duration,
}

impl VerifyOptions {
    /// Any VM, at `at`, no skew.
    pub fn at(at: OffsetDateTime) -> Self {
        Self {
            vm: None,
            at,
            skew: Duration::ZERO,
        }
    }
}

/// Why a token is not trusted; checked in this order.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// Not a well-formed vusbkey token (see [`TokenError`]); the claims are parsed only
    /// after the signature has verified.
    #[error("malformed token")]
    Malformed(#[from] TokenError),
    /// No trusted key has the token's key id.
    #[error(
        "unknown key: the token names key {kid}, which is not among the {trusted} trusted key(s)"
    )]
    UnknownKey {
        /// The key id in the footer.
        kid: KeyId,
        /// How many keys are trusted.
        trusted: usize,
    },
    /// The signature does not verify under the trusted key with the token's key id.
    #[error("bad signature: the token does not verify under trusted key {kid}")]
    BadSignature {
        /// The key id.
        kid: KeyId,
    },
    /// The token is bound to another VM.
    #[error("wrong VM: the token is for {subject}, not for this VM {expected}")]
    WrongVm {
        /// The token's `sub`, `vm:<uuid>`.
        subject: String,
        /// The VM it was checked for.
        expected: Uuid,
    },
    /// `nbf` is still in the future (beyond the skew).
    #[error("not yet valid: the token is valid from {}, checked at {} (skew {})", rfc3339(.not_before), rfc3339(.at), humantime::format_duration(*.skew))]
    NotYetValid {
        /// `nbf`.
        not_before: OffsetDateTime,
        /// The time of the check.
        at: OffsetDateTime,
        /// The skew allowed.
        skew: Duration,
    },
    /// `exp` has passed (beyond the skew).
    #[error("expired: the token expired at {}, checked at {} (skew {})", rfc3339(.expired), rfc3339(.at), humantime::format_duration(*.skew))]
    Expired {
        /// `exp`.
        expired: OffsetDateTime,
        /// The time of the check.
        at: OffsetDateTime,
        /// The skew allowed.
        skew: Duration,
    },
}

/// Verifies `token` against the `trusted` keys: structure, key id, strict Ed25519
/// signature under the implicit assertion, claims, VM binding, then validity period.
/// Returns the claims only if every check passes.
pub fn verify(
    token: &str,
    trusted: &[PublicKey],
    options: &VerifyOptions,
) -> Result<Claims, VerifyError> {
    let decoded = DecodedToken::decode(token)?;
    let kid = Footer::parse(decoded.footer())?.kid;
    let key = trusted
        .iter()
        .find(|key| key.kid() == kid)
        .ok_or(VerifyError::UnknownKey {
            kid,
            trusted: trusted.len(),
        })?;
    decoded
        .verify(key, IMPLICIT_ASSERTION)
        .map_err(|_| VerifyError::BadSignature { kid })?;
    let claims = Claims::from_json(decoded.message()).map_err(TokenError::Claims)?;
    if let Some(expected) = options.vm {
        if claims.vm_uuid() != Some(expected) {
            return Err(VerifyError::WrongVm {
                subject: claims.sub,
                expected,
            });
        }
    }
    let skew = time::Duration::try_from(options.skew).unwrap_or(time::Duration::MAX);
    if options.at.saturating_add(skew) < claims.nbf {
        return Err(VerifyError::NotYetValid {
            not_before: claims.nbf,
            at: options.at,
            skew: options.skew,
        });
    }
    if options.at.saturating_sub(skew) >= claims.exp {
        return Err(VerifyError::Expired {
            expired: claims.exp,
            at: options.at,
            skew: options.skew,
        });
    }
    Ok(claims)
}
