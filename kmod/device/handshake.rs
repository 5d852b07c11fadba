//! How a bulk-IN transfer that moves no data ends (USB 2.0 §8.4.5, handshake packets).

use super::endpoints::Stall;

/// The device's answer to a bulk-IN transfer it sends no data for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handshake {
    /// NAK: the device has nothing to send yet (no command, or a data-out stage). The
    /// transfer stays pending and the host controller retries it (USB 2.0 §8.5.1), so
    /// nothing changes on the device: the HCD holds the URB until a later transfer gives
    /// the device something to send.
    Nak,
    /// STALL: the endpoint is halted; the HCD completes the URB with -EPIPE.
    Stall,
}

impl From<Stall> for Handshake {
    fn from(Stall: Stall) -> Self {
        Self::Stall
    }
}
