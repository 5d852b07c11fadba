//! [`Claims`]: what a token says, and the rules every token's claims obey.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::rfc3339::rfc3339;
use crate::ClaimsError;

/// The claims of a vusbkey token, serialised as a JSON object with exactly these keys,
/// times as RFC 3339 strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    /// Issuer.
    pub iss: String,
    /// Subject: `vm:<uuid>`, the VM's SMBIOS UUID in lowercase hyphenated form.
    pub sub: String,
    /// Audience.
    pub aud: String,
    /// Issued at.
    #[serde(with = "time::serde::rfc3339")]
    pub iat: OffsetDateTime,
    /// Not valid before.
    #[serde(with = "time::serde::rfc3339")]
    pub nbf: OffsetDateTime,
    /// Not valid at or after.
    #[serde(with = "time::serde::rfc3339")]
    pub exp: OffsetDateTime,
    /// Token id: 128 random bits in hex.
    pub jti: String,
}

impl Claims {
    /// The `sub` naming `vm`.
    pub fn subject_for(vm: Uuid) -> String {
        format!("vm:{}", vm.hyphenated())
    }

    /// The VM the token is bound to, if `sub` is well-formed (always so once validated).
    pub fn vm_uuid(&self) -> Option<Uuid> {
        let uuid = Uuid::try_parse(self.sub.strip_prefix("vm:")?).ok()?;
        (Self::subject_for(uuid) == self.sub).then_some(uuid)
    }

    /// Checks the rules: well-formed `sub`; non-empty, printable `iss`, `aud`, `jti`;
    /// `exp` after `nbf`; every time expressible in RFC 3339.
    pub fn validate(&self) -> Result<(), ClaimsError> {
        if self.vm_uuid().is_none() {
            return Err(ClaimsError::Subject(self.sub.clone()));
        }
        for (name, value) in [("iss", &self.iss), ("aud", &self.aud), ("jti", &self.jti)] {
            if value.is_empty() {
                return Err(ClaimsError::Empty(name));
            }
            if value.chars().any(char::is_control) {
                return Err(ClaimsError::ControlCharacters(name));
            }
        }
        for (name, time) in [("iat", self.iat), ("nbf", self.nbf), ("exp", self.exp)] {
            if !(0..=9999).contains(&time.year()) || time.offset().seconds_past_minute() != 0 {
                return Err(ClaimsError::OutOfRange(name));
            }
        }
        if self.exp <= self.nbf {
            return Err(ClaimsError::EmptyValidity {
                nbf: rfc3339(&self.nbf),
                exp: rfc3339(&self.exp),
            });
        }
        Ok(())
    }

    /// Validated claims from their JSON.
    pub fn from_json(json: &[u8]) -> Result<Self, ClaimsError> {
        let claims: Self =
            serde_json::from_slice(json).map_err(|e| ClaimsError::Json(e.to_string()))?;
        claims.validate()?;
        Ok(claims)
    }

    /// The compact JSON of validated claims.
    pub fn to_json(&self) -> Result<Vec<u8>, ClaimsError> {
        self.validate()?;
        serde_json::to_vec(self).map_err(|e| ClaimsError::Json(e.to_string()))
    }

    /// Indented JSON for people.
    pub fn to_pretty_json(&self) -> Result<String, ClaimsError> {
        serde_json::to_string_pretty(self).map_err(|e| ClaimsError::Json(e.to_string()))
    }
}
