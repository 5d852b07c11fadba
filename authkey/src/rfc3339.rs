//! RFC 3339 text for times in messages, whole seconds, e.g. `2025-01-31T12:00:00Z`.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// `time` as RFC 3339 (its `Display` is not RFC 3339).
pub(crate) fn rfc3339(time: &OffsetDateTime) -> String {
    time.format(&Rfc3339)
        .unwrap_or_else(|_| format!("{time} (not representable in RFC 3339)"))
}
