// SPDX-License-Identifier: GPL-2.0

//! The C side of the module, declared by hand: a line-by-line mirror of `shim.h`.
//!
//! Only opaque pointers and fixed-width integers cross; keep this file in the same order as
//! `shim.h` so the two can be compared at a glance. The `vusbkey_rs_*` functions that C calls
//! are defined in `hc_ops.rs` and `platform.rs`.

use core::marker::{PhantomData, PhantomPinned};
use kernel::bindings::{spinlock_t, workqueue_struct};
use kernel::ffi::{c_char, c_int, c_ulong, c_void};

macro_rules! opaque {
    ($($(#[$m:meta])* $name:ident;)*) => {$(
        $(#[$m])*
        #[repr(C)]
        pub(crate) struct $name {
            _data: [u8; 0],
            _marker: PhantomData<(*mut u8, PhantomPinned)>,
        }
    )*};
}

opaque! {
    /// `struct device`.
    Device;
    /// `struct platform_device`.
    PlatformDevice;
    /// `struct scatterlist`.
    Scatterlist;
    /// `struct urb`.
    RawUrb;
    /// `struct usb_hcd`.
    RawHcd;
    /// `struct usb_host_endpoint`.
    HostEndpoint;
}

/// `struct vusbkey_params`: the module parameters (NULL strings were not given; the
/// `serial=` values are read one by one with `vusbkey_param_serial`).
#[repr(C)]
pub(crate) struct Params {
    pub(crate) vendor_id: u16,
    pub(crate) product_id: u16,
    pub(crate) nr_serials: u32,
    pub(crate) manufacturer: *const c_char,
    pub(crate) product: *const c_char,
    pub(crate) speed: *const c_char,
}

/// `struct vusbkey_urb_info`: the fields of an URB the transfer code reads.
#[repr(C)]
pub(crate) struct UrbInfo {
    pub(crate) pipe: u32,
    pub(crate) transfer_flags: u32,
    pub(crate) length: u32,
    pub(crate) num_sgs: u32,
    pub(crate) buffer: *mut c_void,
    pub(crate) sg: *mut Scatterlist,
    pub(crate) setup: *const u8,
}

extern "C" {
    pub(crate) fn vusbkey_get_params(out: *mut Params);
    pub(crate) fn vusbkey_param_serial(index: u32) -> *const c_char;

    pub(crate) fn vusbkey_platform_register() -> c_int;
    pub(crate) fn vusbkey_platform_unregister();
    pub(crate) fn vusbkey_platform_hcd() -> *mut RawHcd;

    pub(crate) fn vusbkey_hcd_create(
        pdev: *mut PlatformDevice,
        sg_tablesize: u32,
        super_speed: bool,
    ) -> *mut RawHcd;
    pub(crate) fn vusbkey_hcd_create_shared(
        pdev: *mut PlatformDevice,
        primary: *mut RawHcd,
        sg_tablesize: u32,
    ) -> *mut RawHcd;
    pub(crate) fn vusbkey_hcd_add(hcd: *mut RawHcd) -> c_int;
    pub(crate) fn vusbkey_hcd_remove(hcd: *mut RawHcd);
    pub(crate) fn vusbkey_hcd_get(hcd: *mut RawHcd);
    pub(crate) fn vusbkey_hcd_put(hcd: *mut RawHcd);
    pub(crate) fn vusbkey_hcd_priv(hcd: *mut RawHcd) -> *mut c_void;
    pub(crate) fn vusbkey_hcd_set_priv(hcd: *mut RawHcd, priv_: *mut c_void);
    pub(crate) fn vusbkey_pdev_hcd(pdev: *mut PlatformDevice) -> *mut RawHcd;
    pub(crate) fn vusbkey_dev_hcd(dev: *mut Device) -> *mut RawHcd;
    pub(crate) fn vusbkey_hcd_set_running(hcd: *mut RawHcd, running: bool);
    pub(crate) fn vusbkey_hcd_hw_accessible(hcd: *mut RawHcd) -> bool;
    pub(crate) fn vusbkey_hcd_poll_rh_status(hcd: *mut RawHcd);
    pub(crate) fn vusbkey_hcd_resume_root_hub(hcd: *mut RawHcd);

    pub(crate) fn vusbkey_urb_link(hcd: *mut RawHcd, urb: *mut RawUrb) -> c_int;
    pub(crate) fn vusbkey_urb_check_unlink(
        hcd: *mut RawHcd,
        urb: *mut RawUrb,
        status: c_int,
    ) -> c_int;
    pub(crate) fn vusbkey_urb_unlink(hcd: *mut RawHcd, urb: *mut RawUrb);
    pub(crate) fn vusbkey_urb_giveback(hcd: *mut RawHcd, urb: *mut RawUrb, status: c_int);
    pub(crate) fn vusbkey_urb_get_info(urb: *mut RawUrb, out: *mut UrbInfo);
    pub(crate) fn vusbkey_urb_unlinked(urb: *mut RawUrb) -> c_int;
    pub(crate) fn vusbkey_urb_set_actual_length(urb: *mut RawUrb, len: u32);
    pub(crate) fn vusbkey_urb_ep(urb: *mut RawUrb) -> *mut HostEndpoint;
    pub(crate) fn vusbkey_urb_portnum(urb: *mut RawUrb) -> u32;
    pub(crate) fn vusbkey_urb_next(urb: *mut RawUrb) -> *mut RawUrb;
    pub(crate) fn vusbkey_urb_set_next(urb: *mut RawUrb, next: *mut RawUrb);
    pub(crate) fn vusbkey_urb_leaked(urb: *mut RawUrb);

    pub(crate) fn vusbkey_sg_next(sg: *mut Scatterlist) -> *mut Scatterlist;
    pub(crate) fn vusbkey_sg_virt(sg: *mut Scatterlist) -> *mut c_void;
    pub(crate) fn vusbkey_sg_len(sg: *mut Scatterlist) -> u32;

    pub(crate) fn vusbkey_ports_sysfs_add(pdev: *mut PlatformDevice, ports: u32) -> c_int;
    pub(crate) fn vusbkey_ports_sysfs_remove();

    pub(crate) fn vusbkey_spin_lock_irqsave(lock: *mut spinlock_t) -> c_ulong;
    pub(crate) fn vusbkey_spin_unlock_irqrestore(lock: *mut spinlock_t, flags: c_ulong);
    // Used by compat.rs on the lines whose lock `Backend` has these methods (not 6.12).
    #[allow(dead_code)]
    pub(crate) fn vusbkey_spin_trylock_irqsave(lock: *mut spinlock_t, flags: *mut c_ulong) -> bool;
    #[allow(dead_code)]
    pub(crate) fn vusbkey_spin_assert_is_held(lock: *mut spinlock_t);
    pub(crate) fn vusbkey_alloc_workqueue() -> *mut workqueue_struct;
    pub(crate) fn vusbkey_noio_save() -> u32;
    pub(crate) fn vusbkey_noio_restore(flags: u32);
    pub(crate) fn vusbkey_gfp_allows_blocking(flags: u32) -> bool;
}
