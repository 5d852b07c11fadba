//! `vusbkey-monitor`: the host's view of its VMs' vusbkey agents.
//!
//! Each VM's agent reports its verdict as one JSON line ([`vusbkey_report::Report`]) on a
//! virtio-serial port whose host end is a QEMU chardev unix socket, `<uuid>.sock`, in the
//! directory the monitor watches. A VM's identity is the socket that spoke, never the
//! message. Guest input is hostile: lines are bounded, rate-limited and parsed strictly;
//! what is dropped is counted. Events go into SQLite (WAL, migrations) and, once
//! committed, to stdout as structured lines. The host's policy raises alarms (a hook
//! command) for refusals, silent VMs (no verdict by a deadline) and tokens about to
//! expire, and can pause or end a VM through its QMP socket, `<uuid>.qmp`. A read-only
//! dashboard and Prometheus metrics are served over HTTP.
//!
//! # Contents
//! - [`Config`], [`Limits`], [`HostPolicy`], [`Enforcement`]: `monitor.toml`.
//! - [`channel_vm`], [`qmp_socket`]: a VM's identity, from its socket's name.
//! - [`LineSplitter`], [`Split`], [`RateLimit`]: the bounds on guest input.
//! - [`Event`], [`Kind`]: what is recorded.
//! - [`Store`]: the SQLite database, its migrations and writes; [`Writer`], the thread
//!   that owns it and acknowledges each committed event.
//! - [`Queries`] and its rows ([`VmRow`], [`EventRow`], [`AlarmRow`], [`EventFilter`]):
//!   reading it back.
//! - [`ingest`]: one VM's [`Channel`], from bytes to events.
//! - [`watch`]: the socket directory.
//! - [`Enforcer`]: the host policy's actions, [`run_alarm`] and [`qmp::execute`].
//! - [`warn_expiring`]: the daily expiry warnings.
//! - [`Counters`]: what is only kept in memory (connected VMs, lines dropped and why,
//!   [`Drop`]).
//! - [`dashboard::router`]: the HTML pages, and [`metrics::render`] for `/metrics`.
//! - [`event_table`]: the event log as a text table (`vusbkey-monitor events`).
//! - [`daemon::run`]: everything together.

mod alarm;
mod clock;
mod config;
mod counters;
pub mod daemon;
pub mod dashboard;
mod event;
mod expiry;
mod html;
mod identity;
mod ingest;
mod limits;
pub mod metrics;
mod policy;
pub mod qmp;
mod queries;
mod store;
mod table;
mod watch;
mod writer;

pub use alarm::{run_alarm, AlarmError};
pub use config::{Config, ConfigError, Enforcement, HostPolicy, Limits, DEFAULT_CONFIG_FILE};
pub use counters::{Counters, Drop};
pub use event::{Event, Kind};
pub use expiry::warn_expiring;
pub use identity::{channel_vm, qmp_socket};
pub use ingest::{ingest, Channel};
pub use limits::{LineSplitter, RateLimit, Split};
pub use policy::Enforcer;
pub use queries::{AlarmRow, EventFilter, EventRow, Queries, VmRow};
pub use store::{Store, StoreError};
pub use table::event_table;
pub use watch::watch;
pub use writer::Writer;
