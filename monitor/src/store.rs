//! [`Store`]: the SQLite database (WAL, schema migrations by `user_version`) and how an
//! event changes it: the event row, the VM's latest state, its alarms.

use std::path::Path;

use rusqlite::{params, Connection};

use crate::event::{Event, Kind};

/// The schema, one migration per step; `PRAGMA user_version` counts those applied.
const MIGRATIONS: &[&str] = &[
    // 1: events, VMs, alarms.
    "CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        at_ms INTEGER NOT NULL,
        vm TEXT NOT NULL,
        kind TEXT NOT NULL,
        reason TEXT,
        exit_code INTEGER,
        jti TEXT,
        exp INTEGER,
        kid TEXT,
        device TEXT,
        detail TEXT
    );
    CREATE INDEX events_vm ON events (vm, id);
    CREATE INDEX events_kind ON events (kind, id);
    CREATE TABLE vms (
        vm TEXT PRIMARY KEY,
        first_seen_ms INTEGER NOT NULL,
        last_contact_ms INTEGER,
        connected INTEGER NOT NULL DEFAULT 0,
        verdict TEXT,
        reason TEXT,
        verdict_ms INTEGER,
        jti TEXT,
        exp INTEGER,
        kid TEXT,
        expiry_warned_ms INTEGER
    );
    CREATE TABLE alarms (
        id INTEGER PRIMARY KEY,
        vm TEXT NOT NULL,
        kind TEXT NOT NULL,
        opened_ms INTEGER NOT NULL,
        event_id INTEGER NOT NULL REFERENCES events (id),
        detail TEXT,
        closed_ms INTEGER
    );
    CREATE INDEX alarms_open ON alarms (closed_ms, vm);",
];

/// A database error.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite said no.
    #[error("database error")]
    Sqlite(#[from] rusqlite::Error),
    /// The file was written by a newer monitor.
    #[error("the database has schema version {0}, newer than this monitor's {max}", max = MIGRATIONS.len())]
    TooNew(i64),
}

/// The database, opened for writing (one writer per database).
pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens (creating) the database at `path`, in WAL mode with full sync (a committed
    /// event survives a crash of the process and of the machine), and migrates it.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrate(&mut conn)?;
        Ok(Self { conn })
    }

    /// The schema version (number of migrations applied).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |row| row.get(0))?)
    }

    /// Stores `events` in one transaction; their ids, in order. Nothing is stored if it
    /// fails.
    pub fn insert(&mut self, events: &[Event]) -> Result<Vec<i64>, StoreError> {
        let tx = self.conn.transaction()?;
        let mut ids = Vec::with_capacity(events.len());
        for event in events {
            ids.push(apply(&tx, event)?);
        }
        tx.commit()?;
        Ok(ids)
    }

    /// Marks every VM disconnected (at start: no channel is open yet).
    pub fn reset_connections(&mut self) -> Result<(), StoreError> {
        self.conn.execute("UPDATE vms SET connected = 0", [])?;
        Ok(())
    }
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let known = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
    if version > known {
        return Err(StoreError::TooNew(version));
    }
    for (step, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(version).unwrap_or(0))
    {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", step + 1)?;
        tx.commit()?;
    }
    Ok(())
}

/// One event: its row, then what it changes in `vms` and `alarms`.
fn apply(tx: &rusqlite::Transaction<'_>, e: &Event) -> Result<i64, StoreError> {
    let vm = e.vm.hyphenated().to_string();
    tx.execute(
        "INSERT INTO events (at_ms, vm, kind, reason, exit_code, jti, exp, kid, device, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            e.at_ms,
            vm,
            e.kind.name(),
            e.reason,
            e.exit_code,
            e.jti,
            e.exp,
            e.kid,
            e.device,
            e.detail
        ],
    )?;
    let id = tx.last_insert_rowid();
    tx.execute(
        "INSERT INTO vms (vm, first_seen_ms) VALUES (?1, ?2) ON CONFLICT (vm) DO NOTHING",
        params![vm, e.at_ms],
    )?;
    match e.kind {
        Kind::Connected => {
            tx.execute("UPDATE vms SET connected = 1 WHERE vm = ?1", [&vm])?;
        }
        Kind::Disconnected => {
            tx.execute("UPDATE vms SET connected = 0 WHERE vm = ?1", [&vm])?;
        }
        Kind::Accepted | Kind::Refused => {
            tx.execute(
                "UPDATE vms SET last_contact_ms = ?2, verdict = ?3, reason = ?4, verdict_ms = ?2,
                 jti = ?5, exp = ?6, kid = ?7 WHERE vm = ?1",
                params![vm, e.at_ms, e.kind.name(), e.reason, e.jti, e.exp, e.kid],
            )?;
        }
        Kind::Dropped => {
            tx.execute(
                "UPDATE vms SET last_contact_ms = ?2 WHERE vm = ?1",
                params![vm, e.at_ms],
            )?;
        }
        Kind::Expiring => {
            tx.execute(
                "UPDATE vms SET expiry_warned_ms = ?2 WHERE vm = ?1",
                params![vm, e.at_ms],
            )?;
        }
        Kind::Silent | Kind::Enforced | Kind::EnforceFailed | Kind::AlarmFailed => {}
    }
    if e.kind == Kind::Accepted {
        // A VM accepted again is fine again; an expiry warning stays until the next one.
        tx.execute(
            "UPDATE alarms SET closed_ms = ?2 WHERE vm = ?1 AND closed_ms IS NULL AND kind != 'expiring'",
            params![vm, e.at_ms],
        )?;
    }
    if e.kind == Kind::Expiring || e.kind == Kind::Accepted {
        // At most one open expiry alarm per VM: the newest.
        tx.execute(
            "UPDATE alarms SET closed_ms = ?2 WHERE vm = ?1 AND closed_ms IS NULL AND kind = 'expiring'",
            params![vm, e.at_ms],
        )?;
    }
    if e.kind.is_alarm() {
        let detail = e.reason.clone().or_else(|| e.detail.clone());
        tx.execute(
            "INSERT INTO alarms (vm, kind, opened_ms, event_id, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![vm, e.kind.name(), e.at_ms, id, detail],
        )?;
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;
    use vusbkey_report::Report;

    #[test]
    fn migrations_run_once_and_a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), 1);
        drop(store);
        assert_eq!(Store::open(&path).unwrap().schema_version().unwrap(), 1);
        let conn = Connection::open(&path).unwrap();
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        assert!(matches!(Store::open(&path), Err(StoreError::TooNew(99))));
    }

    #[test]
    fn a_refusal_opens_an_alarm_that_acceptance_closes() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("m.db")).unwrap();
        let vm = Uuid::from_u128(7);
        let refused = Event::from_report(1, vm, Report::refused("wrong-vm", 16, "x"));
        let accepted = Event::from_report(
            2,
            vm,
            Report::accepted("j", "i", 100, &"a".repeat(64), "/dev/sda"),
        );
        let ids = store.insert(&[refused]).unwrap();
        assert_eq!(ids, [1]);
        let open = |s: &Store| -> i64 {
            s.conn
                .query_row(
                    "SELECT count(*) FROM alarms WHERE closed_ms IS NULL",
                    [],
                    |r| r.get(0),
                )
                .unwrap()
        };
        assert_eq!(open(&store), 1);
        store.insert(&[accepted]).unwrap();
        assert_eq!(open(&store), 0);
        let (verdict, exp): (String, i64) = store
            .conn
            .query_row(
                "SELECT verdict, exp FROM vms WHERE vm = ?1",
                [vm.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((verdict.as_str(), exp), ("accepted", 100));
    }
}
