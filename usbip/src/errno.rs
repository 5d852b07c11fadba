//! The Linux errno values that URB statuses carry on the wire (negated), from
//! `include/uapi/asm-generic/errno-base.h` and `errno.h`.

/// Broken pipe: the endpoint stalled.
pub const EPIPE: i32 = 32;
/// Out of memory: the server holds too many pending URBs.
pub const ENOMEM: i32 = 12;
/// Message too long: the URB is larger than the server accepts.
pub const EMSGSIZE: i32 = 90;
/// Connection reset: the URB was unlinked before it completed.
pub const ECONNRESET: i32 = 104;
/// Remote I/O error: a short IN transfer with `URB_SHORT_NOT_OK`.
pub const EREMOTEIO: i32 = 121;
