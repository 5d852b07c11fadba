// SPDX-License-Identifier: GPL-2.0

//! The `hc_driver` callbacks (the table is in shim.c): thin shims that find the root hub of
//! the `struct usb_hcd` (in the [`VHcd`] its private pointer holds), wrap the raw arguments
//! and call the hub's safe methods.

use crate::ffi::{self, HostEndpoint, RawHcd, RawUrb};
use crate::hcd::{RootHub, VHcd};
use crate::port::Submitter;
use crate::roothub::MAX_STATUS_BYTES;
use crate::usb::{errno, EndpointId, HcdId, SubmittedUrb, UrbRef};
use kernel::ffi::{c_char, c_int};
use kernel::prelude::*;
use kernel::sync::ArcBorrow;

/// 0 or the negative errno of `r`.
fn to_c(r: Result) -> c_int {
    match r {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// Calls `f` with the root hub of `hcd`, or returns `none` if it has none.
///
/// # Safety
///
/// `hcd` is the HCD an `hc_driver` callback of ours received, for the duration of that
/// callback.
unsafe fn with<R>(hcd: *mut RawHcd, none: R, f: impl FnOnce(&RootHub) -> R) -> R {
    // SAFETY: usbcore calls back with our HCD, valid for the duration of the call.
    let p = unsafe { ffi::vusbkey_hcd_priv(hcd) }
        .cast::<VHcd>()
        .cast_const();
    if p.is_null() {
        return none;
    }
    // SAFETY: each HCD's `hcd_priv` holds an `Arc::into_raw` from probe (set before
    // `usb_add_hcd`) until remove, which takes it back only after `usb_remove_hcd`, when
    // usbcore no longer calls back; so the reference count stays above zero during this call.
    let vhcd = unsafe { ArcBorrow::<VHcd>::from_raw(p) };
    match vhcd.hub(HcdId::new(hcd)) {
        Some(hub) => f(hub),
        None => none,
    }
}

#[no_mangle]
extern "C" fn vusbkey_rs_start(hcd: *mut RawHcd) -> c_int {
    // SAFETY: `hcd` is the HCD usbcore passed to this callback.
    unsafe { with(hcd, ENODEV.to_errno(), |v| to_c(v.start())) }
}

#[no_mangle]
extern "C" fn vusbkey_rs_stop(hcd: *mut RawHcd) {
    // SAFETY: `hcd` is the HCD usbcore passed to this callback.
    unsafe { with(hcd, (), |v| v.stop()) }
}

#[no_mangle]
extern "C" fn vusbkey_rs_urb_enqueue(hcd: *mut RawHcd, urb: *mut RawUrb, mem_flags: u32) -> c_int {
    // SAFETY: usbcore just submitted `urb` to this HCD (hcd.c `usb_hcd_submit_urb`); this is
    // the only handle made for it.
    let Some(urb) = (unsafe { SubmittedUrb::from_raw(urb) }) else {
        return EINVAL.to_errno();
    };
    // The submitter's allocation flags say whether it may sleep (usb_submit_urb's contract:
    // GFP_ATOMIC in interrupt context or under a spinlock).
    // SAFETY: a pure test of the flags' bits.
    let submitter = if unsafe { ffi::vusbkey_gfp_allows_blocking(mem_flags) } {
        Submitter::MaySleep
    } else {
        Submitter::Atomic
    };
    // SAFETY: `hcd` is the HCD usbcore passed to this callback.
    unsafe {
        with(hcd, errno::eshutdown().to_errno(), |v| {
            to_c(v.enqueue(urb, submitter))
        })
    }
}

#[no_mangle]
extern "C" fn vusbkey_rs_urb_dequeue(hcd: *mut RawHcd, urb: *mut RawUrb, status: c_int) -> c_int {
    // SAFETY: usbcore holds a reference to `urb` for the duration of `urb_dequeue`.
    let Some(urb) = (unsafe { UrbRef::from_raw(urb) }) else {
        return EINVAL.to_errno();
    };
    // SAFETY: `hcd` is the HCD usbcore passed to this callback.
    unsafe {
        with(hcd, errno::eidrm().to_errno(), |v| {
            to_c(v.dequeue(urb, status))
        })
    }
}

#[no_mangle]
extern "C" fn vusbkey_rs_endpoint_disable(hcd: *mut RawHcd, ep: *mut HostEndpoint) {
    // SAFETY: `hcd` is the HCD usbcore passed to this callback.
    unsafe { with(hcd, (), |v| v.endpoint_disable(EndpointId::new(ep))) }
}

#[no_mangle]
extern "C" fn vusbkey_rs_hub_status_data(hcd: *mut RawHcd, buf: *mut c_char) -> c_int {
    if buf.is_null() {
        return 0;
    }
    // SAFETY: usbcore passes a 6-byte buffer (`usb_hcd_poll_rh_status`, `hcd_bus_suspend`),
    // enough for 47 ports, for the duration of the call.
    let buf = unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), MAX_STATUS_BYTES) };
    // SAFETY: `hcd` is the HCD usbcore passed to this callback.
    unsafe { with(hcd, 0, |v| v.hub_status_data(buf) as c_int) }
}

#[no_mangle]
extern "C" fn vusbkey_rs_hub_control(
    hcd: *mut RawHcd,
    type_req: u16,
    value: u16,
    index: u16,
    buf: *mut c_char,
    length: u16,
) -> c_int {
    let buf: &mut [u8] = if buf.is_null() || length == 0 {
        &mut []
    } else {
        // SAFETY: `rh_call_control` passes a zeroed buffer of max(wLength, hub descriptor size)
        // bytes, ours for the duration of the call.
        unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), usize::from(length)) }
    };
    let reply = |v: &RootHub| match v.hub_control(type_req, value, index, buf) {
        // At most wLength (u16) bytes.
        Ok(len) => len as c_int,
        Err(e) => e.to_errno(),
    };
    // SAFETY: `hcd` is the HCD usbcore passed to this callback.
    unsafe { with(hcd, ENODEV.to_errno(), reply) }
}

#[no_mangle]
extern "C" fn vusbkey_rs_bus_suspend(hcd: *mut RawHcd) -> c_int {
    // SAFETY: `hcd` is the HCD usbcore passed to this callback.
    unsafe { with(hcd, ENODEV.to_errno(), |v| to_c(v.bus_suspend())) }
}

#[no_mangle]
extern "C" fn vusbkey_rs_bus_resume(hcd: *mut RawHcd) -> c_int {
    // SAFETY: `hcd` is the HCD usbcore passed to this callback.
    unsafe { with(hcd, ENODEV.to_errno(), |v| to_c(v.bus_resume())) }
}
