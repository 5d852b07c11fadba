//! USB mass-storage device model: a high-speed or SuperSpeed USB device with one Bulk-Only
//! Transport interface (class 08h, subclass 06h SCSI transparent, protocol 50h) whose
//! single logical unit is a read-only disk.
//!
//! The model works at transfer level: a host controller driver hands it whole control
//! transfers ([`Device::control`]) and whole bulk transfers ([`Device::bulk_out`],
//! [`Device::bulk_in`]). Every request is parsed into a typed value first and executed
//! second; each malformed request maps to exactly one stall or sense code, and no host
//! input can make it panic (no indexing, no unchecked arithmetic).
//!
//! The same files build as a `no_std` crate (for tests and fuzzing) and as a module of the
//! kernel module, so only `core` is used and this file carries no crate-level attributes.

#![forbid(unsafe_code)]
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::arithmetic_side_effects
)]

mod block;
mod bot;
mod cbw;
mod cdb;
mod chapter9;
mod descriptors;
mod endpoints;
mod handshake;
mod identity;
mod logical_unit;
mod parameter_data;
mod reply;
mod sense;
mod setup;
mod sg;
mod speed;
mod usb_device;

// The public API. In the kernel module this is a private module that uses only part of
// it, so unused re-exports are expected there.
#[allow(unused_imports)]
pub use {
    block::{BlockDevice, ReadError},
    descriptors::{BULK_IN_ENDPOINT, BULK_OUT_ENDPOINT},
    endpoints::Stall,
    handshake::Handshake,
    identity::{
        Identity, IdentityError, DEFAULT_MANUFACTURER, DEFAULT_PRODUCT, DEFAULT_PRODUCT_ID,
        DEFAULT_VENDOR_ID, INQUIRY_PRODUCT, INQUIRY_REVISION, INQUIRY_VENDOR,
    },
    speed::Speed,
    usb_device::Device,
};
