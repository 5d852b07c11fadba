// SPDX-License-Identifier: GPL-2.0

//! The platform device that parents the HCD: probe creates and adds the HCD with its
//! [`VHcd`], remove tears it down; and the sysfs attributes (`image_sha256`, `image_size`,
//! `connected`) shim.c declares on it.

use crate::device::{Device, Speed};
use crate::ffi::{self, PlatformDevice, RawHcd};
use crate::hcd::VHcd;
use crate::image::{self, ImageDisk};
use crate::usb::{errno_result, Hcd};
use crate::{params, wq};
use kernel::ffi::c_int;
use kernel::prelude::*;
use kernel::sync::{Arc, ArcBorrow};

/// Scatterlist entries per URB: 1 MiB transfers with 4 KiB pages. usbcore needs no other
/// limit from us (`no_sg_constraint` is set: any entry length is fine).
const SG_TABLESIZE: u32 = 256;

#[no_mangle]
extern "C" fn vusbkey_rs_probe(pdev: *mut PlatformDevice) -> c_int {
    match probe(pdev) {
        Ok(()) => 0,
        Err(e) => {
            pr_err!("probe failed: {:?}\n", e);
            e.to_errno()
        }
    }
}

fn probe(pdev: *mut PlatformDevice) -> Result {
    // The root hub is a USB 2.0 hub: the device runs at high speed.
    let device = Device::new(params::identity()?, ImageDisk, Speed::High).map_err(|e| {
        pr_err!("invalid identity: {}\n", e);
        EINVAL
    })?;
    // SAFETY: the driver core passes a live platform device, bound to us during probe.
    let raw = unsafe { ffi::vusbkey_hcd_create(pdev, SG_TABLESIZE) };
    // SAFETY: `raw` is NULL or a new HCD; it lives until `vusbkey_hcd_put` below or in remove,
    // and every `Hcd` copy lives in the `VHcd`, which is dropped before that.
    let hcd = unsafe { Hcd::from_raw(raw) }.ok_or(ENOMEM)?;
    let vhcd = match Arc::pin_init(VHcd::new(hcd, device), GFP_KERNEL) {
        Ok(v) => v,
        Err(e) => {
            // SAFETY: nothing else references the new HCD.
            unsafe { ffi::vusbkey_hcd_put(raw) };
            return Err(e);
        }
    };
    let vhcd_ptr = Arc::into_raw(vhcd);
    // SAFETY: `raw` is our HCD, not yet added: nothing reads `hcd_priv` concurrently. The
    // stored `Arc` is taken back in `release`.
    unsafe { ffi::vusbkey_hcd_set_priv(raw, vhcd_ptr.cast_mut().cast()) };
    // SAFETY: `raw` is a created HCD with its private pointer set; adding it registers the
    // root hub, which calls back into `hc_ops.rs`.
    if let Err(e) = errno_result(unsafe { ffi::vusbkey_hcd_add(raw) }) {
        // SAFETY: the add failed, so usbcore no longer calls back.
        unsafe { release(raw) };
        return Err(e);
    }
    // `usb_add_hcd` succeeds even when the root hub did not come up: its configuration or
    // the hub driver's probe failed, or the hub driver's port-power request did (an
    // allocation failure; `hub_activate` goes on). Only the hub driver powers the port,
    // so an unpowered port after the add covers all three: no device would ever appear,
    // and the load fails instead.
    // SAFETY: `vhcd_ptr` is the `Arc` stored in `hcd_priv`, alive until `release`.
    if !unsafe { ArcBorrow::from_raw(vhcd_ptr) }.port_powered() {
        pr_err!("the hub driver did not power the root hub's port\n");
        // SAFETY: `raw` was added above; removing it ends usbcore's calls back.
        unsafe { ffi::vusbkey_hcd_remove(raw) };
        // SAFETY: `usb_remove_hcd` returned.
        unsafe { release(raw) };
        return Err(EIO);
    }
    // The device starts plugged in: it shows up once the hub driver powers the port.
    pr_info!(
        "host controller ready, disk {} bytes, sha256 {}\n",
        image::size(),
        image::sha256()
    );
    Ok(())
}

/// Drops the [`VHcd`] and puts the HCD.
///
/// # Safety
///
/// `raw` is our HCD with its private pointer set by `probe`, and usbcore no longer calls back
/// (the add failed, or `usb_remove_hcd` returned).
unsafe fn release(raw: *mut RawHcd) {
    // Our workqueue may still hold the worker, with an `Arc` of its own: let it finish
    // before the HCD goes (its URBs are all given back by now).
    wq::flush();
    // SAFETY: per the function's contract, `raw` is valid and nobody else reads `hcd_priv`.
    let p = unsafe { ffi::vusbkey_hcd_priv(raw) }.cast::<VHcd>().cast_const();
    // SAFETY: as above.
    unsafe { ffi::vusbkey_hcd_set_priv(raw, core::ptr::null_mut()) };
    if !p.is_null() {
        // SAFETY: `p` came from `Arc::into_raw` in `probe` and is taken back once (cleared).
        drop(unsafe { Arc::from_raw(p) });
    }
    // SAFETY: the last use of the HCD by this module; usbcore frees it once unreferenced.
    unsafe { ffi::vusbkey_hcd_put(raw) };
}

#[no_mangle]
extern "C" fn vusbkey_rs_remove(pdev: *mut PlatformDevice) {
    // SAFETY: the driver core passes our bound platform device.
    let raw = unsafe { ffi::vusbkey_pdev_hcd(pdev) };
    if raw.is_null() {
        return;
    }
    // SAFETY: `raw` is the HCD probe added; this disconnects the device (usb-storage and
    // usbfs users let go of it, their URBs are given back) and stops the controller.
    unsafe { ffi::vusbkey_hcd_remove(raw) };
    // SAFETY: `usb_remove_hcd` returned: usbcore no longer calls back.
    unsafe { release(raw) };
    pr_info!("host controller removed\n");
}

/// Calls `f` with the controller of the platform device `dev` (a sysfs callback's).
fn with_dev<R>(dev: *mut ffi::Device, f: impl for<'a> FnOnce(ArcBorrow<'a, VHcd>) -> R) -> Result<R> {
    // SAFETY: sysfs attributes exist only while the driver is bound (they are driver
    // `dev_groups`, removed before remove runs, which waits for running callbacks), so the
    // drvdata is our HCD, with its private pointer set.
    let raw = unsafe { ffi::vusbkey_dev_hcd(dev) };
    if raw.is_null() {
        return Err(ENODEV);
    }
    // SAFETY: as above.
    let p = unsafe { ffi::vusbkey_hcd_priv(raw) }.cast::<VHcd>().cast_const();
    if p.is_null() {
        return Err(ENODEV);
    }
    // SAFETY: the `Arc` in `hcd_priv` is only released in remove, after this callback ended.
    Ok(f(unsafe { ArcBorrow::from_raw(p) }))
}

#[no_mangle]
extern "C" fn vusbkey_rs_connected_show(dev: *mut ffi::Device) -> c_int {
    match with_dev(dev, |v| v.connected()) {
        Ok(c) => c_int::from(c),
        Err(e) => e.to_errno(),
    }
}

#[no_mangle]
extern "C" fn vusbkey_rs_connected_store(dev: *mut ffi::Device, connected: bool) -> c_int {
    match with_dev(dev, |v| v.set_connected(connected)) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

#[no_mangle]
extern "C" fn vusbkey_rs_image_sha256() -> *const u8 {
    image::sha256().as_ptr()
}

#[no_mangle]
extern "C" fn vusbkey_rs_image_size() -> u64 {
    image::size()
}
