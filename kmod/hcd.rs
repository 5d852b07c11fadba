// SPDX-License-Identifier: GPL-2.0

//! The host controller: its root hub's ports (one per compiled-in image, each a [`Port`]
//! with its own device and worker), the routing of each URB to the port of its device, the
//! root hub's requests and status, bus suspend/resume.

use crate::port::{Port, Submitter};
use crate::roothub::{self, Request};
use crate::usb::{errno, EndpointId, Hcd, SubmittedUrb, UrbRef};
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::prelude::*;
use kernel::sync::{Arc, ArcBorrow};

/// One vusbkey host controller.
///
/// # Invariants
///
/// `ports` has 1 to [`roothub::MAX_PORTS`] entries; `ports[i]` is root-hub port `i + 1`.
pub(crate) struct VHcd {
    hcd: Hcd,
    ports: KVec<Arc<Port>>,
    /// The root hub is suspended (`bus_suspend`).
    rh_suspended: AtomicBool,
}

impl VHcd {
    /// A controller for `hcd` with `ports` (port 1 first; 1 to [`roothub::MAX_PORTS`]).
    pub(crate) fn new(hcd: Hcd, ports: KVec<Arc<Port>>) -> Result<Self> {
        if ports.is_empty() || ports.len() > roothub::MAX_PORTS {
            return Err(EINVAL);
        }
        // INVARIANT: checked just above.
        Ok(Self {
            hcd,
            ports,
            rh_suspended: AtomicBool::new(false),
        })
    }

    /// Port `number` (1-based), if the root hub has it.
    fn port(&self, number: usize) -> Option<ArcBorrow<'_, Port>> {
        let port = self.ports.get(number.checked_sub(1)?)?;
        Some(port.as_arc_borrow())
    }

    /// `start`: the controller runs.
    pub(crate) fn start(&self) -> Result {
        for port in self.ports.iter() {
            port.set_running(true);
        }
        self.hcd.set_running(true);
        Ok(())
    }

    /// `stop`: the controller stops (see [`Port::set_running`]).
    pub(crate) fn stop(&self) {
        for port in self.ports.iter() {
            port.set_running(false);
        }
    }

    /// `urb_enqueue`: hands the URB to the port its device is plugged into.
    pub(crate) fn enqueue(&self, urb: SubmittedUrb, submitter: Submitter) -> Result {
        // Only our own devices, each on a root-hub port, submit here; usbcore answers the
        // root hub's URBs itself.
        self.port(urb.port()).ok_or(ENODEV)?.enqueue(urb, submitter)
    }

    /// `urb_dequeue`: the port of the URB's device marks it unlinked.
    pub(crate) fn dequeue(&self, urb: UrbRef<'_>, status: i32) -> Result {
        self.port(urb.port()).ok_or(ENODEV)?.dequeue(urb, status)
    }

    /// `endpoint_disable`: usbcore has flushed the endpoint, so no URB of it is left here.
    /// No per-endpoint state to free; report a broken promise rather than lose an URB.
    pub(crate) fn endpoint_disable(&self, ep: EndpointId) {
        let n: usize = self.ports.iter().map(|port| port.queued_for(ep)).sum();
        if n != 0 {
            pr_err!("{} URB(s) still queued on a disabled endpoint\n", n);
        }
    }

    /// Plugs or unplugs the device of port `number` (its `connected` attribute).
    pub(crate) fn set_connected(&self, number: usize, connected: bool) -> Result {
        if self.port(number).ok_or(ENODEV)?.set_connected(connected) {
            // Wakes the root hub if suspended (see `hub_status_data`) and reports the change.
            self.hcd.poll_rh_status();
        }
        Ok(())
    }

    /// Whether the device of port `number` is plugged in.
    pub(crate) fn connected(&self, number: usize) -> Result<bool> {
        Ok(self.port(number).ok_or(ENODEV)?.connected())
    }

    /// Whether the hub driver has powered every port of the root hub.
    pub(crate) fn ports_powered(&self) -> bool {
        self.ports.iter().all(|port| port.powered())
    }

    /// `hub_status_data`: bit N of the bitmap in `buf` for each port N with a change (USB
    /// 2.0 §11.12.4); returns the bitmap's length, or 0 if no port has a change.
    pub(crate) fn hub_status_data(&self, buf: &mut [u8]) -> usize {
        if !self.hcd.hw_accessible() {
            return 0;
        }
        let len = roothub::status_bytes(self.ports.len());
        let Some(bitmap) = buf.get_mut(..len) else {
            return 0;
        };
        bitmap.fill(0);
        let mut changed = false;
        for (i, port) in self.ports.iter().enumerate() {
            if port.has_changes() {
                let bit = i + 1;
                if let Some(byte) = bitmap.get_mut(bit / 8) {
                    *byte |= 1 << (bit % 8);
                    changed = true;
                }
            }
        }
        if !changed {
            return 0;
        }
        if self.rh_suspended.load(Ordering::SeqCst) {
            self.hcd.resume_root_hub();
        }
        len
    }

    /// `hub_control`: a hub class request to the root hub; returns the reply length.
    pub(crate) fn hub_control(
        &self,
        type_req: u16,
        value: u16,
        index: u16,
        buf: &mut [u8],
    ) -> Result<usize> {
        if !self.hcd.hw_accessible() {
            return Err(errno::etimedout());
        }
        // A request the root hub does not support is a protocol stall.
        match roothub::parse(self.ports.len(), type_req, value, index).map_err(|_| EPIPE)? {
            Request::Hub(reply) => Ok(roothub::answer(&reply, self.ports.len(), buf)),
            Request::Port { port, request } => {
                let (len, changes) = self.port(port).ok_or(EPIPE)?.control(request, buf)?;
                if changes {
                    self.hcd.poll_rh_status();
                }
                Ok(len)
            }
        }
    }

    /// `bus_suspend`: the root hub suspends (its ports are suspended or empty by now).
    pub(crate) fn bus_suspend(&self) -> Result {
        self.rh_suspended.store(true, Ordering::SeqCst);
        self.hcd.set_running(false);
        Ok(())
    }

    /// `bus_resume`: the root hub resumes.
    pub(crate) fn bus_resume(&self) -> Result {
        if !self.hcd.hw_accessible() {
            return Err(errno::eshutdown());
        }
        self.rh_suspended.store(false, Ordering::SeqCst);
        self.hcd.set_running(true);
        for port in self.ports.iter() {
            if port.has_queued() {
                port.as_arc_borrow().kick();
            }
        }
        Ok(())
    }
}
