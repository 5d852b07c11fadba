//! Programs the test and benchmark VMs run against the key disk.
//!
//! - [`direct`]: aligned buffers and O_DIRECT reads of a block device.
//! - `diskread` (binary): sequential or random read throughput of a block device.
//! - `elapsed` (binary): the wall time of a command, in microseconds.
//! - `flood` (binary): a hostile guest writing garbage to its monitor channel.
//!
//! The hostile host (`hostile` binary) and its parts:
//! - [`usbfs`]: the usbdevfs ioctls and asynchronous URBs (the crate's only `unsafe`).
//! - [`urbs`]: URBs shared between threads on one descriptor; unlinking late ones.
//! - [`locate`]: finding the device node by `VID:PID`.
//! - [`descriptors`]: the Bulk-Only interface and endpoints from the descriptors.
//! - [`interface`]: taking the interface from usb-storage and giving it back.
//! - [`bot`]: CBW and CSW wire formats.
//! - [`scsi`]: command blocks of a read-only disk.
//! - [`transport`]: strict Bulk-Only conversations and Reset Recovery.
//! - [`verify`]: the check after every round (BOT conformance and the image's bytes).
//! - [`ops`]: the hostile ops.
//! - [`generate`]: seeded generation of ops.
//! - [`execute`]: carrying ops out, and what counts as a defect.
//! - [`tally`]: counts of outcomes.
//! - [`campaign`]: rounds, parallel submitters, checks.
//! - [`stop`]: ending a run between ops on SIGTERM or SIGINT.
//! - [`hold`]: URBs held in flight until the device goes away.
//! - [`nak`]: bulk-IN read ahead of the device: NAKed, pending, then served or unlinked.
//! - [`faultload`]: loading the module with its Nth allocation failing (failslab).

pub mod bot;
pub mod campaign;
pub mod descriptors;
pub mod direct;
pub mod execute;
pub mod faultload;
pub mod generate;
pub mod hold;
pub mod interface;
pub mod locate;
pub mod nak;
pub mod ops;
pub mod scsi;
pub mod stop;
pub mod tally;
pub mod transport;
pub mod urbs;
pub mod usbfs;
pub mod verify;
