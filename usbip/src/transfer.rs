//! One `USBIP_CMD_SUBMIT` against the device model: routing by endpoint, the whole transfer
//! in one call, and the URB status Linux's usbcore expects
//! (`Documentation/driver-api/usb/error-codes.rst`), as `kmod/transfer.rs` gives it.

use vusbkey_device::{BlockDevice, Device, Handshake, BULK_IN_ENDPOINT, BULK_OUT_ENDPOINT};

use crate::errno;
use crate::header::{Direction, Submit, URB_SHORT_NOT_OK};

/// How running an URB ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Completed with this status (0 or a negative errno) after moving `actual` bytes.
    Complete {
        /// 0 or a negative errno.
        status: i32,
        /// Bytes moved: for IN, the first `actual` bytes of the buffer are the data.
        actual: usize,
    },
    /// The device NAKed a bulk-IN transfer: nothing moved; the URB stays pending and is
    /// tried again after the next transfer (USB 2.0 §8.5.1).
    Nak,
}

const fn stalled() -> Outcome {
    Outcome::Complete {
        status: -errno::EPIPE,
        actual: 0,
    }
}

/// Runs `submit` against `device`. `data` is `submit.length` bytes: the OUT data, or the
/// buffer an IN transfer fills.
pub fn execute<D: BlockDevice>(
    device: &mut Device<'_, D>,
    submit: &Submit,
    data: &mut [u8],
) -> Outcome {
    match (submit.endpoint, submit.direction) {
        (0, direction) => control(device, submit, direction, data),
        (ep, Direction::In) if ep == BULK_IN_ENDPOINT & 0x0f => match device.bulk_in(&mut [data]) {
            Ok(actual) => {
                let short = actual < submit.length as usize;
                let status = if short && submit.transfer_flags & URB_SHORT_NOT_OK != 0 {
                    -errno::EREMOTEIO
                } else {
                    0
                };
                Outcome::Complete { status, actual }
            }
            Err(Handshake::Nak) => Outcome::Nak,
            Err(Handshake::Stall) => stalled(),
        },
        (ep, Direction::Out) if ep == BULK_OUT_ENDPOINT => match device.bulk_out(data) {
            Ok(actual) => Outcome::Complete { status: 0, actual },
            Err(_) => stalled(),
        },
        // No such endpoint (or the wrong direction for it): the device never answers with
        // data; a host controller reports a stall.
        _ => stalled(),
    }
}

/// A whole control transfer: SETUP, data stage, status stage (USB 2.0 §8.5.3).
fn control<D: BlockDevice>(
    device: &mut Device<'_, D>,
    submit: &Submit,
    direction: Direction,
    data: &mut [u8],
) -> Outcome {
    let setup = submit.setup;
    let w_length = usize::from(u16::from_le_bytes([setup[6], setup[7]]));
    let setup_in = setup[0] & 0x80 != 0;
    // The reply carries data only for an IN pipe: a data stage whose direction disagrees
    // with the pipe's cannot be carried, so the device is said to stall it.
    if w_length > 0 && setup_in != (direction == Direction::In) {
        return stalled();
    }
    let n = data.len().min(w_length);
    match device.control(&setup, &mut data[..n]) {
        Ok(actual) if setup_in => Outcome::Complete { status: 0, actual },
        Ok(_) => Outcome::Complete {
            status: 0,
            actual: n,
        },
        Err(_) => stalled(),
    }
}
