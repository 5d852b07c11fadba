//! Wall-clock time as the monitor keeps it (milliseconds since the Unix epoch) and shows
//! it (RFC 3339, UTC).

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Now, in milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// `ms` as `2026-01-01T00:00:00.000Z`.
pub(crate) fn rfc3339_ms(ms: i64) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    match OffsetDateTime::from_unix_timestamp_nanos(nanos) {
        Ok(at) => {
            let secs = at.replace_nanosecond(0).unwrap_or(at);
            let text = secs.format(&Rfc3339).unwrap_or_else(|_| ms.to_string());
            format!("{}.{:03}Z", text.trim_end_matches('Z'), ms.rem_euclid(1000))
        }
        Err(_) => ms.to_string(),
    }
}

/// `secs` as `2026-01-01T00:00:00Z`.
pub(crate) fn rfc3339_secs(secs: i64) -> String {
    OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|at| at.format(&Rfc3339).ok())
        .unwrap_or_else(|| secs.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_print_as_rfc3339() {
        assert_eq!(rfc3339_ms(1_798_761_600_123), "2027-01-01T00:00:00.123Z");
        assert_eq!(rfc3339_secs(1_798_761_600), "2027-01-01T00:00:00Z");
        assert_eq!(rfc3339_secs(i64::MAX), i64::MAX.to_string());
        assert!(now_ms() > 1_700_000_000_000);
    }
}
