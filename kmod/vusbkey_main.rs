// SPDX-License-Identifier: GPL-2.0

//! vusbkey: a software USB host controller serving a read-only key disk (crate root).
//!
//! `insmod vusbkey.ko` registers a platform device, whose driver creates a host controller:
//! a USB 2.0 HCD and, at SuperSpeed (`speed=super`), a shared USB 3 HCD, whose
//! root hubs have one port per FAT image compiled into this module (1 to 15); behind each
//! port of the hub the devices are on sits a mass-storage device of `device/` serving its
//! image. See README.md for the design (and why the C side is a shim, not a bindgen step).
//!
//! Contents, C side first:
//! - `shim.h`, `shim.c`: module parameters, the `hc_driver` / `platform_driver` / sysfs
//!   tables, one-line wrappers. [`ffi`] mirrors `shim.h`.
//! - [`platform`]: probe/remove of the platform device, its sysfs attributes.
//! - [`hc_ops`]: the `hc_driver` callbacks, thin shims onto [`hcd::VHcd`].
//! - [`usb`]: safe handles on `struct usb_hcd` and `struct urb`, URB queue and buffers.
//! - [`irqlock`]: an IRQ-safe spinlock for the kernel crate's `Lock`.
//! - [`wq`]: the module's workqueue, where transfers run.
//! - [`params`]: module parameters to each port's USB identity and the devices' speed.
//! - [`compat`]: what differs between the kernel lines the module builds for.
//!
//! Safe code only (no C):
//! - [`hcd`]: the controller: its root hubs, each with its ports, URB routing, requests,
//!   suspend.
//! - [`port`]: one port with its device: URB queue, worker, plug and unplug.
//! - [`roothub`]: a root hub's requests and descriptors (USB 2.0 ch. 11, USB 3.2 ch. 10).
//! - [`root_port`]: one port's status and change bits (USB 2.0 §11.24.2.7, USB 3.2
//!   §10.16.2.6).
//! - [`transfer`]: one URB against the device model.
//! - [`image`]: the compiled-in images, each as a block device.
//! - `device`: the USB mass-storage device model (a `no_std` crate shared with user space).

use kernel::prelude::*;

// The device crate is also built by Cargo as a library whose API is `pub`; here it is a
// private module and the module uses only part of that API.
#[allow(unreachable_pub, dead_code)]
#[path = "device/lib.rs"]
mod device;

mod compat;
mod ffi;
mod hc_ops;
mod hcd;
mod image;
mod irqlock;
mod params;
mod platform;
mod port;
mod root_port;
mod roothub;
mod transfer;
mod usb;
mod wq;

module! {
    type: VusbKey,
    name: "vusbkey",
    description: "Virtual USB authentication key",
    license: "GPL",
}

/// Version of vusbkey, kept equal to the workspace version (checked by `cargo xtask kmod`).
const VERSION: &str = "0.1.0";

/// The loaded module: owns the platform driver, device and workqueue.
struct VusbKey;

impl kernel::Module for VusbKey {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        pr_info!(
            "vusbkey {} loaded: {} port(s), one per image\n",
            VERSION,
            image::IMAGES.len()
        );
        // Bad parameters fail the load here, with the reason logged, before anything exists.
        params::Params::read()?.check()?;
        wq::create()?;
        if let Err(e) = platform::register() {
            wq::destroy();
            return Err(e);
        }
        Ok(VusbKey)
    }
}

impl Drop for VusbKey {
    fn drop(&mut self) {
        platform::unregister();
        wq::destroy();
        pr_info!("vusbkey unloaded\n");
    }
}
