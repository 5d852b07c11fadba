//! Asynchronous URBs shared by several threads on one descriptor: whichever thread reaps a
//! URB parks it here for the thread that waits for it, and late URBs are unlinked.

use std::collections::HashMap;
use std::io;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use thiserror::Error;

use crate::usbfs::{Completion, Device, UrbKind};

/// How a wait for URBs failed.
#[derive(Debug, Error)]
pub enum UrbError {
    /// An ioctl failed (ENODEV once the device is gone).
    #[error(transparent)]
    Io(#[from] io::Error),
    /// URBs were unlinked but the host controller never gave them back.
    #[error("{count} unlinked URB(s) not given back after {waited:?}")]
    NotGivenBack {
        /// How many.
        count: usize,
        /// How long we waited after DISCARDURB.
        waited: Duration,
    },
}

/// A device and the completions reaped for other threads.
pub struct AsyncDevice {
    /// The descriptor.
    pub dev: Device,
    parked: Mutex<HashMap<u64, Completion>>,
}

impl AsyncDevice {
    /// Wraps an open device.
    pub fn new(dev: Device) -> Self {
        Self {
            dev,
            parked: Mutex::new(HashMap::new()),
        }
    }

    /// Submits a URB; see [`Device::submit`].
    pub fn submit(&self, kind: UrbKind, ep: u8, buffer: Vec<u8>) -> io::Result<u64> {
        self.dev.submit(kind, ep, buffer)
    }

    /// Waits up to `timeout` for the URBs `ids`; returns those that completed (in the
    /// order of `ids`) and the ids still pending.
    pub fn wait(&self, ids: &[u64], timeout: Duration) -> io::Result<(Vec<Completion>, Vec<u64>)> {
        let deadline = Instant::now() + timeout;
        let mut done: Vec<Completion> = Vec::new();
        let mut pending: Vec<u64> = ids.to_vec();
        loop {
            {
                let mut parked = self.parked.lock().unwrap_or_else(|e| e.into_inner());
                pending.retain(|id| match parked.remove(id) {
                    Some(c) => {
                        done.push(c);
                        false
                    }
                    None => true,
                });
            }
            if pending.is_empty() {
                break;
            }
            let mut reaped = false;
            while let Some(c) = self.dev.reap_nowait()? {
                reaped = true;
                self.parked
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(c.id, c);
            }
            if reaped {
                continue;
            }
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            self.dev
                .wait_reapable((deadline - now).min(Duration::from_millis(20)))?;
        }
        done.sort_by_key(|c| ids.iter().position(|id| *id == c.id));
        Ok((done, pending))
    }

    /// Unlinks `ids` (those still in flight) and waits up to `grace` for all of them to come
    /// back: a host controller must give back an unlinked URB promptly.
    pub fn cancel(&self, ids: &[u64], grace: Duration) -> Result<Vec<Completion>, UrbError> {
        for &id in ids {
            match self.dev.discard(id) {
                // EINVAL: already given back, reaped below.
                Ok(()) => {}
                Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let (done, pending) = self.wait(ids, grace)?;
        if pending.is_empty() {
            Ok(done)
        } else {
            Err(UrbError::NotGivenBack {
                count: pending.len(),
                waited: grace,
            })
        }
    }

    /// Waits up to `timeout`, then unlinks what is still pending; returns every completion.
    pub fn wait_then_cancel(
        &self,
        ids: &[u64],
        timeout: Duration,
        grace: Duration,
    ) -> Result<Vec<Completion>, UrbError> {
        let (mut done, pending) = self.wait(ids, timeout)?;
        if !pending.is_empty() {
            done.extend(self.cancel(&pending, grace)?);
        }
        Ok(done)
    }
}
