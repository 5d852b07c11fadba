// SPDX-License-Identifier: GPL-2.0

//! One URB against the device model: routing by pipe, the whole transfer in one call, the
//! status usbcore expects (Documentation/driver-api/usb/error-codes.rst).
//!
//! Disk data moves once: the device model copies from the static image straight into the
//! URB's buffer (or scatterlist pages); only a scatterlist that overlaps itself, or a
//! multi-segment OUT transfer (a rejected WRITE), goes through a bounce buffer. Nothing
//! else allocates: the list of the buffer's pieces is made in room allocated with the port.

use crate::device::{BlockDevice, Device, Handshake, Stall, BULK_IN_ENDPOINT, BULK_OUT_ENDPOINT};
use crate::usb::{errno, PipeType, Segments, Urb, UrbParams};
use kernel::prelude::*;

/// How running an URB ended.
pub(crate) enum Outcome {
    /// Give the URB back with this status (0 or a negative errno).
    Complete(i32),
    /// The device NAKed a bulk-IN transfer: nothing moved, the URB stays pending and is
    /// tried again later (USB 2.0 §8.5.1).
    Nak,
}

/// Why a transfer moved no data.
enum Refused {
    Nak,
    Error(Error),
}

impl From<Error> for Refused {
    fn from(e: Error) -> Self {
        Self::Error(e)
    }
}

/// A port's device and the room its transfers need (see [`Segments`]).
pub(crate) struct Executor<'a, D: BlockDevice> {
    device: Device<'a, D>,
    segments: Segments,
}

impl<'a, D: BlockDevice> Executor<'a, D> {
    /// `device`, with room for URBs of up to `max_segments` buffer pieces.
    pub(crate) fn new(device: Device<'a, D>, max_segments: usize) -> Result<Self> {
        Ok(Self {
            device,
            segments: Segments::new(max_segments)?,
        })
    }

    /// The device sees a bus reset (USB 2.0 §7.1.7.5).
    pub(crate) fn bus_reset(&mut self) {
        self.device.bus_reset();
    }

    /// Runs `urb` against the device; sets `actual_length` and returns the URB status, or
    /// [`Outcome::Nak`] with the URB untouched.
    pub(crate) fn execute(&mut self, urb: &mut Urb) -> Outcome {
        let Self { device, segments } = self;
        let params = urb.params();
        let result = if params.device != device.address() {
            // Nobody answers at that address: the transaction times out (a stale URB for an
            // address the device lost in a reset or unplug).
            Err(errno::eproto().into())
        } else {
            match (params.pipe_type, params.endpoint) {
                (PipeType::Control, 0x00 | 0x80) => {
                    control(device, segments, urb).map_err(Refused::from)
                }
                (PipeType::Bulk, BULK_IN_ENDPOINT) => bulk_in(device, segments, urb),
                (PipeType::Bulk, BULK_OUT_ENDPOINT) => {
                    bulk_out(device, segments, urb).map_err(Refused::from)
                }
                // No such endpoint on the device: usbcore rejects these at submission already.
                _ => Err(EPIPE.into()),
            }
        };
        match result {
            Ok(len) => {
                // `len` never exceeds `transfer_buffer_length`, a u32.
                urb.set_actual_length(u32::try_from(len).unwrap_or(params.length));
                Outcome::Complete(short_status(&params, len))
            }
            Err(Refused::Nak) => Outcome::Nak,
            Err(Refused::Error(e)) => {
                urb.set_actual_length(0);
                Outcome::Complete(e.to_errno())
            }
        }
    }
}

/// Whether `urb` is a bulk-IN transfer: the only kind the device NAKs.
pub(crate) fn is_bulk_in(urb: &Urb) -> bool {
    let params = urb.params();
    params.pipe_type == PipeType::Bulk && params.endpoint == BULK_IN_ENDPOINT
}

/// `-EREMOTEIO` for a short IN transfer with `URB_SHORT_NOT_OK`, else 0.
fn short_status(params: &UrbParams, len: usize) -> i32 {
    if params.is_in && params.short_not_ok && len < params.length as usize {
        errno::eremoteio().to_errno()
    } else {
        0
    }
}

/// A stall (halted endpoint or unsupported request) is `-EPIPE`.
fn stalled(_: Stall) -> Error {
    EPIPE
}

/// A whole control transfer on endpoint 0: SETUP, data stage, status stage.
fn control<D: BlockDevice>(
    device: &mut Device<'_, D>,
    segments: &mut Segments,
    urb: &mut Urb,
) -> Result<usize> {
    let setup = urb.setup().ok_or(EINVAL)?;
    let w_length = usize::from(u16::from_le_bytes([setup[6], setup[7]]));
    let bufs = urb.buffers(segments)?.ok_or(EINVAL)?;
    let data: &mut [u8] = match bufs.len() {
        0 => &mut [],
        // usbcore checks wLength against transfer_buffer_length; clamp all the same.
        1 => {
            let buf = &mut *bufs[0];
            let n = buf.len().min(w_length);
            &mut buf[..n]
        }
        // Control transfers with a scatterlist do not exist in usbcore.
        _ => return Err(EINVAL),
    };
    device.control(&setup, data).map_err(stalled)
}

/// A whole bulk-IN transfer, into the URB's buffer or scatterlist pages.
fn bulk_in<D: BlockDevice>(
    device: &mut Device<'_, D>,
    segments: &mut Segments,
    urb: &mut Urb,
) -> Result<usize, Refused> {
    if let Some(bufs) = urb.buffers(segments)? {
        return device.bulk_in(bufs).map_err(handshake);
    }
    // Overlapping scatterlist entries: read into a bounce buffer, then scatter it.
    let len = urb.params().length as usize;
    let mut bounce = KVec::from_elem(0u8, len, GFP_KERNEL).map_err(Error::from)?;
    let n = device.bulk_in(&mut [&mut bounce[..]]).map_err(handshake)?;
    Ok(urb.scatter(segments, &bounce[..n])?)
}

/// A bulk-IN handshake without data: NAK, or STALL (`-EPIPE`).
fn handshake(h: Handshake) -> Refused {
    match h {
        Handshake::Nak => Refused::Nak,
        Handshake::Stall => Refused::Error(EPIPE),
    }
}

/// A whole bulk-OUT transfer.
fn bulk_out<D: BlockDevice>(
    device: &mut Device<'_, D>,
    segments: &mut Segments,
    urb: &mut Urb,
) -> Result<usize> {
    if urb.params().length == 0 {
        return device.bulk_out(&[]).map_err(stalled);
    }
    if let Some(bufs) = urb.buffers(segments)? {
        if let [one] = &bufs[..] {
            return device.bulk_out(one).map_err(stalled);
        }
    }
    // OUT data in several pieces only comes with WRITE commands, which the read-only device
    // rejects: not worth a zero-copy path.
    let data = urb.gather(segments)?;
    device.bulk_out(&data).map_err(stalled)
}
