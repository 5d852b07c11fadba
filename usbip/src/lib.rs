//! vusbkey over USB/IP: the device model of `kmod/device` (the same crate `vusbkey.ko`
//! compiles in) served from user space to the kernel's `vhci-hcd`, for hosts whose kernel
//! has no Rust. `attach` hands vhci-hcd one end of a socketpair per key (no network);
//! `serve` listens for standard USB/IP clients. `attach` keeps a `manifest` of which VM's
//! key is on which port.
//!
//! The wire format (`op`, `header`) is parsed and encoded apart from any I/O; `session`
//! runs the URB phase over any stream; `attach`, `server` and `vhci` do the I/O.

pub mod attach;
pub mod embedded;
pub mod errno;
pub mod exported;
pub mod header;
pub mod identity;
pub mod image;
pub mod key;
pub mod log;
pub mod manifest;
pub mod op;
pub mod send_buffer;
pub mod server;
pub mod session;
pub mod transfer;
pub mod vhci;
