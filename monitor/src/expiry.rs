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
