//! [`ClaimsError`]: why a set of claims cannot be signed or trusted.

/// Why a set of claims cannot be signed or trusted.
#[derive(Debug, thiserror::Error)]
pub enum ClaimsError {
    /// Not the JSON object of the claims (bad JSON, a missing or an unknown claim).
    #[error("{0}")]
    Json(String),
    /// `sub` is not `vm:` and a lowercase hyphenated UUID.
    #[error("sub {0:?} is not \"vm:<uuid>\" with the UUID in lowercase hyphenated form")]
    Subject(String),
    /// A text claim is empty.
    #[error("{0} is empty")]
    Empty(&'static str),
    /// A text claim holds control characters (refused so that printing it is harmless).
    #[error("{0} contains control characters")]
    ControlCharacters(&'static str),
    /// `exp` is not after `nbf`.
    #[error("exp {exp} is not after nbf {nbf}")]
    EmptyValidity {
        /// `nbf`, RFC 3339.
        nbf: String,
        /// `exp`, RFC 3339.
        exp: String,
    },
    /// A time is outside what RFC 3339 can express (years 0000 to 9999).
    #[error("{0} is out of range")]
    OutOfRange(&'static str),
    /// The requested validity period is zero.
    #[error("the validity period is zero")]
    ZeroValidity,
}
