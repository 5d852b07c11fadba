//! Counts of what the device answered, per kind of op: the run's summary.

use std::collections::BTreeMap;
use std::fmt;
use std::io;

/// Outcomes by op kind and result (`ok` or an errno name).
#[derive(Default, Debug, Clone)]
pub struct Tally {
    counts: BTreeMap<(&'static str, String), u64>,
    ops: u64,
}

/// The name of an errno, as `errno` prints it, for the few usbdevfs gives.
pub fn errno_name(errno: i32) -> String {
    let name = match errno {
        libc::EPIPE => "EPIPE",
        libc::ETIMEDOUT => "ETIMEDOUT",
        libc::EINVAL => "EINVAL",
        libc::ENOENT => "ENOENT",
        libc::ECONNRESET => "ECONNRESET",
        libc::ESHUTDOWN => "ESHUTDOWN",
        libc::EPROTO => "EPROTO",
        libc::EOVERFLOW => "EOVERFLOW",
        libc::EREMOTEIO => "EREMOTEIO",
        libc::EBUSY => "EBUSY",
        libc::ENODEV => "ENODEV",
        libc::ENOMEM => "ENOMEM",
        libc::EILSEQ => "EILSEQ",
        libc::ENOSR => "ENOSR",
        libc::EXDEV => "EXDEV",
        libc::EHOSTUNREACH => "EHOSTUNREACH",
        libc::EAGAIN => "EAGAIN",
        libc::ENODATA => "ENODATA",
        libc::EINTR => "EINTR",
        libc::EMSGSIZE => "EMSGSIZE",
        libc::ENOSPC => "ENOSPC",
        _ => return format!("errno{errno}"),
    };
    name.to_string()
}

impl Tally {
    /// One op done.
    pub fn op(&mut self) {
        self.ops += 1;
    }

    /// Ops done.
    pub fn ops(&self) -> u64 {
        self.ops
    }

    /// Records the result of one transfer or ioctl of kind `kind`.
    pub fn record<T>(&mut self, kind: &'static str, result: &io::Result<T>) {
        let outcome = match result {
            Ok(_) => "ok".to_string(),
            Err(e) => e.raw_os_error().map_or_else(|| e.to_string(), errno_name),
        };
        *self.counts.entry((kind, outcome)).or_default() += 1;
    }

    /// Records a URB's completion status (0 or a negative errno).
    pub fn record_status(&mut self, kind: &'static str, status: i32) {
        let outcome = if status == 0 {
            "ok".to_string()
        } else {
            errno_name(-status)
        };
        *self.counts.entry((kind, outcome)).or_default() += 1;
    }

    /// Adds another thread's counts.
    pub fn merge(&mut self, other: &Tally) {
        self.ops += other.ops;
        for (key, n) in &other.counts {
            *self.counts.entry(key.clone()).or_default() += n;
        }
    }
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut kind = "";
        for ((k, outcome), n) in &self.counts {
            if *k != kind {
                if !kind.is_empty() {
                    writeln!(f)?;
                }
                write!(f, "  {k}:")?;
                kind = k;
            }
            write!(f, " {outcome}={n}")?;
        }
        if !kind.is_empty() {
            writeln!(f)?;
        }
        Ok(())
    }
}
