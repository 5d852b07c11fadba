// SPDX-License-Identifier: GPL-2.0

//! The platform device that parents the HCD: probe creates and adds the HCD with its
//! [`VHcd`] (a port per image), remove tears it down; and the sysfs attributes shim.c
//! declares: `image_sha256`, `image_size`, `connected` of every port in `ports/N/`, and of
//! port 1 on the device itself.

use crate::device::{Device, Speed};
use crate::ffi::{self, PlatformDevice, RawHcd};
use crate::hcd::{RootHub, VHcd};
use crate::image::{Image, ImageDisk, IMAGES};
use crate::port::Port;
use crate::roothub::Protocol;
use crate::transfer::Executor;
use crate::usb::{errno_result, Hcd};
use crate::{params, wq};
use kernel::bindings;
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
    let params = params::Params::read()?;
    let speed = params.speed()?;
    let super_speed = speed == Speed::Super;
    // SAFETY: the driver core passes a live platform device, being probed by this driver.
    // On failure below, dropping `hcd` frees the HCD; the driver core clears the drvdata of a
    // device whose probe failed (dd.c `really_probe`, `device_unbind_cleanup`).
    let hcd = unsafe { Hcd::create(pdev, SG_TABLESIZE, super_speed) }.ok_or(ENOMEM)?;
    let shared = if super_speed {
        // SAFETY: `pdev` is being probed, and `hcd` was created for it as a pair's primary.
        Some(unsafe { hcd.create_shared(pdev, SG_TABLESIZE) }.ok_or(ENOMEM)?)
    } else {
        None
    };
    // The devices are on the SuperSpeed root hub if there is one (a USB 3 device connects
    // on one bus only), else on the USB 2.0 one.
    let (device_hcd, protocol) = match &shared {
        Some(shared) => (shared, Protocol::Usb3),
        None => (&hcd, Protocol::Usb2),
    };
    // One port per image, port 1 first.
    let mut ports = KVec::with_capacity(IMAGES.len(), GFP_KERNEL)?;
    for (i, image) in IMAGES.iter().enumerate() {
        let number = i + 1;
        let device = Device::new(params.identity(number, image)?, ImageDisk(image), speed)
            .map_err(|e| {
                pr_err!("port {}: invalid identity: {}\n", number, e.message());
                EINVAL
            })?;
        // Room for an URB's buffer pieces: at most one per scatterlist entry.
        let device = Executor::new(device, SG_TABLESIZE as usize)?;
        let port = Port::new(number, device_hcd.clone(), protocol, device);
        ports.push(Arc::pin_init(port, GFP_KERNEL)?, GFP_KERNEL)?;
    }
    let vhcd = match &shared {
        None => VHcd::new(
            RootHub::with_devices(hcd.clone(), Protocol::Usb2, ports)?,
            None,
        ),
        Some(shared) => VHcd::new(
            RootHub::empty(hcd.clone(), Protocol::Usb2, IMAGES.len())?,
            Some(RootHub::with_devices(
                shared.clone(),
                Protocol::Usb3,
                ports,
            )?),
        ),
    };
    let vhcd = Arc::new(vhcd, GFP_KERNEL)?;
    for each in Iterator::chain(core::iter::once(&hcd), shared.as_ref()) {
        // SAFETY: the HCDs are not yet added: nothing reads `hcd_priv` concurrently. Each
        // stored `Arc` is taken back in `release`.
        unsafe {
            ffi::vusbkey_hcd_set_priv(each.as_ptr(), Arc::into_raw(vhcd.clone()).cast_mut().cast())
        };
    }
    drop(vhcd);
    // The primary first, then the shared HCD (hcd.c: the shared one's root hub registers
    // once its primary's has).
    // SAFETY: `hcd` is a created HCD with its private pointer set; adding it registers the
    // root hub, which calls back into `hc_ops.rs`.
    if let Err(e) = errno_result(unsafe { ffi::vusbkey_hcd_add(hcd.as_ptr()) }) {
        // SAFETY: the add failed, so usbcore no longer calls back.
        unsafe { release(hcd, shared) };
        return Err(e);
    }
    if let Some(shared) = &shared {
        // SAFETY: as for the primary, which is added.
        if let Err(e) = errno_result(unsafe { ffi::vusbkey_hcd_add(shared.as_ptr()) }) {
            // SAFETY: the primary was added by this probe, which fails: remove it.
            unsafe { ffi::vusbkey_hcd_remove(hcd.as_ptr()) };
            // SAFETY: neither HCD is added any more: usbcore no longer calls back.
            unsafe { release(hcd, Some(shared.clone())) };
            return Err(e);
        }
    }
    // At most MAX_PORTS, a u32. The attributes find the HCD through the drvdata, set above.
    // SAFETY: `pdev` is being probed; `vusbkey_rs_remove` removes the directories before
    // the HCD.
    let sysfs = errno_result(unsafe { ffi::vusbkey_ports_sysfs_add(pdev, IMAGES.len() as u32) });
    if let Err(e) = sysfs {
        // SAFETY: the HCDs were added by this probe, which fails: remove them, shared first.
        unsafe { remove(&hcd, shared.as_ref()) };
        // SAFETY: `usb_remove_hcd` returned: usbcore no longer calls back.
        unsafe { release(hcd, shared) };
        return Err(e);
    }
    // The drvdata keeps this reference, until `vusbkey_rs_remove` takes it back; the
    // controller keeps the shared HCD's.
    let _ = hcd.into_raw();
    // The devices start plugged in: they show up once the hub driver powers the ports.
    for (i, image) in IMAGES.iter().enumerate() {
        pr_info!(
            "port {}: disk {} bytes, sha256 {}, {}\n",
            i + 1,
            image.size(),
            image.sha256(),
            if super_speed {
                "SuperSpeed"
            } else {
                "high speed"
            }
        );
    }
    Ok(())
}

/// `usb_remove_hcd` of the shared HCD, if any, then of the primary `hcd`.
///
/// # Safety
///
/// Both were added by `probe`, and are removed once.
unsafe fn remove(hcd: &Hcd, shared: Option<&Hcd>) {
    if let Some(shared) = shared {
        // SAFETY: per the function's contract.
        unsafe { ffi::vusbkey_hcd_remove(shared.as_ptr()) };
    }
    // SAFETY: per the function's contract.
    unsafe { ffi::vusbkey_hcd_remove(hcd.as_ptr()) };
}

/// Drops the [`VHcd`] (the reference each HCD's private pointer holds) and the probe's
/// references to the HCDs, the shared one's first.
///
/// # Safety
///
/// `hcd` and `shared` have their private pointers set by `probe`, and usbcore no longer
/// calls back (the add failed, or `usb_remove_hcd` returned).
unsafe fn release(hcd: Hcd, shared: Option<Hcd>) {
    // Our workqueue may still hold a worker, with an `Arc` of its own: let it finish
    // before the controller goes (its URBs are all given back by now).
    wq::flush();
    for each in Iterator::chain(shared.iter(), core::iter::once(&hcd)) {
        // SAFETY: per the function's contract, nobody else reads `hcd_priv`.
        let p = unsafe { ffi::vusbkey_hcd_priv(each.as_ptr()) }
            .cast::<VHcd>()
            .cast_const();
        // SAFETY: as above.
        unsafe { ffi::vusbkey_hcd_set_priv(each.as_ptr(), core::ptr::null_mut()) };
        if !p.is_null() {
            // SAFETY: `p` came from `Arc::into_raw` in `probe` and is taken back once
            // (cleared).
            drop(unsafe { Arc::from_raw(p) });
        }
    }
    // Dropping the handles puts the last references this module holds, the shared HCD's
    // first; usbcore frees each HCD once unreferenced.
    drop(shared);
}

#[no_mangle]
extern "C" fn vusbkey_rs_remove(pdev: *mut PlatformDevice) {
    // SAFETY: the driver core passes our bound platform device, whose drvdata holds the
    // reference `probe` gave up with `Hcd::into_raw`; taken back here, once.
    let Some(hcd) = (unsafe { Hcd::from_raw(ffi::vusbkey_pdev_hcd(pdev)) }) else {
        return;
    };
    // SAFETY: no callback of the attributes runs after this (kobject_del waits for them).
    unsafe { ffi::vusbkey_ports_sysfs_remove() };
    // SAFETY: `hcd` is our bound device's primary HCD, with its private pointer set.
    let shared = unsafe { with_hcd(hcd.as_ptr(), |v| v.shared_hcd()) }
        .ok()
        .flatten();
    // SAFETY: the HCDs probe added; this disconnects the devices (usb-storage and usbfs
    // users let go of them, their URBs are given back) and stops the controller.
    unsafe { remove(&hcd, shared.as_ref()) };
    // SAFETY: `usb_remove_hcd` returned: usbcore no longer calls back.
    unsafe { release(hcd, shared) };
    pr_info!("host controller removed\n");
}

/// Registers the platform driver and its device, and checks that the root hub came up.
pub(crate) fn register() -> Result {
    // SAFETY: registers shim.c's driver and device; their callbacks are in this module,
    // which `unregister`s them before it goes. The probe runs within the call
    // (`PROBE_FORCE_SYNCHRONOUS`), and a failed probe fails it.
    errno_result(unsafe { ffi::vusbkey_platform_register() })?;
    // `usb_add_hcd` succeeds even when the root hub does not come up: its configuration or
    // the hub driver's probe failed, or the hub driver's port-power request did (an
    // allocation failure; `hub_activate` goes on). Only the hub driver powers the port,
    // so an unpowered port covers all three: no device would ever appear, and the load
    // fails instead. The hub driver may probe the root hub asynchronously
    // (`driver_async_probe=`): wait for every probe in flight first (dd.c
    // `wait_for_device_probe`). Not from our own probe: that waits for all probes to end,
    // ours included.
    // SAFETY: no preconditions; module init may sleep.
    unsafe { bindings::wait_for_device_probe() };
    // SAFETY: the device is bound (registration succeeded) and stays so until `unregister`
    // (no sysfs unbind: `suppress_bind_attrs`), so its drvdata is our HCD.
    let powered = unsafe { with_hcd(ffi::vusbkey_platform_hcd(), |v| v.ports_powered()) };
    match powered {
        Ok(true) => Ok(()),
        _ => {
            pr_err!("the hub driver did not power the root hub's ports\n");
            unregister();
            Err(EIO)
        }
    }
}

/// Unregisters the device (which removes the HCD synchronously) and the driver.
pub(crate) fn unregister() {
    // SAFETY: registered by `register`; called once, at module exit or when `register`
    // fails after registering.
    unsafe { ffi::vusbkey_platform_unregister() }
}

/// Calls `f` with the controller of the HCD `raw`.
///
/// # Safety
///
/// `raw` is NULL or the drvdata of our platform device, bound for the whole call.
unsafe fn with_hcd<R>(
    raw: *mut RawHcd,
    f: impl for<'a> FnOnce(ArcBorrow<'a, VHcd>) -> R,
) -> Result<R> {
    if raw.is_null() {
        return Err(ENODEV);
    }
    // SAFETY: `raw` is the HCD of our bound device (function's contract), with its private
    // pointer set by probe before the device was bound.
    let p = unsafe { ffi::vusbkey_hcd_priv(raw) }
        .cast::<VHcd>()
        .cast_const();
    if p.is_null() {
        return Err(ENODEV);
    }
    // SAFETY: the `Arc` in `hcd_priv` is only released in remove, after the callers end.
    Ok(f(unsafe { ArcBorrow::from_raw(p) }))
}

/// Calls `f` with the controller of the platform device `dev` (a sysfs callback's).
///
/// # Safety
///
/// `dev` is our platform device, passed to one of its sysfs callbacks, which runs the call.
unsafe fn with_dev<R>(
    dev: *mut ffi::Device,
    f: impl for<'a> FnOnce(ArcBorrow<'a, VHcd>) -> R,
) -> Result<R> {
    // SAFETY: our sysfs attributes exist only while the driver is bound, so the drvdata is
    // our HCD, bound during the call: the device's are driver `dev_groups`, removed before
    // remove runs (which waits for running callbacks), and `ports/N/` are removed by remove
    // before anything else (`kobject_del` waits for running callbacks too).
    unsafe { with_hcd(ffi::vusbkey_dev_hcd(dev), f) }
}

#[no_mangle]
extern "C" fn vusbkey_rs_connected_show(dev: *mut ffi::Device, port: u32) -> c_int {
    // SAFETY: sysfs passes our device to a `connected` callback.
    match unsafe { with_dev(dev, |v| v.connected(port as usize)) } {
        Ok(Ok(c)) => c_int::from(c),
        Ok(Err(e)) | Err(e) => e.to_errno(),
    }
}

#[no_mangle]
extern "C" fn vusbkey_rs_connected_store(
    dev: *mut ffi::Device,
    port: u32,
    connected: bool,
) -> c_int {
    // SAFETY: sysfs passes our device to a `connected` callback.
    match unsafe { with_dev(dev, |v| v.set_connected(port as usize, connected)) } {
        Ok(Ok(())) => 0,
        Ok(Err(e)) | Err(e) => e.to_errno(),
    }
}

/// What `%.64s` prints for a port without an image (none of our attributes asks for one).
static NO_SHA256: [u8; 1] = [0];

#[no_mangle]
extern "C" fn vusbkey_rs_image_sha256(port: u32) -> *const u8 {
    Image::of_port(port as usize).map_or(NO_SHA256.as_ptr(), |image| image.sha256().as_ptr())
}

#[no_mangle]
extern "C" fn vusbkey_rs_image_size(port: u32) -> u64 {
    Image::of_port(port as usize).map_or(0, Image::size)
}
