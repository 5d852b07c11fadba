// SPDX-License-Identifier: GPL-2.0

//! Module parameters (`vendor_id`, `product_id`, `serial`, `manufacturer`, `product`,
//! declared in shim.c), checked and turned into the device's USB identity.

use crate::device::{
    Identity, DEFAULT_MANUFACTURER, DEFAULT_PRODUCT, INQUIRY_PRODUCT, INQUIRY_REVISION,
    INQUIRY_VENDOR,
};
use crate::{ffi, image};
use kernel::ffi::c_char;
use core::ptr;
use kernel::prelude::*;

/// Reads a string parameter; `None` if it was not given.
fn string(name: &str, p: *const c_char) -> Result<Option<&'static str>> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: a non-NULL `charp` parameter points to a NUL-terminated string that the
    // module-parameter code keeps, unchanged (the parameters are read-only, mode 0444), until
    // the module is unloaded; everything that uses the identity (the HCD) is gone by then.
    let s = unsafe { core::ffi::CStr::from_ptr(p.cast()) };
    match s.to_str() {
        Ok(s) => Ok(Some(s)),
        Err(_) => {
            pr_err!("parameter {} is not valid UTF-8\n", name);
            Err(EINVAL)
        }
    }
}

/// The identity from the parameters, validated; logs why and fails with `EINVAL` if not.
pub(crate) fn identity() -> Result<Identity<'static>> {
    let mut p = ffi::Params {
        vendor_id: 0,
        product_id: 0,
        serial: ptr::null(),
        manufacturer: ptr::null(),
        product: ptr::null(),
    };
    // SAFETY: `p` is a valid, writable `struct vusbkey_params`.
    unsafe { ffi::vusbkey_get_params(&mut p) };
    let identity = Identity {
        vendor_id: p.vendor_id,
        product_id: p.product_id,
        manufacturer: string("manufacturer", p.manufacturer)?.unwrap_or(DEFAULT_MANUFACTURER),
        product: string("product", p.product)?.unwrap_or(DEFAULT_PRODUCT),
        serial: string("serial", p.serial)?.unwrap_or(image::DEFAULT_SERIAL),
        inquiry_vendor: INQUIRY_VENDOR,
        inquiry_product: INQUIRY_PRODUCT,
        inquiry_revision: INQUIRY_REVISION,
    };
    if let Err(e) = identity.validate() {
        pr_err!("invalid module parameters: {}\n", e.message());
        return Err(EINVAL);
    }
    Ok(identity)
}
