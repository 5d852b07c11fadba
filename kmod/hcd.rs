// SPDX-License-Identifier: GPL-2.0

//! The host controller: URB queue, the worker that runs transfers against the device,
//! root-hub port state, connect/disconnect, bus suspend/resume.
//!
//! Locking: `state` (an IRQ-safe spinlock, usbcore may call in from any context) guards the
//! port, the URB queue and the flags, and is never held across a call that may complete an
//! URB or re-enter us. `device` (a mutex) is only taken by the worker, a single work item
//! (which the workqueue never runs concurrently with itself): transfers execute one at a
//! time, in submission order, in process context, never inside `urb_enqueue` (a completion
//! handler may resubmit at once).
//!
//! A bulk-IN URB the device NAKs (it has nothing to send yet) waits in `naked`, as a host
//! controller keeps retrying a NAKed transaction (USB 2.0 §8.5.1); the worker tries it
//! again after every transfer that completes, and gives it back when it is unlinked.

use crate::device::Device;
use crate::image::ImageDisk;
use crate::irqlock::IrqSpinLock;
use crate::roothub::RootPort;
use crate::transfer::{self, Outcome};
use crate::usb::{errno, EndpointId, Hcd, SubmittedUrb, Urb, UrbQueue, UrbRef};
use crate::wq;
use core::mem::take;
use kernel::prelude::*;
use kernel::sync::{Arc, ArcBorrow, Mutex};
use kernel::workqueue::{Work, WorkItem};
use kernel::{c_str, new_mutex, new_work, static_lock_class};

/// The device model, serving the compiled-in image.
pub(crate) type KeyDevice = Device<'static, ImageDisk>;

/// State guarded by [`VHcd::state`].
///
/// # Invariants
///
/// `naked` holds bulk-IN URBs only, in submission order, all older than any bulk-IN URB
/// in `queue`.
struct State {
    /// The root hub's port.
    port: RootPort,
    /// URBs accepted by `urb_enqueue`, oldest first, not yet picked by the worker.
    queue: UrbQueue,
    /// Bulk-IN URBs the device NAKed, oldest first. Later bulk-IN URBs queue behind them.
    naked: UrbQueue,
    /// `urb_dequeue` ran since the worker last looked for unlinked URBs in `naked`.
    unlink_requested: bool,
    /// The device must see a bus reset before its next transfer (port reset, unplug).
    reset_pending: bool,
    /// Between `start` and `stop`.
    running: bool,
    /// The root hub is suspended (`bus_suspend`).
    rh_suspended: bool,
}

impl State {
    /// Takes out of `naked` the URBs to give back without running them: the unlinked ones,
    /// or all if the port is not `active`. Reading `urb->unlinked` needs this lock, held
    /// by `&mut self`.
    fn sweep(&mut self, active: bool) -> UrbQueue {
        let mut gone = UrbQueue::new();
        let mut kept = UrbQueue::new();
        while let Some(urb) = self.naked.pop() {
            if active && urb.unlinked() == 0 {
                kept.push(urb);
            } else {
                gone.push(urb);
            }
        }
        // INVARIANT: `kept` is `naked` less some URBs, in the same order.
        self.naked = kept;
        gone
    }
}

/// One vusbkey host controller.
///
/// # Invariants
///
/// Every URB in `state.queue` and `state.naked` is linked to `hcd`'s endpoints
/// (`usb_hcd_link_urb_to_ep`) and not given back; every URB linked by `enqueue` is in one
/// of them, or held by the worker, until it is given back.
#[pin_data]
pub(crate) struct VHcd {
    hcd: Hcd,
    #[pin]
    state: IrqSpinLock<State>,
    #[pin]
    device: Mutex<KeyDevice>,
    #[pin]
    work: Work<VHcd>,
}

kernel::impl_has_work! {
    impl HasWork<Self> for VHcd { self.work }
}

impl WorkItem for VHcd {
    type Pointer = Arc<VHcd>;

    fn run(this: Arc<VHcd>) {
        this.process();
    }
}

impl VHcd {
    /// A controller for `hcd` with `device` plugged in, port unpowered.
    pub(crate) fn new(hcd: Hcd, device: KeyDevice) -> impl PinInit<Self> {
        pin_init!(Self {
            hcd,
            state <- IrqSpinLock::new(
                State {
                    port: RootPort::new(true),
                    queue: UrbQueue::new(),
                    naked: UrbQueue::new(),
                    unlink_requested: false,
                    reset_pending: true,
                    running: false,
                    rh_suspended: false,
                },
                c_str!("vusbkey.state"),
                static_lock_class!(),
            ),
            device <- new_mutex!(device, "vusbkey.device"),
            work <- new_work!("vusbkey.work"),
        })
    }

    /// Queues the worker (no-op if already queued).
    fn kick(self: ArcBorrow<'_, Self>) {
        // An `Err` only means the work is already pending; it will see our URB.
        let _ = wq::queue().enqueue(Arc::<Self>::from(self));
    }

    /// `start`: the controller runs.
    pub(crate) fn start(&self) -> Result {
        self.state.lock().running = true;
        self.hcd.set_running(true);
        Ok(())
    }

    /// `stop`: `usb_remove_hcd` calls it after `usb_disconnect`, when every device driver
    /// has had its URBs given back, so none is left; and it is too late to give one back
    /// then, the driver it would complete into may be gone (hcd.c `usb_remove_hcd`). An URB
    /// still queued is a bug: dropping it `WARN`s and leaks it (see [`Urb`]).
    pub(crate) fn stop(&self) {
        let leftovers = {
            let mut st = self.state.lock();
            st.running = false;
            (take(&mut st.naked), take(&mut st.queue))
        };
        drop(leftovers);
    }

    /// `urb_enqueue`: accept the URB and let the worker run it.
    pub(crate) fn enqueue(self: ArcBorrow<'_, Self>, urb: SubmittedUrb) -> Result {
        {
            let mut st = self.state.lock();
            if !st.running {
                return Err(errno::eshutdown());
            }
            if st.port.suspended() {
                // Documentation/driver-api/usb/error-codes.rst.
                return Err(errno::ehostunreach());
            }
            if !st.port.active() {
                return Err(ENODEV);
            }
            // INVARIANT: the URB goes into the queue as soon as it is linked.
            st.queue.push(self.hcd.link(urb)?);
        }
        self.kick();
        Ok(())
    }

    /// `urb_dequeue`: mark the URB unlinked; the worker gives it back (with `status`) when it
    /// reaches it, or right after the transfer it is executing now.
    pub(crate) fn dequeue(self: ArcBorrow<'_, Self>, urb: UrbRef<'_>, status: i32) -> Result {
        {
            let mut st = self.state.lock();
            self.hcd.check_unlink(urb, status)?;
            st.unlink_requested = true;
        }
        self.kick();
        Ok(())
    }

    /// `endpoint_disable`: usbcore has flushed the endpoint, so no URB of it is left here.
    /// No per-endpoint state to free; report a broken promise rather than lose an URB.
    pub(crate) fn endpoint_disable(&self, ep: EndpointId) {
        let n = {
            let st = self.state.lock();
            st.queue.count_for(ep) + st.naked.count_for(ep)
        };
        if n != 0 {
            pr_err!("{} URB(s) still queued on a disabled endpoint\n", n);
        }
    }

    /// The worker: run queued URBs one by one until the queue is empty and the device NAKs
    /// the oldest waiting bulk-IN URB (or none waits).
    fn process(&self) {
        // Allocations below (URB buffer lists) must not recurse into block I/O.
        let _noio = wq::NoIo::enter();
        let mut device = self.device.lock();
        // Whether a transfer completed since the oldest NAKed URB was last tried: only a
        // transfer can give the device something to send.
        let mut retry = false;
        loop {
            let (reset, active, mut gone) = {
                let mut st = self.state.lock();
                let active = st.port.active();
                let gone = if take(&mut st.unlink_requested) || !active {
                    st.sweep(active)
                } else {
                    UrbQueue::new()
                };
                (take(&mut st.reset_pending), active, gone)
            };
            if reset {
                device.bus_reset();
            }
            while let Some(urb) = gone.pop() {
                // Unlinked, or the port went inactive: nothing will answer it. For an
                // unlinked URB usbcore reports `urb->unlinked` instead (hcd.c).
                self.complete(urb, ENODEV.to_errno());
            }
            let (mut urb, from_naked, unlinked) = {
                let mut st = self.state.lock();
                let urb = if retry { st.naked.pop() } else { None };
                let (urb, from_naked) = match urb {
                    Some(urb) => (urb, true),
                    None => match st.queue.pop() {
                        None => break,
                        // USB 2.0 §5.8: bulk transfers on one endpoint run in order. An
                        // URB unlinked later is found by the next sweep (`dequeue` sets
                        // `unlink_requested` under this lock).
                        Some(urb)
                            if urb.unlinked() == 0
                                && !st.naked.is_empty()
                                && transfer::is_bulk_in(&urb) =>
                        {
                            st.naked.push(urb);
                            continue;
                        }
                        Some(urb) => (urb, false),
                    },
                };
                // Read under the lock `dequeue` writes it under; once set it stays set
                // (`usb_hcd_check_unlink_urb` refuses a second unlink).
                let unlinked = urb.unlinked();
                (urb, from_naked, unlinked)
            };
            let status = if unlinked != 0 {
                // Dequeued before it ran; `usb_hcd_giveback_urb` reports `unlinked`.
                unlinked
            } else if !active {
                // Unplugged or port disabled since it was queued: nothing answers.
                ENODEV.to_errno()
            } else {
                match transfer::execute(&mut device, &mut urb) {
                    Outcome::Complete(status) => status,
                    Outcome::Nak => {
                        let mut st = self.state.lock();
                        if from_naked {
                            st.naked.push_front(urb);
                        } else {
                            st.naked.push(urb);
                        }
                        retry = false;
                        continue;
                    }
                }
            };
            self.complete(urb, status);
            retry = true;
        }
    }

    /// Takes `urb` off its endpoint and gives it back with `status` (0 or -errno; usbcore
    /// substitutes the unlink status if the URB was dequeued meanwhile).
    fn complete(&self, urb: Urb, status: i32) {
        {
            let _st = self.state.lock();
            self.hcd.unlink_from_ep(&urb);
        }
        self.hcd.giveback(urb, status);
    }

    /// Plugs or unplugs the device (the `connected` attribute).
    pub(crate) fn set_connected(&self, connected: bool) {
        {
            let mut st = self.state.lock();
            if !st.port.set_plugged(connected) {
                return;
            }
            // Plugged back or not, the device starts from power-on state.
            st.reset_pending = true;
        }
        // Wakes the root hub if suspended (see `hub_status_data`) and reports the change.
        self.hcd.poll_rh_status();
    }

    /// Whether the hub driver has powered the root hub's port.
    pub(crate) fn port_powered(&self) -> bool {
        self.state.lock().port.powered()
    }

    /// Whether the device is plugged in.
    pub(crate) fn connected(&self) -> bool {
        self.state.lock().port.plugged()
    }

    /// `hub_status_data`: bit 1 of `buf[0]` if port 1 has a change (USB 2.0 §11.12.4).
    pub(crate) fn hub_status_data(&self, buf: &mut [u8]) -> usize {
        if !self.hcd.hw_accessible() {
            return 0;
        }
        let st = self.state.lock();
        if !st.port.has_changes() {
            return 0;
        }
        if let Some(b) = buf.first_mut() {
            *b = 1 << 1;
        }
        if st.rh_suspended {
            self.hcd.resume_root_hub();
        }
        1
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
        let (reply, changes) = {
            let mut st = self.state.lock();
            let reply = st.port.control(type_req, value, index, buf);
            if matches!(reply, Ok(ref r) if r.reset_device) {
                st.reset_pending = true;
            }
            (reply, st.port.has_changes())
        };
        if changes {
            self.hcd.poll_rh_status();
        }
        // A request the root hub does not support is a protocol stall.
        reply.map(|r| r.len).map_err(|_| EPIPE)
    }

    /// `bus_suspend`: the root hub suspends (its port is suspended or empty by now).
    pub(crate) fn bus_suspend(&self) -> Result {
        self.state.lock().rh_suspended = true;
        self.hcd.set_running(false);
        Ok(())
    }

    /// `bus_resume`: the root hub resumes.
    pub(crate) fn bus_resume(self: ArcBorrow<'_, Self>) -> Result {
        if !self.hcd.hw_accessible() {
            return Err(errno::eshutdown());
        }
        let pending = {
            let mut st = self.state.lock();
            st.rh_suspended = false;
            !st.queue.is_empty()
        };
        self.hcd.set_running(true);
        if pending {
            self.kick();
        }
        Ok(())
    }
}
