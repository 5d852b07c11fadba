//! [`warn_expiring`]: accepted tokens that expire within the warning window raise an
//! `expiring` event and alarm, at most once a day per VM.

use std::path::Path;

use uuid::Uuid;

use crate::clock::{now_ms, rfc3339_secs};
use crate::event::{Event, Kind};
use crate::policy::Enforcer;
use crate::queries::Queries;
use crate::store::StoreError;
use crate::writer::Writer;

const DAY_MS: i64 = 86_400_000;

/// One pass: warns about every VM whose last accepted token expires within `days` days
/// and that was not warned about in the last 24 hours. Returns how many were warned.
pub async fn warn_expiring(
    database: &Path,
    days: u64,
    writer: &Writer,
    enforcer: &Enforcer,
) -> Result<usize, StoreError> {
    let now = now_ms();
    let window = i64::try_from(days)
        .unwrap_or(i64::MAX / DAY_MS)
        .saturating_mul(86_400);
    let database = database.to_path_buf();
    let due = tokio::task::spawn_blocking(move || {
        Queries::open(&database)?.expiring(now / 1000 + window, now - DAY_MS)
    })
    .await
    .unwrap_or_else(|_| Ok(Vec::new()))?;
    let mut warned = 0;
    for (vm, exp) in due {
        let Ok(vm) = Uuid::parse_str(&vm) else {
            continue;
        };
        let detail = if exp <= now / 1000 {
            format!("the token expired at {}", rfc3339_secs(exp))
        } else {
            format!("the token expires at {}", rfc3339_secs(exp))
        };
        let mut event = Event::new(now_ms(), vm, Kind::Expiring).with_detail(detail.clone());
        event.exp = Some(exp);
        writer.record(event).await;
        enforcer.expiring(vm, &detail).await;
        warned += 1;
    }
    Ok(warned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::HostPolicy;
    use crate::store::Store;
    use vusbkey_report::Report;

    #[tokio::test]
    async fn a_token_expiring_soon_is_warned_about_once_a_day() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("m.db");
        let writer = Writer::spawn(Store::open(&database).unwrap());
        let alarms = dir.path().join("alarms");
        let policy = HostPolicy {
            alarm_command: Some(vec![
                "/bin/sh".into(),
                "-c".into(),
                format!("echo \"$1 $2 $VUSBKEY_DETAIL\" >> {}", alarms.display()),
                "alarm".into(),
            ]),
            ..HostPolicy::default()
        };
        let enforcer = Enforcer::new(policy, dir.path().to_path_buf(), writer.clone());
        let now = now_ms() / 1000;
        let (soon, later) = (Uuid::from_u128(1), Uuid::from_u128(2));
        for (vm, exp) in [(soon, now + 3 * 86_400), (later, now + 100 * 86_400)] {
            let report = Report::accepted("t", "i", exp, &"a".repeat(64), "/dev/sda");
            writer
                .record(Event::from_report(now_ms(), vm, report))
                .await
                .unwrap();
        }
        assert_eq!(
            warn_expiring(&database, 14, &writer, &enforcer)
                .await
                .unwrap(),
            1
        );
        // Warned today already.
        assert_eq!(
            warn_expiring(&database, 14, &writer, &enforcer)
                .await
                .unwrap(),
            0
        );
        let alarm = std::fs::read_to_string(&alarms).unwrap();
        assert!(
            alarm.starts_with(&format!("expiring {soon} the token expires at ")),
            "{alarm}"
        );
        let queries = Queries::open(&database).unwrap();
        let open = queries.open_alarms().unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(
            (open[0].vm.as_str(), open[0].kind.as_str()),
            (soon.to_string().as_str(), "expiring")
        );
        // A newer token accepted closes the warning.
        let report = Report::accepted("t2", "i", now + 365 * 86_400, &"a".repeat(64), "/dev/sda");
        writer
            .record(Event::from_report(now_ms(), soon, report))
            .await
            .unwrap();
        assert!(queries.open_alarms().unwrap().is_empty());
        assert_eq!(
            warn_expiring(&database, 14, &writer, &enforcer)
                .await
                .unwrap(),
            0
        );
    }
}
