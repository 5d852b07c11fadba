// SPDX-License-Identifier: GPL-2.0

//! Module parameters (`vendor_id`, `product_id`, `serial` (one per port), `manufacturer`,
//! `product`, `speed`, declared in shim.c), checked and turned into each port's device's USB
//! identity and the speed the devices run at.

use crate::device::{
    Identity, Speed, DEFAULT_MANUFACTURER, DEFAULT_PRODUCT, INQUIRY_PRODUCT, INQUIRY_REVISION,
    INQUIRY_VENDOR,
};
use crate::ffi;
use crate::image::{Image, IMAGES};
use core::ptr;
use kernel::ffi::c_char;
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

/// The parameters given, read once and checked against the images.
pub(crate) struct Params {
    raw: ffi::Params,
}

impl Params {
    /// Reads the parameters; logs why and fails with `EINVAL` if `serial=` names more
    /// devices than there are images (ports).
    pub(crate) fn read() -> Result<Self> {
        let mut raw = ffi::Params {
            vendor_id: 0,
            product_id: 0,
            nr_serials: 0,
            manufacturer: ptr::null(),
            product: ptr::null(),
            speed: ptr::null(),
        };
        // SAFETY: `raw` is a valid, writable `struct vusbkey_params`.
        unsafe { ffi::vusbkey_get_params(&mut raw) };
        if raw.nr_serials as usize > IMAGES.len() {
            pr_err!(
                "serial= gives {} serial numbers, but the module has {} port(s), one per image\n",
                raw.nr_serials,
                IMAGES.len()
            );
            return Err(EINVAL);
        }
        Ok(Self { raw })
    }

    /// The identity of the device on port `port` (1-based) serving `image`, validated; logs
    /// why and fails with `EINVAL` if not. Every port shares the ids and strings; the serial
    /// number is the port's `serial=` value, else derived from its image.
    pub(crate) fn identity(&self, port: usize, image: &'static Image) -> Result<Identity<'static>> {
        // At most MAX_PORTS, a u32.
        let index = port.saturating_sub(1) as u32;
        // SAFETY: no preconditions; NULL past the values given.
        let serial = unsafe { ffi::vusbkey_param_serial(index) };
        let identity = Identity {
            vendor_id: self.raw.vendor_id,
            product_id: self.raw.product_id,
            manufacturer: string("manufacturer", self.raw.manufacturer)?
                .unwrap_or(DEFAULT_MANUFACTURER),
            product: string("product", self.raw.product)?.unwrap_or(DEFAULT_PRODUCT),
            serial: string("serial", serial)?.unwrap_or(image.default_serial()),
            inquiry_vendor: INQUIRY_VENDOR,
            inquiry_product: INQUIRY_PRODUCT,
            inquiry_revision: INQUIRY_REVISION,
        };
        if let Err(e) = identity.validate() {
            pr_err!(
                "invalid module parameters for port {}: {}\n",
                port,
                e.message()
            );
            return Err(EINVAL);
        }
        Ok(identity)
    }

    /// The speed the devices run at (`speed=`, default high); logs why and fails with
    /// `EINVAL` for anything but `high` and `super`.
    pub(crate) fn speed(&self) -> Result<Speed> {
        match string("speed", self.raw.speed)? {
            None | Some("high") => Ok(Speed::High),
            Some("super") => Ok(Speed::Super),
            Some(other) => {
                pr_err!("speed={} is neither high nor super\n", other);
                Err(EINVAL)
            }
        }
    }

    /// Checks every port's identity and the speed (module init: bad parameters fail the
    /// load at once).
    pub(crate) fn check(&self) -> Result {
        for (i, image) in IMAGES.iter().enumerate() {
            self.identity(i + 1, image)?;
        }
        self.speed().map(drop)
    }
}
