//! The send buffer of our end of a vhci-hcd socketpair, sized for whole transfers.
//!
//! An `AF_UNIX` stream sender sleeps once the bytes it has queued reach its send buffer
//! (net/unix/af_unix.c `unix_stream_sendmsg` through `sock_alloc_send_pskb`), and
//! vhci-hcd's receive thread wakes for each piece it reads. With the default buffer
//! (`net.core.wmem_default`, 208 KiB) a 1 MiB bulk-IN reply crosses that sleep and wake
//! several times. `SO_SNDBUFFORCE` (needs `CAP_NET_ADMIN`) lifts the `net.core.wmem_max`
//! cap; without it `SO_SNDBUF` gives what the cap allows and the caller is told.

use std::os::unix::net::UnixStream;

use nix::errno::Errno;
use nix::sys::socket::{getsockopt, setsockopt, sockopt};

/// Requested send buffer: four of the largest transfers usb-storage sends at SuperSpeed
/// (2048 sectors = 1 MiB, `usb_stor_adjust_quirks`/`scsiglue.c` `max_sectors`).
/// The kernel doubles the value for its bookkeeping (socket(7) `SO_SNDBUF`).
pub const REQUESTED: usize = 4 << 20;

/// What the socket got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendBuffer {
    /// The full size, set with `SO_SNDBUFFORCE`; the kernel's figure in bytes.
    Full(usize),
    /// No `CAP_NET_ADMIN`: capped by `net.core.wmem_max`; the kernel's figure in bytes.
    Capped(usize),
}

/// Gives `stream` a send buffer of [`REQUESTED`] bytes, or as much as it may have.
pub fn widen(stream: &UnixStream) -> std::io::Result<SendBuffer> {
    let forced = match setsockopt(stream, sockopt::SndBufForce, &REQUESTED) {
        Ok(()) => true,
        Err(Errno::EPERM) => {
            setsockopt(stream, sockopt::SndBuf, &REQUESTED)?;
            false
        }
        Err(e) => return Err(e.into()),
    };
    let size = getsockopt(stream, sockopt::SndBuf)?;
    Ok(if forced {
        SendBuffer::Full(size)
    } else {
        SendBuffer::Capped(size)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widens_to_the_request_or_says_it_is_capped() {
        let (ours, _theirs) = UnixStream::pair().unwrap();
        let before = getsockopt(&ours, sockopt::SndBuf).unwrap();
        match widen(&ours).unwrap() {
            // socket(7): the kernel doubles the value set.
            SendBuffer::Full(size) => assert_eq!(size, 2 * REQUESTED),
            SendBuffer::Capped(size) => assert!(size >= before.min(2 * REQUESTED)),
        }
    }
}
