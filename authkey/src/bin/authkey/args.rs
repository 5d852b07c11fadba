//! Parsers for command-line values: RFC 3339 times and human durations.

use std::time::Duration;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// An RFC 3339 time, e.g. `2025-01-31T12:00:00Z`.
pub(crate) fn time(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|e| format!("not an RFC 3339 time like 2025-01-31T12:00:00Z ({e})"))
}

/// A duration such as `30d`, `12h`, `90s` or `1h 30m`.
pub(crate) fn duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| format!("not a duration like 30d or 12h ({e})"))
}
