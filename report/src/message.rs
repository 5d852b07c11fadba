//! [`Report`]: one verdict as one JSON line, built by the agent and parsed, strictly, by
//! the monitor.

use serde::{Deserialize, Serialize};

/// The virtio-serial port's name (`/dev/virtio-ports/org.vusbkey.agent.0` in a guest
/// with udev; QEMU `virtserialport,name=...`, libvirt `<target type='virtio' name=...>`).
pub const PORT_NAME: &str = "org.vusbkey.agent.0";

/// The longest line a report takes, newline included; the monitor drops longer lines.
pub const MAX_LINE: usize = 4096;

/// The longest refusal detail, in bytes; the agent cuts longer ones.
pub const MAX_DETAIL: usize = 1024;

/// The longest token id, issuer and device path.
const MAX_FIELD: usize = 256;

/// What the agent decided, as it tells the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase", deny_unknown_fields)]
pub enum Report {
    /// The token passed every check.
    Accepted(Accepted),
    /// The token (or its absence) was refused.
    Refused(Refused),
}

/// An accepted token: which one, whose, until when, from which disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accepted {
    /// The token's `jti`.
    pub jti: String,
    /// The token's `iss`.
    pub iss: String,
    /// The token's `exp`, in seconds since the Unix epoch.
    pub exp: i64,
    /// The signing key's id: SHA-256 of its public key, 64 lowercase hex digits.
    pub kid: String,
    /// The key disk the token was read from.
    pub device: String,
}

/// A refusal: the agent's reason name and exit code, and what exactly went wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Refused {
    /// The reason's name (`wrong-vm`, `expired`, ...).
    pub reason: String,
    /// The exit code the agent gives for it.
    pub exit_code: u8,
    /// What exactly, at most [`MAX_DETAIL`] bytes.
    pub detail: String,
}

/// Why a line is not a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Longer than [`MAX_LINE`].
    #[error("the line is {0} bytes long (at most {MAX_LINE})")]
    TooLong(usize),
    /// Not UTF-8, not JSON, or not one of the events with exactly its fields.
    #[error("not a report: {0}")]
    Syntax(#[from] serde_json::Error),
    /// A field is out of bounds.
    #[error("field `{field}` is invalid: {why}")]
    Field {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        why: &'static str,
    },
}

impl Report {
    /// An acceptance; its strings made fit as by [`Self::refused`] (to 256 bytes).
    pub fn accepted(jti: &str, iss: &str, exp: i64, kid: &str, device: &str) -> Self {
        Report::Accepted(Accepted {
            jti: fit(jti, MAX_FIELD),
            iss: fit(iss, MAX_FIELD),
            exp,
            kid: kid.to_owned(),
            device: fit(device, MAX_FIELD),
        })
    }

    /// A refusal, its detail made fit: control characters become spaces, and it is cut
    /// (at a character boundary) to [`MAX_DETAIL`] bytes.
    pub fn refused(reason: &str, exit_code: u8, detail: &str) -> Self {
        Report::Refused(Refused {
            reason: reason.to_owned(),
            exit_code,
            detail: fit(detail, MAX_DETAIL),
        })
    }

    /// The line to write: JSON and a newline, at most [`MAX_LINE`] bytes for any report
    /// that [`Self::validate`] accepts.
    pub fn to_line(&self) -> String {
        // Serialising plain strings and integers cannot fail.
        let mut line = serde_json::to_string(self).unwrap_or_default();
        line.push('\n');
        line
    }

    /// Parses one line (without or with its newline) from a guest, which may be anything.
    pub fn parse(line: &[u8]) -> Result<Self, ReportError> {
        if line.len() > MAX_LINE {
            return Err(ReportError::TooLong(line.len()));
        }
        let report: Report = serde_json::from_slice(line)?;
        report.validate()?;
        Ok(report)
    }

    /// Checks the bounds the agent keeps: printable strings of limited length, a reason
    /// name of lowercase letters and dashes, a key id of 64 hex digits, a plausible `exp`.
    pub fn validate(&self) -> Result<(), ReportError> {
        match self {
            Report::Accepted(a) => {
                text("jti", &a.jti, MAX_FIELD)?;
                text("iss", &a.iss, MAX_FIELD)?;
                text("device", &a.device, MAX_FIELD)?;
                if a.kid.len() != 64
                    || !a
                        .kid
                        .bytes()
                        .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
                {
                    return invalid("kid", "not 64 lowercase hex digits");
                }
                // Up to the end of year 9999: every date a dashboard can print.
                if !(0..=253_402_300_799).contains(&a.exp) {
                    return invalid("exp", "out of range");
                }
            }
            Report::Refused(r) => {
                let name = |b: u8| b.is_ascii_lowercase() || b == b'-';
                if r.reason.is_empty() || r.reason.len() > 32 || !r.reason.bytes().all(name) {
                    return invalid("reason", "not a reason name");
                }
                text("detail", &r.detail, MAX_DETAIL)?;
            }
        }
        Ok(())
    }
}

/// `text` without control characters (made spaces), cut at a character boundary to at
/// most `max` bytes.
fn fit(text: &str, max: usize) -> String {
    let mut clean = String::with_capacity(text.len().min(max));
    for c in text.chars() {
        let c = if c.is_control() { ' ' } else { c };
        if clean.len() + c.len_utf8() > max {
            break;
        }
        clean.push(c);
    }
    clean
}

fn invalid(field: &'static str, why: &'static str) -> Result<(), ReportError> {
    Err(ReportError::Field { field, why })
}

/// At most `max` bytes, no control characters.
fn text(field: &'static str, value: &str, max: usize) -> Result<(), ReportError> {
    if value.len() > max {
        return invalid(field, "too long");
    }
    if value.chars().any(char::is_control) {
        return invalid(field, "control characters");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn accepted() -> Report {
        Report::accepted(
            "0195f1c2-aaaa",
            "vusbkey",
            1_800_000_000,
            &"fd".repeat(32),
            "/dev/sda",
        )
    }

    #[test]
    fn lines_are_json_with_the_event_name() {
        let line = accepted().to_line();
        assert!(
            line.starts_with(r#"{"event":"accepted","jti":"0195f1c2-aaaa""#),
            "{line}"
        );
        assert!(line.ends_with("}\n"));
        assert_eq!(Report::parse(line.as_bytes()).unwrap(), accepted());
        let refused = Report::refused("wrong-vm", 16, "wrong VM");
        assert_eq!(
            refused.to_line(),
            "{\"event\":\"refused\",\"reason\":\"wrong-vm\",\"exit_code\":16,\"detail\":\"wrong VM\"}\n"
        );
    }

    #[test]
    fn hostile_lines_are_refused() {
        for line in [
            &b"{\"event\":\"accepted\"}"[..],
            b"{\"event\":\"rebooted\"}",
            b"{\"event\":\"refused\",\"reason\":\"x\",\"exit_code\":1,\"detail\":\"\",\"vm\":\"other\"}",
            b"{\"event\":\"refused\",\"reason\":\"<b>\",\"exit_code\":1,\"detail\":\"\"}",
            b"{\"event\":\"refused\",\"reason\":\"x\",\"exit_code\":300,\"detail\":\"\"}",
            b"{\"event\":\"refused\",\"reason\":\"x\",\"exit_code\":1,\"detail\":\"a\\u0000b\"}",
            b"\xff\xfe",
            b"",
            b"[1,2]",
        ] {
            assert!(Report::parse(line).is_err(), "{}", String::from_utf8_lossy(line));
        }
        let mut bad_kid = accepted();
        if let Report::Accepted(a) = &mut bad_kid {
            a.kid = "FD".repeat(32);
        }
        assert!(Report::parse(bad_kid.to_line().as_bytes()).is_err());
        let long = format!(
            "{{\"event\":\"refused\",\"detail\":\"{}\"}}",
            "a".repeat(MAX_LINE)
        );
        assert!(matches!(
            Report::parse(long.as_bytes()),
            Err(ReportError::TooLong(_))
        ));
    }

    proptest! {
        /// Whatever the detail, the agent's line fits and the monitor reads it back.
        #[test]
        fn any_refusal_fits_a_line_and_round_trips(detail in any::<String>(), code in any::<u8>()) {
            let report = Report::refused("expired", code, &detail);
            let line = report.to_line();
            prop_assert!(line.len() <= MAX_LINE);
            prop_assert_eq!(Report::parse(line.as_bytes()).unwrap(), report);
        }

        /// Any bytes at all: an error or a valid report, never a panic.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Ok(report) = Report::parse(&bytes) {
                prop_assert!(report.validate().is_ok());
            }
        }

        /// Whatever the issuer wrote in a token, an acceptance fits a line.
        #[test]
        fn any_acceptance_fits_a_line(jti in any::<String>(), iss in any::<String>(), device in any::<String>()) {
            let report = Report::accepted(&jti, &iss, 0, &"0".repeat(64), &device);
            let line = report.to_line();
            prop_assert!(line.len() <= MAX_LINE);
            prop_assert_eq!(Report::parse(line.as_bytes()).unwrap(), report);
        }

        /// Worst case for escaping: quotes, backslashes and multi-byte characters.
        #[test]
        fn escaping_never_overflows(detail in "[\"\\\\\u{10ffff}é]{0,2000}") {
            prop_assert!(Report::refused("x", 1, &detail).to_line().len() <= MAX_LINE);
        }
    }
}
