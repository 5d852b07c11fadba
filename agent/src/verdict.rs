//! The verdict: [`Accepted`], or a [`Refusal`] with its [`Reason`], exit code and message.

use std::error::Error;
use std::fmt;
use std::path::PathBuf;

use authkey::{Claims, KeyId};
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;
use vusbkey_report::Report;

/// Why the agent refuses; each reason has its own exit code, name and message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// The configuration, the trusted keys, this VM's UUID or the rollback state cannot be
    /// used: nothing was checked.
    Config,
    /// No USB disk with the configured vendor, product and FAT label appeared in time.
    NoDevice,
    /// A disk with the configured USB identity is there but is not a readable FAT volume.
    UnreadableImage,
    /// The key disk holds no token file.
    NoToken,
    /// The token is not a well-formed vusbkey token.
    Malformed,
    /// The token names a key that is not trusted.
    UntrustedKey,
    /// The signature does not verify under the trusted key the token names.
    BadSignature,
    /// The token is bound to another VM.
    WrongVm,
    /// The token's `nbf` is still in the future.
    NotYetValid,
    /// The token's `exp` has passed.
    Expired,
    /// The token was issued before one already accepted on this VM.
    RolledBack,
}

impl Reason {
    /// Every reason, in the order of the exit code table.
    pub const ALL: [Reason; 11] = [
        Reason::Config,
        Reason::NoDevice,
        Reason::UnreadableImage,
        Reason::NoToken,
        Reason::Malformed,
        Reason::UntrustedKey,
        Reason::BadSignature,
        Reason::WrongVm,
        Reason::NotYetValid,
        Reason::Expired,
        Reason::RolledBack,
    ];

    /// The process exit code when the policy denies.
    pub fn exit_code(self) -> u8 {
        match self {
            Reason::Config => 3,
            Reason::NoDevice => 10,
            Reason::UnreadableImage => 11,
            Reason::NoToken => 12,
            Reason::Malformed => 13,
            Reason::UntrustedKey => 14,
            Reason::BadSignature => 15,
            Reason::WrongVm => 16,
            Reason::NotYetValid => 17,
            Reason::Expired => 18,
            Reason::RolledBack => 19,
        }
    }

    /// The machine-readable name: in the log line, the alarm's argument and
    /// `VUSBKEY_REASON`.
    pub fn name(self) -> &'static str {
        match self {
            Reason::Config => "config-error",
            Reason::NoDevice => "no-device",
            Reason::UnreadableImage => "unreadable-image",
            Reason::NoToken => "no-token",
            Reason::Malformed => "malformed",
            Reason::UntrustedKey => "untrusted-key",
            Reason::BadSignature => "bad-signature",
            Reason::WrongVm => "wrong-vm",
            Reason::NotYetValid => "not-yet-valid",
            Reason::Expired => "expired",
            Reason::RolledBack => "rolled-back",
        }
    }

    /// The message for people.
    pub fn message(self) -> &'static str {
        match self {
            Reason::Config => {
                "the agent's configuration, trusted keys, VM UUID or state are unusable"
            }
            Reason::NoDevice => "no vusbkey key disk was found",
            Reason::UnreadableImage => "the key disk is not a readable FAT volume",
            Reason::NoToken => "the key disk holds no token",
            Reason::Malformed => "the token is malformed",
            Reason::UntrustedKey => "the token is signed by a key that is not trusted",
            Reason::BadSignature => "the token's signature does not verify",
            Reason::WrongVm => "the token is for another VM",
            Reason::NotYetValid => "the token is not valid yet",
            Reason::Expired => "the token has expired",
            Reason::RolledBack => "the token is older than one already accepted on this VM",
        }
    }

    /// The exit code table, for `--help` and the README.
    pub fn exit_code_table() -> String {
        let mut table = String::from(
            "Exit codes:\n   0  accepted (or refused, when the policy does not include deny)\n   \
             2  invalid command line\n",
        );
        for reason in Reason::ALL {
            table.push_str(&format!(
                "  {:>2}  {:<17} {}\n",
                reason.exit_code(),
                reason.name(),
                reason.message()
            ));
        }
        table
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A refusal: the reason and what exactly went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Why.
    pub reason: Reason,
    /// What exactly: the error and its causes, `: `-separated.
    pub detail: String,
}

impl Refusal {
    /// A refusal for `reason`, its detail being `error` and its chain of sources.
    pub fn new(reason: Reason, error: &dyn Error) -> Self {
        let mut detail = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            detail.push_str(": ");
            detail.push_str(&cause.to_string());
            source = cause.source();
        }
        Self { reason, detail }
    }
}

impl Refusal {
    /// What the host monitor is told.
    pub fn report(&self) -> Report {
        Report::refused(self.reason.name(), self.reason.exit_code(), &self.detail)
    }
}

/// One structured `key=value` line: `vusbkey-agent: refused reason=... exit=... message=...
/// detail=...`.
impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "vusbkey-agent: refused reason={} exit={} message={} detail={}",
            self.reason,
            self.reason.exit_code(),
            Value(self.reason.message()),
            Value(&self.detail)
        )
    }
}

/// A token that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// This VM, the token's subject.
    pub vm: Uuid,
    /// The verified claims.
    pub claims: Claims,
    /// The trusted key that signed it.
    pub kid: KeyId,
    /// The key disk it was read from.
    pub device: PathBuf,
}

impl Accepted {
    /// What the host monitor is told: the token's id, issuer, expiry and key id, never
    /// the token itself.
    pub fn report(&self) -> Report {
        Report::accepted(
            &self.claims.jti,
            &self.claims.iss,
            self.claims.exp.unix_timestamp(),
            &self.kid.to_string(),
            &self.device.display().to_string(),
        )
    }
}

/// One structured line: `vusbkey-agent: accepted vm=... issuer=... kid=... expires=...
/// device=...`.
impl fmt::Display for Accepted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let expires = self
            .claims
            .exp
            .format(&Rfc3339)
            .unwrap_or_else(|_| self.claims.exp.to_string());
        write!(
            f,
            "vusbkey-agent: accepted vm={} issuer={} kid={} expires={} device={}",
            self.vm,
            Value(&self.claims.iss),
            self.kid,
            expires,
            Value(&self.device.display().to_string())
        )
    }
}

/// A `key=value` value: bare if it is plain, otherwise quoted with escapes, so that a line
/// always splits back into the same pairs.
pub(crate) struct Value<'a>(pub(crate) &'a str);

impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plain = |c: char| c.is_ascii_graphic() && !matches!(c, '"' | '=' | '\\');
        if !self.0.is_empty() && self.0.chars().all(plain) {
            f.write_str(self.0)
        } else {
            write!(f, "{:?}", self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_and_names_are_distinct() {
        let mut codes: Vec<_> = Reason::ALL.iter().map(|r| r.exit_code()).collect();
        let mut names: Vec<_> = Reason::ALL.iter().map(|r| r.name()).collect();
        codes.sort_unstable();
        codes.dedup();
        names.sort_unstable();
        names.dedup();
        assert_eq!(codes.len(), Reason::ALL.len());
        assert_eq!(names.len(), Reason::ALL.len());
        assert!(codes.iter().all(|&c| c != 0 && c != 1 && c != 2));
    }

    #[test]
    fn values_are_quoted_only_when_needed() {
        assert_eq!(Value("plain").to_string(), "plain");
        assert_eq!(Value("two words").to_string(), "\"two words\"");
        assert_eq!(Value("a=b").to_string(), "\"a=b\"");
        assert_eq!(Value("").to_string(), "\"\"");
        assert_eq!(Value("new\nline \"q\"").to_string(), r#""new\nline \"q\"""#);
    }
}
