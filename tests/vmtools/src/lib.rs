//! Programs the test and benchmark VMs run against the key disk.
//!
//! - [`direct`]: aligned buffers and O_DIRECT reads of a block device.
//! - `diskread` (binary): sequential or random read throughput of a block device.

pub mod direct;
