//! Log lines in the kernel's style, `vusbkey-usbip: <subject>: <message>` on stderr, with
//! a syslog level prefix (`<3>`, `<4>`, `<6>`) when stderr is the systemd journal
//! (systemd then sets `JOURNAL_STREAM`).

use std::fmt::Display;
use std::sync::OnceLock;

/// Severity, as printk levels.
#[derive(Debug, Clone, Copy)]
pub enum Level {
    /// `KERN_ERR`.
    Err = 3,
    /// `KERN_WARNING`.
    Warning = 4,
    /// `KERN_INFO`.
    Info = 6,
}

fn to_journal() -> bool {
    static JOURNAL: OnceLock<bool> = OnceLock::new();
    *JOURNAL.get_or_init(|| std::env::var_os("JOURNAL_STREAM").is_some())
}

/// Writes one log line about `subject`.
pub fn log(level: Level, subject: &str, message: impl Display) {
    let prefix = if to_journal() {
        format!("<{}>", level as u8)
    } else {
        String::new()
    };
    eprintln!("{prefix}vusbkey-usbip: {subject}: {message}");
}

/// An informational line.
pub fn info(subject: &str, message: impl Display) {
    log(Level::Info, subject, message);
}

/// A warning.
pub fn warn(subject: &str, message: impl Display) {
    log(Level::Warning, subject, message);
}

/// An error.
pub fn error(subject: &str, message: impl Display) {
    log(Level::Err, subject, message);
}
