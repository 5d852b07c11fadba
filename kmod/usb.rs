// SPDX-License-Identifier: GPL-2.0

//! Safe handles on usbcore's objects: the HCD, the URBs it owns, their queue and buffers.
//!
//! Every call into C that the HCD logic makes goes through a method here; the rules usbcore
//! sets for them (Documentation/driver-api/usb/URB.rst, `drivers/usb/core/hcd.c`) are the
//! invariants of these types.

use crate::ffi::{self, HostEndpoint, PlatformDevice, RawHcd, RawUrb};
use core::mem::{ManuallyDrop, MaybeUninit};
use core::ptr::{self, NonNull};
use kernel::prelude::*;

// The HCD does no DMA: it reads and writes URB buffers through the kernel's direct map
// (`sg_virt`), which does not cover highmem pages.
#[cfg(CONFIG_HIGHMEM)]
compile_error!("vusbkey needs every page in the direct map: build without CONFIG_HIGHMEM");

/// Errors usbcore uses that the kernel crate's `error::code` lacks
/// (Documentation/driver-api/usb/error-codes.rst).
pub(crate) mod errno {
    use kernel::bindings;
    use kernel::error::Error;

    fn from(n: u32) -> Error {
        // Errno constants are small positive numbers.
        Error::from_errno(-(n as i32))
    }

    /// `-ESHUTDOWN`: the controller is stopping.
    pub(crate) fn eshutdown() -> Error {
        from(bindings::ESHUTDOWN)
    }

    /// `-EHOSTUNREACH`: the device is suspended.
    pub(crate) fn ehostunreach() -> Error {
        from(bindings::EHOSTUNREACH)
    }

    /// `-ETIMEDOUT`: the controller does not answer.
    pub(crate) fn etimedout() -> Error {
        from(bindings::ETIMEDOUT)
    }

    /// `-EPROTO`: no device answered.
    pub(crate) fn eproto() -> Error {
        from(bindings::EPROTO)
    }

    /// `-EREMOTEIO`: short IN transfer with `URB_SHORT_NOT_OK`.
    pub(crate) fn eremoteio() -> Error {
        from(bindings::EREMOTEIO)
    }

    /// `-EIDRM`: the URB is not ours (any more).
    pub(crate) fn eidrm() -> Error {
        from(bindings::EIDRM)
    }
}

/// Turns a C return value (0 or -errno) into a [`Result`].
pub(crate) fn errno_result(ret: kernel::ffi::c_int) -> Result {
    if ret < 0 {
        Err(Error::from_errno(ret))
    } else {
        Ok(())
    }
}

/// A counted reference to this driver's `struct usb_hcd`.
///
/// `usb_create_hcd` returns the HCD with one reference, which [`Hcd::create`] wraps; every
/// clone takes another (`usb_get_hcd`) and every drop puts one (`usb_put_hcd`, hcd.c: the
/// last put frees the HCD). So a handle can never outlive the HCD it points to.
///
/// Dropping may free the HCD, which sleeps (`hcd_release` takes `usb_port_peer_mutex`):
/// handles are dropped in process context only (probe, remove, the worker).
///
/// # Invariants
///
/// `self.0` points to an HCD made by `vusbkey_hcd_create` or `vusbkey_hcd_create_shared`,
/// and this value owns one of its references.
pub(crate) struct Hcd(NonNull<RawHcd>);

// SAFETY: usbcore's HCD functions called through `Hcd` may be called from any thread, and
// the reference it owns may be put from any thread (in process context, see above).
unsafe impl Send for Hcd {}
// SAFETY: as above; `Hcd` has no interior state of its own.
unsafe impl Sync for Hcd {}

impl Clone for Hcd {
    fn clone(&self) -> Self {
        // SAFETY: the HCD is valid (type invariant); `usb_get_hcd` takes a reference.
        unsafe { ffi::vusbkey_hcd_get(self.as_ptr()) };
        // INVARIANT: the new value owns the reference just taken.
        Self(self.0)
    }
}

impl Drop for Hcd {
    fn drop(&mut self) {
        // SAFETY: this value owns one reference (type invariant), put once, here.
        unsafe { ffi::vusbkey_hcd_put(self.as_ptr()) };
    }
}

impl Hcd {
    /// `usb_create_hcd` for the platform device `pdev`, also made its drvdata (not yet
    /// added); with `super_speed`, the USB 2.0 primary HCD of a SuperSpeed pair (see
    /// [`Hcd::create_shared`]).
    ///
    /// # Safety
    ///
    /// `pdev` is a live platform device being probed by this driver.
    pub(crate) unsafe fn create(
        pdev: *mut PlatformDevice,
        sg_tablesize: u32,
        super_speed: bool,
    ) -> Option<Self> {
        // SAFETY: per the function's contract.
        let raw = unsafe { ffi::vusbkey_hcd_create(pdev, sg_tablesize, super_speed) };
        // INVARIANT: a new HCD comes with one reference, now ours.
        NonNull::new(raw).map(Self)
    }

    /// `usb_create_shared_hcd`: the SuperSpeed HCD of the pair whose primary is `self` (made
    /// by [`Hcd::create`] with `super_speed`), for the same platform device `pdev`.
    ///
    /// # Safety
    ///
    /// `pdev` is the live platform device `self` was created for, being probed by this
    /// driver.
    pub(crate) unsafe fn create_shared(
        &self,
        pdev: *mut PlatformDevice,
        sg_tablesize: u32,
    ) -> Option<Self> {
        // SAFETY: per the function's contract; the primary is valid (type invariant).
        let raw = unsafe { ffi::vusbkey_hcd_create_shared(pdev, self.as_ptr(), sg_tablesize) };
        // INVARIANT: a new HCD comes with one reference, now ours.
        NonNull::new(raw).map(Self)
    }

    /// Gives up the handle without putting its reference, which the pointer now carries
    /// (to be taken back with [`Hcd::from_raw`]).
    pub(crate) fn into_raw(self) -> *mut RawHcd {
        ManuallyDrop::new(self).as_ptr()
    }

    /// Takes back a reference given up with [`Hcd::into_raw`].
    ///
    /// # Safety
    ///
    /// `ptr` is NULL or came from [`Hcd::into_raw`], and its reference is taken back once.
    pub(crate) unsafe fn from_raw(ptr: *mut RawHcd) -> Option<Self> {
        // INVARIANT: per the function's contract, the reference is ours again.
        NonNull::new(ptr).map(Self)
    }

    /// The raw pointer, for the few calls platform.rs makes.
    pub(crate) fn as_ptr(&self) -> *mut RawHcd {
        self.0.as_ptr()
    }

    /// Which HCD this is, to match a callback's.
    pub(crate) fn id(&self) -> HcdId {
        HcdId::new(self.as_ptr())
    }

    /// `usb_hcd_link_urb_to_ep`: accepts `urb` on its endpoint's queue (fails if the
    /// endpoint is being disabled or the HCD is dying); on success the URB is ours until
    /// given back.
    pub(crate) fn link(&self, urb: SubmittedUrb) -> Result<Urb> {
        // SAFETY: the HCD is valid (type invariant); the URB was just submitted to it.
        errno_result(unsafe { ffi::vusbkey_urb_link(self.as_ptr(), urb.0.as_ptr()) })?;
        // INVARIANT: linked just now; `urb` was the only handle and is consumed.
        Ok(Urb(urb.0))
    }

    /// `usb_hcd_check_unlink_urb`: validates an unlink request and records `status` in
    /// `urb->unlinked`; the caller then gives the URB back when it gets to it.
    pub(crate) fn check_unlink(&self, urb: UrbRef<'_>, status: i32) -> Result {
        // SAFETY: the HCD is valid (type invariant); `UrbRef` guarantees the URB pointer is.
        errno_result(unsafe {
            ffi::vusbkey_urb_check_unlink(self.as_ptr(), urb.0.as_ptr(), status)
        })
    }

    /// `usb_hcd_unlink_urb_from_ep`: takes `urb` off its endpoint before giveback.
    pub(crate) fn unlink_from_ep(&self, urb: &Urb) {
        // SAFETY: the HCD is valid (type invariant); `urb` is linked to it (`Urb` invariant).
        unsafe { ffi::vusbkey_urb_unlink(self.as_ptr(), urb.0.as_ptr()) }
    }

    /// `usb_hcd_giveback_urb`: hands `urb` back to its submitter; consumes the handle.
    /// Must be called without HCD locks held, in process context with interrupts enabled
    /// (the shim holds softirqs off around it, as `HCD_BH` requires; the completion handler
    /// runs in softirq context when they are back on, and may resubmit). If the
    /// URB was unlinked, usbcore reports `urb->unlinked` instead of `status` (hcd.c
    /// `usb_hcd_giveback_urb`).
    pub(crate) fn giveback(&self, urb: Urb, status: i32) {
        let urb = ManuallyDrop::new(urb);
        // SAFETY: the HCD is valid; `urb` is ours and was unlinked from its endpoint by the
        // caller (`unlink_from_ep`); the handle is consumed, so it is not used afterwards.
        unsafe { ffi::vusbkey_urb_giveback(self.as_ptr(), urb.0.as_ptr(), status) }
    }

    /// Sets `hcd->state` to running or suspended.
    pub(crate) fn set_running(&self, running: bool) {
        // SAFETY: the HCD is valid (type invariant).
        unsafe { ffi::vusbkey_hcd_set_running(self.as_ptr(), running) }
    }

    /// `HCD_HW_ACCESSIBLE`: false while the controller is suspended or being removed.
    pub(crate) fn hw_accessible(&self) -> bool {
        // SAFETY: the HCD is valid (type invariant).
        unsafe { ffi::vusbkey_hcd_hw_accessible(self.as_ptr()) }
    }

    /// `usb_hcd_poll_rh_status`: lets the hub driver see new port change bits. Takes
    /// usbcore's root-hub lock and calls `hub_status_data`: call without our lock held.
    pub(crate) fn poll_rh_status(&self) {
        // SAFETY: the HCD is valid (type invariant).
        unsafe { ffi::vusbkey_hcd_poll_rh_status(self.as_ptr()) }
    }

    /// `usb_hcd_resume_root_hub`: asks usbcore to resume a suspended root hub (any context).
    pub(crate) fn resume_root_hub(&self) {
        // SAFETY: the HCD is valid (type invariant).
        unsafe { ffi::vusbkey_hcd_resume_root_hub(self.as_ptr()) }
    }
}

/// An URB usbcore passed to a callback, borrowed for that call (e.g. `urb_dequeue`).
///
/// # Invariants
///
/// `self.0` points to an URB that usbcore keeps alive for `'a`.
#[derive(Clone, Copy)]
pub(crate) struct UrbRef<'a>(NonNull<RawUrb>, core::marker::PhantomData<&'a RawUrb>);

impl UrbRef<'_> {
    /// Wraps the URB pointer a callback received.
    ///
    /// # Safety
    ///
    /// `ptr` is NULL or an URB that usbcore keeps alive for the lifetime chosen by the caller.
    pub(crate) unsafe fn from_raw(ptr: *mut RawUrb) -> Option<Self> {
        // INVARIANT: per the function's contract.
        NonNull::new(ptr).map(|p| Self(p, core::marker::PhantomData))
    }

    /// The root-hub port of the URB's device (see [`SubmittedUrb::port`]).
    pub(crate) fn port(&self) -> usize {
        // SAFETY: the URB is alive for `'a` (type invariant), and usbcore unlinks only URBs
        // of a device, which `urb->dev` points to while the URB is in flight.
        unsafe { ffi::vusbkey_urb_portnum(self.0.as_ptr()) as usize }
    }
}

/// Identifies an HCD (`struct usb_hcd *`) by address; never dereferenced.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct HcdId(*const RawHcd);

impl HcdId {
    /// Wraps an HCD pointer received from usbcore.
    pub(crate) fn new(hcd: *const RawHcd) -> Self {
        Self(hcd)
    }
}

/// Identifies an endpoint (`struct usb_host_endpoint *`) by address; never dereferenced.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct EndpointId(*const HostEndpoint);

impl EndpointId {
    /// Wraps an endpoint pointer received from usbcore.
    pub(crate) fn new(ep: *const HostEndpoint) -> Self {
        Self(ep)
    }
}

/// Pipe type of an URB (`usb_pipetype`, include/linux/usb.h).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum PipeType {
    /// `PIPE_ISOCHRONOUS`.
    Isochronous,
    /// `PIPE_INTERRUPT`.
    Interrupt,
    /// `PIPE_CONTROL`.
    Control,
    /// `PIPE_BULK`.
    Bulk,
}

/// What the transfer code needs from an URB, copied out of it.
#[derive(Clone, Copy)]
pub(crate) struct UrbParams {
    /// Transfer type.
    pub(crate) pipe_type: PipeType,
    /// Device address on the bus (`usb_pipedevice`).
    pub(crate) device: u8,
    /// Endpoint address with the direction bit (`0x81`, `0x02`, ...).
    pub(crate) endpoint: u8,
    /// Direction is IN (device to host).
    pub(crate) is_in: bool,
    /// `URB_SHORT_NOT_OK`: a short IN transfer is an error (`-EREMOTEIO`).
    pub(crate) short_not_ok: bool,
    /// `transfer_buffer_length`.
    pub(crate) length: u32,
}

/// `URB_SHORT_NOT_OK` (include/linux/usb.h).
const URB_SHORT_NOT_OK: u32 = 0x0001;
/// `URB_DIR_IN`, set by `usb_submit_urb` from the pipe, or for control URBs from the SETUP
/// packet (include/linux/usb.h `usb_urb_dir_in`).
const URB_DIR_IN: u32 = 0x0200;

/// An URB passed to `urb_enqueue`, not yet accepted: [`Hcd::link`] turns it into an
/// [`Urb`]. Dropping it refuses the URB, which is then usbcore's again (`urb_enqueue`
/// returns the error and `usb_hcd_submit_urb` hands it back to the submitter).
///
/// # Invariants
///
/// `self.0` points to an URB just submitted to this HCD, and this is its only handle.
pub(crate) struct SubmittedUrb(NonNull<RawUrb>);

impl SubmittedUrb {
    /// Wraps the URB `urb_enqueue` received.
    ///
    /// # Safety
    ///
    /// `ptr` is NULL or an URB just submitted to this HCD, and no other handle for it exists.
    pub(crate) unsafe fn from_raw(ptr: *mut RawUrb) -> Option<Self> {
        // INVARIANT: per the function's contract.
        NonNull::new(ptr).map(Self)
    }

    /// The root-hub port of the URB's device (`urb->dev->portnum`): every device on this
    /// HCD is plugged straight into a root-hub port, 1-based.
    pub(crate) fn port(&self) -> usize {
        // SAFETY: a submitted URB is valid (type invariant) and has a device: `usb_submit_urb`
        // refuses one without (`-ENODEV`) before it reaches the HCD.
        unsafe { ffi::vusbkey_urb_portnum(self.0.as_ptr()) as usize }
    }
}

/// An URB owned by this HCD: from `usb_hcd_link_urb_to_ep` in `urb_enqueue` ([`Hcd::link`])
/// until [`Hcd::giveback`] consumes the handle.
///
/// An URB that is never given back hangs its submitter (`usb_kill_urb` waits for the
/// giveback forever), so dropping an [`Urb`] is a bug, reported by a kernel `WARN` with the
/// stack of the drop. `Drop` cannot give the URB back instead: it may run with the state
/// lock held, and the completion handler may resubmit, which takes that lock.
///
/// # Invariants
///
/// `self.0` points to an URB linked to this HCD's endpoint queue and not given back, and
/// this is its only handle.
#[must_use = "an URB must be given back (Hcd::giveback), or its submitter waits forever"]
pub(crate) struct Urb(NonNull<RawUrb>);

// SAFETY: an URB may be completed by any thread; the handle is unique, so moving it moves
// the ownership usbcore granted.
unsafe impl Send for Urb {}

impl Drop for Urb {
    fn drop(&mut self) {
        // SAFETY: the URB is valid (type invariant); the shim only prints its address.
        unsafe { ffi::vusbkey_urb_leaked(self.0.as_ptr()) }
    }
}

impl Urb {
    fn raw_info(&self) -> ffi::UrbInfo {
        let mut info = ffi::UrbInfo {
            pipe: 0,
            transfer_flags: 0,
            length: 0,
            num_sgs: 0,
            buffer: ptr::null_mut(),
            sg: ptr::null_mut(),
            setup: ptr::null(),
        };
        // SAFETY: the URB is valid while we own it (type invariant); `info` is writable.
        unsafe { ffi::vusbkey_urb_get_info(self.0.as_ptr(), &mut info) };
        info
    }

    /// Pipe, direction, flags and length (include/linux/usb.h pipe encoding).
    pub(crate) fn params(&self) -> UrbParams {
        let info = self.raw_info();
        let pipe = info.pipe;
        UrbParams {
            pipe_type: match (pipe >> 30) & 3 {
                0 => PipeType::Isochronous,
                1 => PipeType::Interrupt,
                2 => PipeType::Control,
                _ => PipeType::Bulk,
            },
            device: ((pipe >> 8) & 0x7f) as u8,
            endpoint: (((pipe >> 15) & 0xf) as u8) | (pipe & 0x80) as u8,
            is_in: pipe & 0x80 != 0,
            short_not_ok: info.transfer_flags & URB_SHORT_NOT_OK != 0,
            length: info.length,
        }
    }

    /// `urb->unlinked`: non-zero (the unlink status) once `usb_hcd_check_unlink_urb` passed.
    ///
    /// Call it only with the lock held that `urb_dequeue` holds around
    /// [`Hcd::check_unlink`] (the HCD's state lock): that call writes the field.
    pub(crate) fn unlinked(&self) -> i32 {
        // SAFETY: the URB is valid while we own it (type invariant).
        unsafe { ffi::vusbkey_urb_unlinked(self.0.as_ptr()) }
    }

    /// Sets `urb->actual_length`.
    pub(crate) fn set_actual_length(&mut self, len: u32) {
        // SAFETY: the URB is valid and ours (type invariant).
        unsafe { ffi::vusbkey_urb_set_actual_length(self.0.as_ptr(), len) }
    }

    /// The 8-byte SETUP packet of a control URB.
    pub(crate) fn setup(&self) -> Option<[u8; 8]> {
        let info = self.raw_info();
        if info.setup.is_null() {
            return None;
        }
        let mut setup = [0u8; 8];
        // SAFETY: usbcore requires `setup_packet` of a control URB to point to 8 readable
        // bytes for as long as the URB is submitted (URB.rst); `setup` is a distinct local.
        unsafe { ptr::copy_nonoverlapping(info.setup, setup.as_mut_ptr(), 8) };
        Some(setup)
    }

    /// The URB's data buffer as slices, in transfer order, `transfer_buffer_length` bytes in
    /// all: one slice for `transfer_buffer`, or one per scatterlist entry; the list is made
    /// in `segments`, allocating nothing.
    ///
    /// `Ok(None)` if the scatterlist entries overlap (possible with, e.g., `readv` on
    /// `O_DIRECT` with a buffer given twice): mutable slices must not alias, so the caller
    /// then goes through a bounce buffer and [`Urb::scatter`].
    ///
    /// The buffer of an OUT URB holds the submitter's data (URB.rst). That of an IN URB may
    /// be uninitialised (a fresh `kmalloc`, page-cache pages about to be read into), which
    /// `&mut [u8]` must not cover: it is [`frozen`](freeze) first, at no cost, rather than
    /// zeroed, which would write every byte of every read a second time.
    pub(crate) fn buffers<'a>(
        &'a mut self,
        segments: &'a mut Segments,
    ) -> Result<Option<&'a mut [&'a mut [u8]]>> {
        let is_in = self.raw_info().transfer_flags & URB_DIR_IN != 0;
        let spans = self.spans(&mut segments.spans)?;
        let sorted = init_prefix(
            &mut segments.sorted,
            spans.iter().map(|&s| (s.cast::<u8>() as usize, s.len())),
        )?;
        sorted.sort_unstable_by_key(|&(start, _)| start);
        if sorted
            .windows(2)
            .any(|w| w[0].0.saturating_add(w[0].1) > w[1].0)
        {
            return Ok(None);
        }
        if is_in {
            for &span in spans.iter() {
                freeze(span);
            }
        }
        let spans: *mut [*mut [u8]] = spans;
        // SAFETY: `*mut [u8]` and `&mut [u8]` have one layout. Each entry is a piece of the
        // URB's buffer, which is the HCD's alone from enqueue to giveback (URB.rst), in the
        // direct map (no highmem: the `compile_error!` above); the pieces do not overlap
        // (checked above); an OUT URB's are initialised (its data) and an IN URB's were
        // frozen. The slices borrow `self` mutably, so they end before giveback.
        Ok(Some(unsafe { &mut *(spans as *mut [&'a mut [u8]]) }))
    }

    /// Copies `src` into the URB's buffer in transfer order (the bounce-buffer path of
    /// [`Urb::buffers`]); returns the number of bytes copied.
    pub(crate) fn scatter(&mut self, segments: &mut Segments, src: &[u8]) -> Result<usize> {
        let mut done = 0;
        for &span in self.spans(&mut segments.spans)?.iter() {
            let n = span.len().min(src.len() - done);
            // SAFETY: as in `buffers`, the span is URB memory we may write; `src` is a
            // separate kernel buffer; entries are written one at a time, in order.
            unsafe { ptr::copy_nonoverlapping(src[done..].as_ptr(), span.cast::<u8>(), n) };
            done += n;
        }
        Ok(done)
    }

    /// Copies the URB's buffer, in transfer order, into one new vector (OUT transfers).
    pub(crate) fn gather(&mut self, segments: &mut Segments) -> Result<KVec<u8>> {
        let spans = self.spans(&mut segments.spans)?;
        let total = spans.iter().map(|s| s.len()).sum();
        let mut out = KVec::with_capacity(total, GFP_KERNEL)?;
        for &span in spans.iter() {
            // SAFETY: as in `buffers`, and an OUT URB's buffer is initialised; shared reads
            // only, so overlapping entries are fine.
            let data = unsafe { core::slice::from_raw_parts(span.cast::<u8>(), span.len()) };
            out.extend_from_slice(data, GFP_KERNEL)?;
        }
        Ok(out)
    }

    /// Each piece of the buffer, `transfer_buffer_length` bytes in all, written into `room`:
    /// the part of it they fill.
    fn spans<'r>(&self, room: &'r mut KVec<*mut [u8]>) -> Result<&'r mut [*mut [u8]]> {
        let info = self.raw_info();
        if info.num_sgs == 0 {
            if info.length == 0 {
                return init_prefix(room, core::iter::empty());
            }
            if info.buffer.is_null() {
                return Err(EINVAL);
            }
            let whole =
                ptr::slice_from_raw_parts_mut(info.buffer.cast::<u8>(), info.length as usize);
            return init_prefix(room, core::iter::once(whole));
        }
        let mut left = info.length as usize;
        let mut sg = info.sg;
        let mut entries = 0;
        let pieces = core::iter::from_fn(|| {
            while left > 0 && !sg.is_null() && entries < info.num_sgs {
                // SAFETY: `sg` is one of the first `num_sgs` entries of the URB's
                // scatterlist, valid while the URB is submitted.
                let (virt, len) = unsafe { (ffi::vusbkey_sg_virt(sg), ffi::vusbkey_sg_len(sg)) };
                let len = (len as usize).min(left);
                left -= len;
                entries += 1;
                // SAFETY: as above; `sg_next` follows chained scatterlists.
                sg = unsafe { ffi::vusbkey_sg_next(sg) };
                if len > 0 {
                    return Some(ptr::slice_from_raw_parts_mut(virt.cast::<u8>(), len));
                }
            }
            None
        });
        let spans = init_prefix(room, pieces)?;
        let total: usize = spans.iter().map(|s| s.len()).sum();
        if total != info.length as usize {
            // The scatterlist is shorter than transfer_buffer_length.
            return Err(EINVAL);
        }
        Ok(spans)
    }
}

/// Room for the list of pieces of one URB's buffer, and for the same sorted: an entry per
/// scatterlist entry the HCD allows (`sg_tablesize`), allocated with the port, so that
/// running an URB allocates no list ([`Urb::buffers`]).
///
/// # Invariants
///
/// Both vectors stay empty (length 0): their spare capacity is the room, written afresh by
/// each use, so no entry outlives the URB borrow it was made under.
pub(crate) struct Segments {
    spans: KVec<*mut [u8]>,
    sorted: KVec<(usize, usize)>,
}

// SAFETY: the pointers in the room are only used while the URB they point into is borrowed
// by the same call, on one thread (type invariant); between uses the room holds nothing
// anyone reads.
unsafe impl Send for Segments {}

impl Segments {
    /// Room for URBs of up to `max` buffer pieces.
    pub(crate) fn new(max: usize) -> Result<Self> {
        // INVARIANT: made empty.
        Ok(Self {
            spans: KVec::with_capacity(max, GFP_KERNEL)?,
            sorted: KVec::with_capacity(max, GFP_KERNEL)?,
        })
    }
}

/// Writes `items` into the spare capacity of the empty `room` and returns them as a slice;
/// `EINVAL` if there are more than it has room for (usbcore sends no URB with more
/// scatterlist entries than `sg_tablesize`). `room` stays empty.
fn init_prefix<'r, T: Copy>(
    room: &'r mut KVec<T>,
    items: impl Iterator<Item = T>,
) -> Result<&'r mut [T]> {
    let slots = room.spare_capacity_mut();
    let mut n = 0;
    for item in items {
        slots.get_mut(n).ok_or(EINVAL)?.write(item);
        n += 1;
    }
    let init: *mut [MaybeUninit<T>] = &mut slots[..n];
    // SAFETY: the first `n` slots were written just above; `MaybeUninit<T>` has the layout of
    // `T`; the slice keeps the borrow of `room`.
    Ok(unsafe { &mut *(init as *mut [T]) })
}

/// Makes a possibly uninitialised piece of an URB's buffer initialised bytes, without
/// touching it.
///
/// For the Rust abstract machine the empty `asm!` block, which receives the buffer's
/// address and may access memory, overwrites the buffer with arbitrary initialised bytes:
/// what it really leaves is the bytes the memory holds, and any such bytes are a possible
/// result of that write (the reasoning of rust-lang/unsafe-code-guidelines#527). Callers
/// may therefore rely on nothing about the previous contents, only on the buffer being
/// initialised; an IN URB's buffer is only ever written by the device model, and read by
/// its submitter up to `actual_length`, which the device model wrote.
fn freeze(buf: *mut [u8]) {
    let p = buf.cast::<u8>();
    // SAFETY: the block executes no instruction; it only makes the compiler assume that the
    // memory behind `p`, which the caller may write, was written.
    unsafe { core::arch::asm!("/* {0} */", in(reg) p, options(nostack, preserves_flags)) };
}

/// FIFO of owned URBs, linked through `urb->hcpriv` (the HCD's field): no allocation, so
/// `urb_enqueue` cannot fail for lack of memory whatever context it is called in.
///
/// Dropping a non-empty queue drops its URBs, each of which `WARN`s (see [`Urb`]).
///
/// # Invariants
///
/// `head` is the oldest URB; each queued URB's `hcpriv` points to the next one, the last's
/// is NULL, and `tail` is the last (NULL when empty). The URBs linked after `head` are owned
/// through those links: no other handle to them exists.
pub(crate) struct UrbQueue {
    head: Option<Urb>,
    tail: *mut RawUrb,
}

// SAFETY: the queue only holds `Urb`s, which are `Send`; `tail` aliases the last of them.
unsafe impl Send for UrbQueue {}

impl Drop for UrbQueue {
    fn drop(&mut self) {
        while let Some(urb) = self.pop() {
            drop(urb);
        }
    }
}

impl Default for UrbQueue {
    fn default() -> Self {
        Self::new()
    }
}

impl UrbQueue {
    /// An empty queue.
    pub(crate) const fn new() -> Self {
        Self {
            head: None,
            tail: ptr::null_mut(),
        }
    }

    /// Appends `urb`.
    pub(crate) fn push(&mut self, urb: Urb) {
        let raw = urb.0.as_ptr();
        // SAFETY: `urb` is ours, so is its `hcpriv`; terminate the list at it.
        unsafe { ffi::vusbkey_urb_set_next(raw, ptr::null_mut()) };
        if self.head.is_none() {
            self.head = Some(urb);
        } else {
            // SAFETY: `tail` is the last URB of the queue, which we own.
            unsafe { ffi::vusbkey_urb_set_next(self.tail, raw) };
            core::mem::forget(urb); // now owned through the list links
        }
        // INVARIANT: `urb` is linked last, its `hcpriv` NULL.
        self.tail = raw;
    }

    /// Puts `urb` back in front, as the oldest.
    pub(crate) fn push_front(&mut self, urb: Urb) {
        let raw = urb.0.as_ptr();
        let next = self.head.take().map_or(ptr::null_mut(), |head| {
            let next = head.0.as_ptr();
            core::mem::forget(head); // now owned through `urb`'s link
            next
        });
        // SAFETY: `urb` is ours, so is its `hcpriv`; link it to the old head (or NULL).
        unsafe { ffi::vusbkey_urb_set_next(raw, next) };
        if next.is_null() {
            self.tail = raw;
        }
        // INVARIANT: the old head is owned through `urb`'s link; `tail` is unchanged unless
        // `urb` is the only URB.
        self.head = Some(urb);
    }

    /// Removes and returns the oldest URB.
    pub(crate) fn pop(&mut self) -> Option<Urb> {
        let head = self.head.take()?;
        // SAFETY: `head` is ours; its `hcpriv` is the next queued URB or NULL (set by `push`).
        let next = unsafe { ffi::vusbkey_urb_next(head.0.as_ptr()) };
        // INVARIANT: `next` is NULL or the next queued URB, owned through `head`'s link, which
        // is gone with `head`: it becomes the head, the only handle to it.
        self.head = NonNull::new(next).map(Urb);
        if self.head.is_none() {
            self.tail = ptr::null_mut();
        }
        Some(head)
    }

    /// Whether the queue is empty.
    pub(crate) fn is_empty(&self) -> bool {
        self.head.is_none()
    }

    /// How many queued URBs were submitted to endpoint `ep`.
    pub(crate) fn count_for(&self, ep: EndpointId) -> usize {
        let mut n = 0;
        let mut cur = self.head.as_ref().map_or(ptr::null_mut(), |u| u.0.as_ptr());
        while !cur.is_null() {
            // SAFETY: `cur` is a queued URB, owned by the queue.
            if EndpointId(unsafe { ffi::vusbkey_urb_ep(cur) }) == ep {
                n += 1;
            }
            // SAFETY: as above; `hcpriv` links to the next queued URB or is NULL.
            cur = unsafe { ffi::vusbkey_urb_next(cur) };
        }
        n
    }
}
