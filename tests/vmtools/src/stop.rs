//! Stopping a hostile run at an op boundary on SIGTERM or SIGINT.
//!
//! A default SIGTERM kills the process wherever it is, and while a hostile op has usbfs
//! bind usb-storage again (`USBDEVFS_CONNECT`, a reset, a configuration change) the probe
//! runs in this process: a fatal signal then fails the probe's `kthread_run` in
//! `scsi_host_alloc` with -EINTR. The SCSI core (6.12, and 7.2 still) drops the template's
//! `/proc/scsi` directory count on that error path although it was never raised
//! (`scsi_host_dev_release` calls `scsi_proc_hostdir_rm` for a host still in
//! `SHOST_CREATED`), so the directory later goes while another host's entry is in it, and
//! that entry leaks. Blocked signals are never fatal: they wait here for a thread that
//! asks for them, and the run sees a flag between ops.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use nix::sys::signal::{SigSet, Signal};

/// Whether a stop was asked for; shared by every thread of the run.
#[derive(Clone, Debug, Default)]
pub struct StopFlag(Arc<AtomicBool>);

impl StopFlag {
    /// Whether SIGTERM or SIGINT has arrived.
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// Blocks SIGTERM and SIGINT in the calling thread (and in the threads it spawns after
    /// this) and starts a thread that waits for them and sets the flag. Call it before any
    /// other thread starts: a thread that does not block them could still be killed.
    pub fn on_termination() -> nix::Result<Self> {
        let mut set = SigSet::empty();
        set.add(Signal::SIGTERM);
        set.add(Signal::SIGINT);
        set.thread_block()?;
        let flag = Self::default();
        let waiter = flag.clone();
        std::thread::spawn(move || {
            while let Ok(signal) = set.wait() {
                let again = waiter.0.swap(true, Ordering::Relaxed);
                let what = if again {
                    "already stopping"
                } else {
                    "stopping after the op in flight"
                };
                println!("hostile: {signal}: {what}");
            }
        });
        Ok(flag)
    }
}
