//! [`Queries`]: reading the database back, for the dashboard, the metrics, the expiry
//! warnings and `vusbkey-monitor events`; a read-only connection of its own (WAL lets it
//! read while the writer writes).

use std::path::Path;

use rusqlite::{params, Connection, OpenFlags, Row};
use serde::Deserialize;

use crate::store::StoreError;

/// A VM and its latest state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmRow {
    /// Its UUID.
    pub vm: String,
    /// When its channel first spoke or connected.
    pub first_seen_ms: i64,
    /// When its agent last said anything.
    pub last_contact_ms: Option<i64>,
    /// Whether its channel is connected now.
    pub connected: bool,
    /// `accepted` or `refused`, if it ever gave a verdict.
    pub verdict: Option<String>,
    /// The refusal's reason.
    pub reason: Option<String>,
    /// When the verdict came.
    pub verdict_ms: Option<i64>,
    /// The accepted token's id.
    pub jti: Option<String>,
    /// The accepted token's expiry (seconds since the epoch).
    pub exp: Option<i64>,
    /// The accepted token's key id.
    pub kid: Option<String>,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    /// Its id, in the order stored.
    pub id: i64,
    /// When, in milliseconds since the epoch.
    pub at_ms: i64,
    /// The VM.
    pub vm: String,
    /// Its kind's name.
    pub kind: String,
    /// The refusal reason.
    pub reason: Option<String>,
    /// The agent's exit code.
    pub exit_code: Option<i64>,
    /// The token id.
    pub jti: Option<String>,
    /// The token's expiry.
    pub exp: Option<i64>,
    /// The key id.
    pub kid: Option<String>,
    /// The key disk.
    pub device: Option<String>,
    /// The detail.
    pub detail: Option<String>,
}

/// An open alarm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmRow {
    /// Its id.
    pub id: i64,
    /// The VM.
    pub vm: String,
    /// `refused`, `silent`, `expiring` or `enforce-failed`.
    pub kind: String,
    /// Since when.
    pub opened_ms: i64,
    /// The reason or detail.
    pub detail: Option<String>,
}

/// Which events to list (the dashboard's filters).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct EventFilter {
    /// Only this VM.
    pub vm: Option<String>,
    /// Only this kind.
    pub kind: Option<String>,
    /// Only this refusal reason.
    pub reason: Option<String>,
    /// At most this many, newest first (default and cap 1000).
    pub limit: Option<u32>,
}

/// A read-only connection.
pub struct Queries {
    conn: Connection,
}

impl Queries {
    /// Opens the database (which must exist) read-only.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(Self { conn })
    }

    /// Every VM, by UUID.
    pub fn vms(&self) -> Result<Vec<VmRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT vm, first_seen_ms, last_contact_ms, connected, verdict, reason, verdict_ms,
             jti, exp, kid FROM vms ORDER BY vm",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(VmRow {
                vm: r.get(0)?,
                first_seen_ms: r.get(1)?,
                last_contact_ms: r.get(2)?,
                connected: r.get(3)?,
                verdict: r.get(4)?,
                reason: r.get(5)?,
                verdict_ms: r.get(6)?,
                jti: r.get(7)?,
                exp: r.get(8)?,
                kid: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The events `filter` selects, newest first.
    pub fn events(&self, filter: &EventFilter) -> Result<Vec<EventRow>, StoreError> {
        let limit = filter.limit.unwrap_or(1000).min(1000);
        let mut stmt = self.conn.prepare(
            "SELECT id, at_ms, vm, kind, reason, exit_code, jti, exp, kid, device, detail
             FROM events WHERE (?1 IS NULL OR vm = ?1) AND (?2 IS NULL OR kind = ?2)
             AND (?3 IS NULL OR reason = ?3) ORDER BY id DESC LIMIT ?4",
        )?;
        let blank = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
        let rows = stmt.query_map(
            params![
                blank(&filter.vm),
                blank(&filter.kind),
                blank(&filter.reason),
                limit
            ],
            event_row,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every open alarm, newest first.
    pub fn open_alarms(&self) -> Result<Vec<AlarmRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, vm, kind, opened_ms, detail FROM alarms WHERE closed_ms IS NULL
             ORDER BY id DESC",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(AlarmRow {
                id: r.get(0)?,
                vm: r.get(1)?,
                kind: r.get(2)?,
                opened_ms: r.get(3)?,
                detail: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Verdicts per VM and reason (`accepted` for acceptances): (vm, reason, count).
    pub fn verdict_counts(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT vm, coalesce(reason, kind), count(*) FROM events
             WHERE kind IN ('accepted', 'refused') GROUP BY 1, 2 ORDER BY 1, 2",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// VMs whose last verdict accepted a token expiring before `exp_before` (seconds),
    /// not warned about since `warned_before_ms`: (vm, exp).
    pub fn expiring(
        &self,
        exp_before: i64,
        warned_before_ms: i64,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT vm, exp FROM vms WHERE verdict = 'accepted' AND exp < ?1
             AND (expiry_warned_ms IS NULL OR expiry_warned_ms < ?2) ORDER BY vm",
        )?;
        let rows = stmt.query_map(params![exp_before, warned_before_ms], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

fn event_row(r: &Row<'_>) -> rusqlite::Result<EventRow> {
    Ok(EventRow {
        id: r.get(0)?,
        at_ms: r.get(1)?,
        vm: r.get(2)?,
        kind: r.get(3)?,
        reason: r.get(4)?,
        exit_code: r.get(5)?,
        jti: r.get(6)?,
        exp: r.get(7)?,
        kid: r.get(8)?,
        device: r.get(9)?,
        detail: r.get(10)?,
    })
}
