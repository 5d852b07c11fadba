//! `vusbkey-report`: what a guest's agent tells the host monitor, and how the monitor
//! reads it back from hostile bytes.
//!
//! The agent writes one [`Report`] per verdict as one JSON line (at most [`MAX_LINE`]
//! bytes, newline included) on the virtio-serial port named [`PORT_NAME`]. The monitor
//! parses each line with [`Report::parse`], which accepts only what the agent could have
//! written: known events, bounded printable strings, no unknown fields. A report says
//! nothing secret (never the token itself) and is the guest's word, not proof.
//!
//! # Contents
//! - [`Report`], [`Accepted`], [`Refused`]: the message.
//! - [`ReportError`]: why a line is not a report.
//! - [`PORT_NAME`], [`MAX_LINE`], [`MAX_DETAIL`]: the channel's constants.

mod message;

pub use message::{Accepted, Refused, Report, ReportError, MAX_DETAIL, MAX_LINE, PORT_NAME};
