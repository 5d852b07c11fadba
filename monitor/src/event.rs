//! [`Event`]: one thing that happened to a VM, as stored and logged.

use std::fmt;

use uuid::Uuid;
use vusbkey_report::Report;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The monitor connected to the VM's channel (the VM runs).
    Connected,
    /// The channel closed (the VM stopped).
    Disconnected,
    /// The agent accepted the token.
    Accepted,
    /// The agent refused.
    Refused,
    /// No verdict within the deadline after the channel connected.
    Silent,
    /// Lines were dropped: malformed, too long or over the rate limit.
    Dropped,
    /// The VM was paused or ended through QMP.
    Enforced,
    /// Pausing or ending it failed.
    EnforceFailed,
    /// The alarm command failed.
    AlarmFailed,
    /// The VM's accepted token expires soon.
    Expiring,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 10] = [
        Kind::Connected,
        Kind::Disconnected,
        Kind::Accepted,
        Kind::Refused,
        Kind::Silent,
        Kind::Dropped,
        Kind::Enforced,
        Kind::EnforceFailed,
        Kind::AlarmFailed,
        Kind::Expiring,
    ];

    /// The name stored and shown.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Connected => "connected",
            Kind::Disconnected => "disconnected",
            Kind::Accepted => "accepted",
            Kind::Refused => "refused",
            Kind::Silent => "silent",
            Kind::Dropped => "dropped",
            Kind::Enforced => "enforced",
            Kind::EnforceFailed => "enforce-failed",
            Kind::AlarmFailed => "alarm-failed",
            Kind::Expiring => "expiring",
        }
    }

    /// Whether it opens an alarm (shown until the VM is accepted again).
    pub fn is_alarm(self) -> bool {
        matches!(
            self,
            Kind::Refused | Kind::Silent | Kind::Expiring | Kind::EnforceFailed
        )
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One event, before it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// When the monitor saw it, in milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// The VM: from its socket's name.
    pub vm: Uuid,
    /// What happened.
    pub kind: Kind,
    /// The refusal reason (refused).
    pub reason: Option<String>,
    /// The agent's exit code (refused).
    pub exit_code: Option<u8>,
    /// The token's id (accepted).
    pub jti: Option<String>,
    /// The token's expiry, seconds since the Unix epoch (accepted, expiring).
    pub exp: Option<i64>,
    /// The signing key's id (accepted).
    pub kid: Option<String>,
    /// The key disk (accepted).
    pub device: Option<String>,
    /// Anything else: the refusal's detail, the count of dropped lines, an error.
    pub detail: Option<String>,
}

impl Event {
    /// An event with nothing but its kind.
    pub fn new(at_ms: i64, vm: Uuid, kind: Kind) -> Self {
        Self {
            at_ms,
            vm,
            kind,
            reason: None,
            exit_code: None,
            jti: None,
            exp: None,
            kid: None,
            device: None,
            detail: None,
        }
    }

    /// With a detail.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// What an agent reported, for the VM whose socket it came on.
    pub fn from_report(at_ms: i64, vm: Uuid, report: Report) -> Self {
        match report {
            Report::Accepted(a) => Self {
                jti: Some(a.jti),
                exp: Some(a.exp),
                kid: Some(a.kid),
                device: Some(a.device),
                detail: Some(format!("issuer {}", a.iss)),
                ..Self::new(at_ms, vm, Kind::Accepted)
            },
            Report::Refused(r) => Self {
                reason: Some(r.reason),
                exit_code: Some(r.exit_code),
                detail: Some(r.detail),
                ..Self::new(at_ms, vm, Kind::Refused)
            },
        }
    }

    /// The structured log line: `vusbkey-monitor: event id=N at=... vm=... kind=...` and
    /// the fields that are set, values quoted with escapes unless plain.
    pub fn log_line(&self, id: i64) -> String {
        let mut line = format!(
            "vusbkey-monitor: event id={id} at={} vm={} kind={}",
            crate::clock::rfc3339_ms(self.at_ms),
            self.vm,
            self.kind
        );
        let mut field = |name: &str, value: Option<String>| {
            if let Some(value) = value {
                line.push_str(&format!(" {name}={}", quoted(&value)));
            }
        };
        field("reason", self.reason.clone());
        field("exit_code", self.exit_code.map(|c| c.to_string()));
        field("jti", self.jti.clone());
        field("exp", self.exp.map(crate::clock::rfc3339_secs));
        field("kid", self.kid.clone());
        field("device", self.device.clone());
        field("detail", self.detail.clone());
        line
    }
}

/// Bare if plain, else quoted with escapes: a line always splits back into its pairs.
fn quoted(value: &str) -> String {
    let plain = |c: char| c.is_ascii_graphic() && !matches!(c, '"' | '=' | '\\');
    if !value.is_empty() && value.chars().all(plain) {
        value.to_owned()
    } else {
        format!("{value:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_are_distinct() {
        let mut names: Vec<_> = Kind::ALL.iter().map(|k| k.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Kind::ALL.len());
    }

    #[test]
    fn log_lines_quote_what_a_guest_wrote() {
        let vm = Uuid::nil();
        let report = Report::refused("wrong-vm", 16, "a \"quoted\" kind=fake\nline");
        let line = Event::from_report(0, vm, report).log_line(7);
        assert_eq!(
            line,
            "vusbkey-monitor: event id=7 at=1970-01-01T00:00:00.000Z \
             vm=00000000-0000-0000-0000-000000000000 kind=refused reason=wrong-vm exit_code=16 \
             detail=\"a \\\"quoted\\\" kind=fake line\""
        );
    }
}
