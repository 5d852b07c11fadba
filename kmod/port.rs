// SPDX-License-Identifier: GPL-2.0

//! One root-hub port and the device behind it: its status, its URB queue, the worker that
//! runs its transfers, plug and unplug.
//!
//! Each port is independent of the others: its own lock, device and work item, so traffic on
//! one port never waits for another's transfers; and a worker runs at most [`BUDGET`]
//! transfers before it queues itself again behind the other ports' work (one port's flood
//! cannot keep the workqueue from the others).
//!
//! Locking: `state` (an IRQ-safe spinlock, usbcore may call in from any context) guards the
//! port status, the URB queue and the flags, and is never held across a call that may
//! complete an URB or re-enter us. `device` (a mutex) is held by whoever runs a transfer:
//! transfers execute one at a time, in submission order, in process context.
//!
//! Who runs a transfer: its submitter, inside `urb_enqueue`, when it may sleep and nothing
//! is queued ahead of it (usb-storage's thread and usbfs do; the hop to a worker and back
//! costs more than the transfer); otherwise the port's worker, a single work item (which
//! the workqueue never runs concurrently with itself). Either way the URB is given back
//! through `HCD_BH`, in softirq context after `urb_enqueue` returned, never inside it (a
//! completion handler may resubmit at once, or take a lock its submitter holds).
//!
//! A bulk-IN URB the device NAKs (it has nothing to send yet) waits in `naked`, as a host
//! controller keeps retrying a NAKed transaction (USB 2.0 §8.5.1); the worker tries it
//! again after every transfer that completes, and gives it back when it is unlinked.

use crate::image::ImageDisk;
use crate::irqlock::IrqSpinLock;
use crate::root_port::RootPort;
use crate::roothub::{PortRequest, Protocol};
use crate::transfer::{self, Executor, Outcome};
use crate::usb::{errno, EndpointId, Hcd, SubmittedUrb, Urb, UrbQueue, UrbRef};
use crate::wq;
use core::mem::take;
use kernel::prelude::*;
use kernel::sync::{Arc, ArcBorrow, Mutex};
use kernel::workqueue::{Work, WorkItem};
use kernel::{c_str, new_mutex, new_work, static_lock_class};

/// The device model, serving a compiled-in image, and the room its transfers need.
pub(crate) type KeyDevice = Executor<'static, ImageDisk>;

/// Transfers a worker runs before it lets the other ports' workers go first.
const BUDGET: usize = 16;

/// Who submitted an URB, as its allocation flags tell.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Submitter {
    /// May sleep: the transfer runs in its context when nothing is queued ahead.
    MaySleep,
    /// In atomic context: the worker runs the transfer.
    Atomic,
}

/// State guarded by [`Port::state`].
///
/// # Invariants
///
/// `naked` holds bulk-IN URBs only, in submission order, all older than any bulk-IN URB
/// in `queue`. No transfer runs in a submitter's context while either is not empty.
struct State {
    /// The port's status and change bits.
    port: RootPort,
    /// URBs accepted by `urb_enqueue`, oldest first, not yet picked by the worker.
    queue: UrbQueue,
    /// Bulk-IN URBs the device NAKed, oldest first. Later bulk-IN URBs queue behind them.
    naked: UrbQueue,
    /// `urb_dequeue` ran since the worker last looked for unlinked URBs in `naked`.
    unlink_requested: bool,
    /// The device must see a bus reset before its next transfer (port reset, unplug).
    reset_pending: bool,
    /// Between the controller's `start` and `stop`.
    running: bool,
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

/// One port of the root hub, with its device.
///
/// # Invariants
///
/// Every URB in `state.queue` and `state.naked` is linked to `hcd`'s endpoints
/// (`usb_hcd_link_urb_to_ep`) and not given back; every URB linked by `enqueue` is in one
/// of them, or held by the worker or by its submitter (with `device` locked), until it is
/// given back.
#[pin_data]
pub(crate) struct Port {
    /// The port number (1-based), for the log.
    number: usize,
    hcd: Hcd,
    #[pin]
    state: IrqSpinLock<State>,
    #[pin]
    device: Mutex<KeyDevice>,
    #[pin]
    work: Work<Port>,
}

kernel::impl_has_work! {
    impl HasWork<Self> for Port { self.work }
}

impl WorkItem for Port {
    type Pointer = Arc<Port>;

    fn run(this: Arc<Port>) {
        if this.process() == Run::Yielded {
            // Behind the work already queued: the other ports' workers go first. An `Err`
            // means a submitter queued it meanwhile, which is as good.
            let _ = wq::queue().enqueue(this);
        }
    }
}

/// How a worker run ended.
#[derive(PartialEq, Eq)]
enum Run {
    /// Nothing left to run now (the queue is empty, the oldest NAKed URB still NAKs).
    Idle,
    /// [`BUDGET`] transfers ran; there may be more.
    Yielded,
}

impl Port {
    /// Port `number` of `hcd`'s root hub (of `protocol`), unpowered, with `device` plugged
    /// in.
    pub(crate) fn new(
        number: usize,
        hcd: Hcd,
        protocol: Protocol,
        device: KeyDevice,
    ) -> impl PinInit<Self> {
        pin_init!(Self {
            number,
            hcd,
            state <- IrqSpinLock::new(
                State {
                    port: RootPort::new(protocol, true),
                    queue: UrbQueue::new(),
                    naked: UrbQueue::new(),
                    unlink_requested: false,
                    reset_pending: true,
                    running: false,
                },
                c_str!("vusbkey.port"),
                static_lock_class!(),
            ),
            device <- new_mutex!(device, "vusbkey.device"),
            work <- new_work!("vusbkey.work"),
        })
    }

    /// Queues the worker (no-op if already queued).
    pub(crate) fn kick(self: ArcBorrow<'_, Self>) {
        // An `Err` only means the work is already pending; it will see our URB.
        let _ = wq::queue().enqueue(Arc::<Self>::from(self));
    }

    /// The controller started (`running`) or stopped. Stopping comes from `usb_remove_hcd`
    /// after `usb_disconnect`, when every device driver has had its URBs given back, so none
    /// is left; and it is too late to give one back then, the driver it would complete into
    /// may be gone (hcd.c `usb_remove_hcd`). An URB still queued is a bug: dropping it
    /// `WARN`s and leaks it (see [`Urb`]).
    pub(crate) fn set_running(&self, running: bool) {
        let leftovers = {
            let mut st = self.state.lock();
            st.running = running;
            if running {
                return;
            }
            (take(&mut st.naked), take(&mut st.queue))
        };
        drop(leftovers);
    }

    /// Whether the port takes URBs now.
    fn accepts(st: &State) -> Result {
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
        Ok(())
    }

    /// `urb_enqueue` for this port's device: accept the URB; run it here if `submitter` may
    /// sleep and nothing is queued ahead of it, else let the worker run it.
    pub(crate) fn enqueue(
        self: ArcBorrow<'_, Self>,
        urb: SubmittedUrb,
        submitter: Submitter,
    ) -> Result {
        if submitter == Submitter::Atomic {
            {
                let mut st = self.state.lock();
                Self::accepts(&st)?;
                // INVARIANT: the URB goes into the queue as soon as it is linked.
                st.queue.push(self.hcd.link(urb)?);
            }
            self.kick();
            return Ok(());
        }
        // Allocations below (a bounce buffer, rarely) must not recurse into block I/O.
        let _noio = wq::NoIo::enter();
        // Waits for the transfer the worker may be running.
        let mut device = self.device.lock();
        let (mut urb, reset) = {
            let mut st = self.state.lock();
            Self::accepts(&st)?;
            let urb = self.hcd.link(urb)?;
            if !st.queue.is_empty() || !st.naked.is_empty() {
                // USB 2.0 §5.8: behind the URBs before it. INVARIANT: queued once linked.
                st.queue.push(urb);
                drop(st);
                drop(device);
                self.kick();
                return Ok(());
            }
            // INVARIANT: held here, `device` locked, until given back or put in `naked`.
            (urb, take(&mut st.reset_pending))
        };
        if reset {
            device.bus_reset();
        }
        match device.execute(&mut urb) {
            Outcome::Complete(status) => self.complete(urb, status),
            // Tried again after the next transfer that completes (see `process`).
            Outcome::Nak => self.state.lock().naked.push(urb),
        }
        Ok(())
    }

    /// `urb_dequeue` for this port's device: mark the URB unlinked; the worker gives it
    /// back (with `status`) when it reaches it, or right after the transfer it is executing.
    pub(crate) fn dequeue(self: ArcBorrow<'_, Self>, urb: UrbRef<'_>, status: i32) -> Result {
        {
            let mut st = self.state.lock();
            self.hcd.check_unlink(urb, status)?;
            st.unlink_requested = true;
        }
        self.kick();
        Ok(())
    }

    /// How many URBs of endpoint `ep` are queued here.
    pub(crate) fn queued_for(&self, ep: EndpointId) -> usize {
        let st = self.state.lock();
        st.queue.count_for(ep) + st.naked.count_for(ep)
    }

    /// Whether URBs wait for the worker.
    pub(crate) fn has_queued(&self) -> bool {
        !self.state.lock().queue.is_empty()
    }

    /// The worker: runs queued URBs one by one until the queue is empty and the device NAKs
    /// the oldest waiting bulk-IN URB (or none waits), or until [`BUDGET`] transfers ran.
    fn process(&self) -> Run {
        // Allocations below (a bounce buffer, rarely) must not recurse into block I/O.
        let _noio = wq::NoIo::enter();
        let mut device = self.device.lock();
        // Whether a transfer completed since the oldest NAKed URB was last tried: only a
        // transfer can give the device something to send. A run starts by trying it once,
        // in case the previous run yielded right after such a transfer.
        let mut retry = true;
        let mut done = 0;
        loop {
            if done == BUDGET {
                return Run::Yielded;
            }
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
                        None => return Run::Idle,
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
                match device.execute(&mut urb) {
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
            done += 1;
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

    /// Plugs or unplugs the device (the `connected` attribute); returns whether the port
    /// now has a change to report (the caller polls the root hub).
    pub(crate) fn set_connected(&self, connected: bool) -> bool {
        let mut st = self.state.lock();
        if !st.port.set_plugged(connected) {
            return false;
        }
        // Plugged back or not, the device starts from power-on state.
        st.reset_pending = true;
        pr_info!(
            "port {}: device {}\n",
            self.number,
            if connected { "plugged in" } else { "unplugged" }
        );
        true
    }

    /// Whether the hub driver has powered the port.
    pub(crate) fn powered(&self) -> bool {
        self.state.lock().port.powered()
    }

    /// Whether the device is plugged in.
    pub(crate) fn connected(&self) -> bool {
        self.state.lock().port.plugged()
    }

    /// Whether a change bit is set (the hub's status-change bitmap reports the port).
    pub(crate) fn has_changes(&self) -> bool {
        self.state.lock().port.has_changes()
    }

    /// A port request from the hub driver; returns the reply length and whether the port has
    /// changes to report (the caller polls the root hub). A request the port does not
    /// support is a protocol stall.
    pub(crate) fn control(&self, request: PortRequest, buf: &mut [u8]) -> Result<(usize, bool)> {
        let mut st = self.state.lock();
        let reply = st.port.control(request, buf).map_err(|_| EPIPE)?;
        if reply.reset_device {
            st.reset_pending = true;
        }
        Ok((reply.len, st.port.has_changes()))
    }
}
