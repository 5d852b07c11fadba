//! Programs the test and benchmark VMs run against the key disk.
//!
//! - [`direct`]: aligned buffers and O_DIRECT reads of a block device.
//! - `diskread` (binary): sequential or random read throughput of a block device.
//! - `elapsed` (binary): the wall time of a command, in microseconds.

pub mod direct;
