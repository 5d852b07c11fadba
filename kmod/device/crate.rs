//! USB mass-storage device model (Bulk-Only Transport + SCSI) over a read-only disk.
//!
//! This file is only the crate root Cargo builds: the model itself is `lib.rs` and its
//! sibling files, which the kernel module compiles as a module of its own crate
//! (`#[path = "device/lib.rs"] mod device;`), where crate-level attributes such as
//! `no_std` are not allowed.

#![no_std]

#[path = "lib.rs"]
mod device;

pub use device::*;
