//! [`Uevents`]: the kernel's device events (`NETLINK_KOBJECT_UEVENT`), so that a wait for
//! the key disk wakes when the kernel adds a device rather than at the next poll.

use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::Duration;

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::socket::{
    bind, recv, socket, AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType,
};

/// The kernel's multicast group of uevents (lib/kobject_uevent.c sends to group 1; udev's
/// own rebroadcasts go to group 2, which a VM without udev does not have).
const KERNEL_GROUP: u32 = 1;

/// The most queued events one wait reads.
const MAX_READS: usize = 256;

/// A subscription to the kernel's uevents.
pub(crate) struct Uevents {
    socket: OwnedFd,
}

impl Uevents {
    /// Subscribes. Fails where there is no netlink for it (outside the initial network
    /// namespace the kernel sends none, and the socket simply stays quiet).
    pub(crate) fn subscribe() -> io::Result<Self> {
        let socket = socket(
            AddressFamily::Netlink,
            SockType::Datagram,
            SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
            SockProtocol::NetlinkKObjectUEvent,
        )?;
        bind(socket.as_raw_fd(), &NetlinkAddr::new(0, KERNEL_GROUP))?;
        Ok(Self { socket })
    }

    /// Waits until at least one uevent has come or `timeout` has passed, then reads every
    /// queued one (their contents do not matter: any of them may be the key disk's).
    pub(crate) fn wait(&self, timeout: Duration) -> io::Result<()> {
        // A wait longer than poll(2) takes (about 24 days) is the longest it takes.
        let timeout = PollTimeout::try_from(timeout).unwrap_or(PollTimeout::MAX);
        let mut fds = [PollFd::new(self.socket.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, timeout) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
        let mut buf = [0u8; 8192];
        // Bounded, so that a stream of events cannot hold the caller here: what is left
        // wakes the next wait at once.
        for _ in 0..MAX_READS {
            match recv(self.socket.as_raw_fd(), &mut buf, MsgFlags::MSG_DONTWAIT) {
                Ok(_) | Err(Errno::EINTR) => {}
                // ENOBUFS: events were lost while the queue was full; the rescan that
                // follows looks at everything anyway.
                Err(Errno::EAGAIN | Errno::ENOBUFS) => break,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}
