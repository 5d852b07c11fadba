// SPDX-License-Identifier: GPL-2.0

//! The host controller: one HCD with a USB 2.0 root hub, or at SuperSpeed a USB 2.0 primary
//! HCD and a shared USB 3 one (`HCD_USB3 | HCD_SHARED`, as xhci and dummy_hcd), each with
//! its root hub. The devices, a [`Port`] each with its own worker, are on one of the hubs;
//! the other hub's ports stay empty. Per root hub: the routing of each URB to the port of its
//! device, the hub's requests and status, bus suspend/resume.

use crate::irqlock::IrqSpinLock;
use crate::port::{Port, Submitter};
use crate::root_port::RootPort;
use crate::roothub::{self, PortRequest, Protocol, Request};
use crate::usb::{errno, EndpointId, Hcd, HcdId, SubmittedUrb, UrbRef};
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::prelude::*;
use kernel::sync::{Arc, ArcBorrow};
use kernel::{c_str, static_lock_class};

/// A root hub's ports.
enum Ports {
    /// Each with its device: the hub the devices are on.
    Devices(KVec<Arc<Port>>),
    /// With no device ever: the USB 2.0 hub of a SuperSpeed controller, whose devices are
    /// on its SuperSpeed hub (a USB 3 device connects on one bus only). Entry `i` is port
    /// `i + 1`.
    Empty(Arc<IrqSpinLock<KVec<RootPort>>>),
}

/// One root hub: the HCD it belongs to and its ports.
///
/// # Invariants
///
/// `ports` has `count` entries, 1 to [`roothub::MAX_PORTS`]; entry `i` is port `i + 1`.
pub(crate) struct RootHub {
    hcd: Hcd,
    protocol: Protocol,
    count: usize,
    ports: Ports,
    /// The root hub is suspended (`bus_suspend`).
    rh_suspended: AtomicBool,
}

impl RootHub {
    /// The root hub of `hcd`, whose `ports` have the devices (port 1 first).
    pub(crate) fn with_devices(
        hcd: Hcd,
        protocol: Protocol,
        ports: KVec<Arc<Port>>,
    ) -> Result<Self> {
        Self::new(hcd, protocol, ports.len(), Ports::Devices(ports))
    }

    /// The root hub of `hcd`, with `count` ports and no devices.
    pub(crate) fn empty(hcd: Hcd, protocol: Protocol, count: usize) -> Result<Self> {
        let mut ports = KVec::with_capacity(count, GFP_KERNEL)?;
        for _ in 0..count {
            ports.push(RootPort::new(protocol, false), GFP_KERNEL)?;
        }
        let lock = IrqSpinLock::new(ports, c_str!("vusbkey.empty_ports"), static_lock_class!());
        Self::new(
            hcd,
            protocol,
            count,
            Ports::Empty(Arc::pin_init(lock, GFP_KERNEL)?),
        )
    }

    fn new(hcd: Hcd, protocol: Protocol, count: usize, ports: Ports) -> Result<Self> {
        if count == 0 || count > roothub::MAX_PORTS {
            return Err(EINVAL);
        }
        // INVARIANT: checked just above; the callers pass the number of entries of `ports`.
        Ok(Self {
            hcd,
            protocol,
            count,
            ports,
            rh_suspended: AtomicBool::new(false),
        })
    }

    /// The devices' ports (none on an empty hub).
    fn devices(&self) -> &[Arc<Port>] {
        match &self.ports {
            Ports::Devices(ports) => ports,
            Ports::Empty(_) => &[],
        }
    }

    /// Device port `number` (1-based), if the hub has it.
    fn port(&self, number: usize) -> Option<ArcBorrow<'_, Port>> {
        let port = self.devices().get(number.checked_sub(1)?)?;
        Some(port.as_arc_borrow())
    }

    /// `start`: the controller runs.
    pub(crate) fn start(&self) -> Result {
        for port in self.devices() {
            port.set_running(true);
        }
        self.hcd.set_running(true);
        Ok(())
    }

    /// `stop`: the controller stops (see [`Port::set_running`]).
    pub(crate) fn stop(&self) {
        for port in self.devices() {
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
        let n: usize = self.devices().iter().map(|port| port.queued_for(ep)).sum();
        if n != 0 {
            pr_err!("{} URB(s) still queued on a disabled endpoint\n", n);
        }
    }

    /// Whether the hub driver has powered every port of the root hub.
    fn powered(&self) -> bool {
        match &self.ports {
            Ports::Devices(ports) => ports.iter().all(|port| port.powered()),
            Ports::Empty(ports) => ports.lock().iter().all(RootPort::powered),
        }
    }

    /// Bit N set for each port N with a change bit set (bit 0, the hub's, stays clear).
    fn changed_ports(&self) -> u32 {
        match &self.ports {
            Ports::Devices(ports) => port_bits(ports.iter().map(|port| port.has_changes())),
            Ports::Empty(ports) => port_bits(ports.lock().iter().map(RootPort::has_changes)),
        }
    }

    /// `hub_status_data`: bit N of the bitmap in `buf` for each port N with a change (USB
    /// 2.0 §11.12.4, USB 3.2 §10.15.1); returns the bitmap's length, or 0 if no port has a
    /// change.
    pub(crate) fn hub_status_data(&self, buf: &mut [u8]) -> usize {
        if !self.hcd.hw_accessible() {
            return 0;
        }
        let len = roothub::status_bytes(self.count);
        let Some(bitmap) = buf.get_mut(..len) else {
            return 0;
        };
        let changed = self.changed_ports();
        if changed == 0 {
            return 0;
        }
        // At most MAX_PORTS + 1 bits: `len` (at most MAX_STATUS_BYTES) bytes hold them all.
        bitmap.copy_from_slice(&changed.to_le_bytes()[..len]);
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
        let count = self.count;
        // A request the root hub does not support is a protocol stall.
        match roothub::parse(self.protocol, count, type_req, value, index).map_err(|_| EPIPE)? {
            Request::Hub(reply) => Ok(roothub::answer(&reply, self.protocol, count, buf)),
            Request::Port { port, request } => {
                let (len, changes) = self.port_control(port, request, buf)?;
                if changes {
                    self.hcd.poll_rh_status();
                }
                Ok(len)
            }
        }
    }

    /// A request to port `number` (1 to the hub's count); returns the reply length and
    /// whether the port has changes to report.
    fn port_control(
        &self,
        number: usize,
        request: PortRequest,
        buf: &mut [u8],
    ) -> Result<(usize, bool)> {
        match &self.ports {
            Ports::Devices(_) => self.port(number).ok_or(EPIPE)?.control(request, buf),
            Ports::Empty(ports) => {
                let mut ports = ports.lock();
                let port = ports.get_mut(number.wrapping_sub(1)).ok_or(EPIPE)?;
                // Without a device, no request resets one.
                let reply = port.control(request, buf).map_err(|_| EPIPE)?;
                Ok((reply.len, port.has_changes()))
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
        for port in self.devices() {
            if port.has_queued() {
                port.as_arc_borrow().kick();
            }
        }
        Ok(())
    }
}

/// The bitmap of USB 2.0 §11.12.4 from each port's flag, port 1 first: bit N for port N.
fn port_bits(flags: impl Iterator<Item = bool>) -> u32 {
    flags
        .enumerate()
        .fold(0, |bits, (i, flag)| bits | u32::from(flag) << (i + 1))
}

/// One vusbkey host controller: its root hubs.
pub(crate) struct VHcd {
    /// The primary HCD's, USB 2.0.
    usb2: RootHub,
    /// The shared HCD's, SuperSpeed (`speed=super`).
    usb3: Option<RootHub>,
}

impl VHcd {
    /// A controller of `usb2` (the primary HCD's root hub) and, at SuperSpeed, `usb3`.
    pub(crate) fn new(usb2: RootHub, usb3: Option<RootHub>) -> Self {
        Self { usb2, usb3 }
    }

    /// Every root hub, the primary HCD's first.
    fn hubs(&self) -> impl Iterator<Item = &RootHub> {
        Iterator::chain(core::iter::once(&self.usb2), self.usb3.as_ref())
    }

    /// The root hub of the HCD `hcd` (a callback's), if it is one of ours.
    pub(crate) fn hub(&self, hcd: HcdId) -> Option<&RootHub> {
        self.hubs().find(|hub| hub.hcd.id() == hcd)
    }

    /// The hub the devices are on.
    fn device_hub(&self) -> &RootHub {
        self.usb3.as_ref().unwrap_or(&self.usb2)
    }

    /// Another reference to the shared (SuperSpeed) HCD, if there is one.
    pub(crate) fn shared_hcd(&self) -> Option<Hcd> {
        self.usb3.as_ref().map(|hub| hub.hcd.clone())
    }

    /// Plugs or unplugs the device of port `number` (its `connected` attribute).
    pub(crate) fn set_connected(&self, number: usize, connected: bool) -> Result {
        let hub = self.device_hub();
        if hub.port(number).ok_or(ENODEV)?.set_connected(connected) {
            // Wakes the root hub if suspended (see `hub_status_data`) and reports the change.
            hub.hcd.poll_rh_status();
        }
        Ok(())
    }

    /// Whether the device of port `number` is plugged in.
    pub(crate) fn connected(&self, number: usize) -> Result<bool> {
        Ok(self.device_hub().port(number).ok_or(ENODEV)?.connected())
    }

    /// Whether the hub driver has powered every port of every root hub.
    pub(crate) fn ports_powered(&self) -> bool {
        self.hubs().all(RootHub::powered)
    }
}
