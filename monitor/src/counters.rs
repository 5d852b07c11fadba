//! [`Counters`]: what the monitor keeps only in memory: which VMs' channels are open, and
//! how many lines each guest had dropped, by why.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, MutexGuard};

use uuid::Uuid;

/// Why a line from a guest was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Drop {
    /// Not a report.
    Malformed,
    /// Longer than the line limit.
    TooLong,
    /// Over the rate limit.
    RateLimited,
}

impl Drop {
    /// The metric label.
    pub fn name(self) -> &'static str {
        match self {
            Drop::Malformed => "malformed",
            Drop::TooLong => "too-long",
            Drop::RateLimited => "rate-limited",
        }
    }
}

#[derive(Default)]
struct Inner {
    connected: BTreeSet<Uuid>,
    dropped: BTreeMap<(Uuid, Drop), u64>,
}

/// Shared by the channel tasks, the watcher and the metrics.
#[derive(Default)]
pub struct Counters {
    inner: Mutex<Inner>,
}

impl Counters {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic elsewhere leaves plain counters consistent.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks `vm`'s channel open, unless it already is or `max` are: whether it was.
    pub fn connect(&self, vm: Uuid, max: usize) -> bool {
        let mut inner = self.lock();
        inner.connected.len() < max && inner.connected.insert(vm)
    }

    /// Marks `vm`'s channel closed.
    pub fn disconnect(&self, vm: Uuid) {
        self.lock().connected.remove(&vm);
    }

    /// Whether `vm`'s channel is open.
    pub fn is_connected(&self, vm: Uuid) -> bool {
        self.lock().connected.contains(&vm)
    }

    /// Counts `n` lines of `vm` dropped for `why`.
    pub fn dropped(&self, vm: Uuid, why: Drop, n: u64) {
        *self.lock().dropped.entry((vm, why)).or_default() += n;
    }

    /// Every drop count: (vm, why, count).
    pub fn drops(&self) -> Vec<(Uuid, Drop, u64)> {
        self.lock()
            .dropped
            .iter()
            .map(|(&(vm, why), &n)| (vm, why, n))
            .collect()
    }

    /// The open channels.
    pub fn connected(&self) -> Vec<Uuid> {
        self.lock().connected.iter().copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vm_connects_once_and_the_limit_holds() {
        let counters = Counters::default();
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        assert!(counters.connect(a, 1));
        assert!(!counters.connect(a, 1));
        assert!(!counters.connect(b, 1));
        counters.disconnect(a);
        assert!(counters.connect(b, 1));
        assert_eq!(counters.connected(), [b]);
        counters.dropped(b, Drop::Malformed, 2);
        counters.dropped(b, Drop::Malformed, 3);
        assert_eq!(counters.drops(), [(b, Drop::Malformed, 5)]);
    }
}
