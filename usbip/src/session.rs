//! The URB phase of one connection: commands read from the client, run against one device
//! model, replies written back. Generic over the stream, so the same loop serves a vhci-hcd
//! socketpair, a TCP client and the fuzzer.
//!
//! Transfers run one at a time in arrival order, as on a single bus. A bulk-IN transfer the
//! device NAKs waits in a queue (later bulk-IN transfers queue behind it, keeping the
//! endpoint's order) and is tried again after every transfer that completes; `CMD_UNLINK`
//! cancels a queued one.

use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, Read, Write};

use thiserror::Error;
use vusbkey_device::{BlockDevice, Device, IdentityError, BULK_IN_ENDPOINT};

use crate::errno;
use crate::header::{
    self, Command, Direction, HeaderError, RetSubmit, RetUnlink, Submit, HEADER_LEN,
};
use crate::transfer::{self, Outcome};

/// Largest transfer accepted: Linux's usbfs allows 16 MiB per process by default
/// (`usbfs_memory_mb`), and usb-storage asks for far less. Larger URBs complete with
/// `-EMSGSIZE` (their OUT data is read and dropped), and the connection goes on.
pub const MAX_TRANSFER: u32 = 16 << 20;

/// Most NAKed bulk-IN URBs held at once; more complete with `-ENOMEM` at once.
pub const MAX_PENDING: usize = 1024;

/// The address the device model is given: vhci-hcd handles SET_ADDRESS itself and never
/// forwards it (`vhci_urb_enqueue`), so the model is addressed when the session starts.
const ADDRESS: u8 = 1;

/// Why a connection ended other than by the client closing it between commands.
#[derive(Debug, Error)]
pub enum SessionError {
    /// Reading or writing the stream failed.
    #[error("connection: {0}")]
    Io(#[from] io::Error),
    /// The client sent something that is not a valid command.
    #[error("malformed command: {0}")]
    Header(#[from] HeaderError),
    /// A command for another device.
    #[error("command for devid {got:#010x}, but this connection serves {expected:#010x}")]
    DevId {
        /// The devid of the device this connection serves.
        expected: u32,
        /// The command's.
        got: u32,
    },
    /// A `CMD_SUBMIT` whose seqnum is not after the previous one's.
    #[error("CMD_SUBMIT seqnum {seqnum:#010x} is not after the previous one, {last:#010x}")]
    SeqnumOrder {
        /// The submit's seqnum.
        seqnum: u32,
        /// The previous submit's.
        last: u32,
    },
    /// The stream ended inside a command.
    #[error("connection closed in the middle of a command")]
    Truncated,
    /// The device model refused the key's identity.
    #[error("device model: {0}")]
    Identity(IdentityError),
}

/// One connection's device and URB state.
pub struct Session<'a, D: BlockDevice> {
    device: Device<'a, D>,
    devid: u32,
    /// NAKed bulk-IN URBs, oldest first.
    pending: VecDeque<Submit>,
    /// The highest `CMD_SUBMIT` seqnum seen, in vhci-hcd's wrapping order.
    last_submit: Option<u32>,
    /// URBs unlinked before their `CMD_SUBMIT` arrived (at most [`MAX_PENDING`]).
    early_unlinks: VecDeque<u32>,
    /// The transfer buffer, reused by every URB.
    buffer: Vec<u8>,
}

impl<'a, D: BlockDevice> Session<'a, D> {
    /// A session for a freshly attached device: reset, then addressed (USB 2.0 §9.1.2), as
    /// after the enumeration steps vhci-hcd does not forward.
    pub fn new(device: Device<'a, D>, devid: u32) -> Self {
        let mut session = Self {
            device,
            devid,
            pending: VecDeque::new(),
            last_submit: None,
            early_unlinks: VecDeque::new(),
            buffer: Vec::new(),
        };
        session.device.bus_reset();
        // SET_ADDRESS in the Default state always succeeds (USB 2.0 §9.4.6).
        let _ = session
            .device
            .control(&[0x00, 0x05, ADDRESS, 0, 0, 0, 0, 0], &mut []);
        session
    }

    /// Serves commands from `stream` until the client closes it between two commands
    /// (Ok) or something goes wrong (Err). `Ok` means a clean disconnect.
    pub fn serve<R: Read, W: Write>(
        &mut self,
        reader: &mut BufReader<R>,
        writer: &mut W,
    ) -> Result<(), SessionError> {
        while let Some(h) = read_header(reader)? {
            let command = header::parse_command(&h)?;
            if command.devid() != self.devid {
                return Err(SessionError::DevId {
                    expected: self.devid,
                    got: command.devid(),
                });
            }
            match command {
                Command::Submit(submit) => self.submit(submit, reader, writer)?,
                Command::Unlink(unlink) => {
                    let status = self.unlink(unlink.victim);
                    let reply = RetUnlink {
                        seqnum: unlink.seqnum,
                        status,
                    };
                    writer.write_all(&reply.encode())?;
                }
            }
            // Replies go out when no further command is already buffered.
            if reader.buffer().is_empty() {
                writer.flush()?;
            }
        }
        writer.flush()?;
        Ok(())
    }

    /// `CMD_UNLINK` of `victim`; returns the status of its `RET_UNLINK`.
    /// usbip_protocol.rst: an unlinked URB gets no RET_SUBMIT, and the RET_UNLINK says
    /// -ECONNRESET; one that already completed, 0.
    fn unlink(&mut self, victim: u32) -> i32 {
        if let Some(i) = self.pending.iter().position(|p| p.seqnum == victim) {
            self.pending.remove(i);
            return -errno::ECONNRESET;
        }
        // vhci_tx.c sends the queued CMD_SUBMITs, then the queued CMD_UNLINKs: an URB
        // unlinked while its CMD_SUBMIT still waits to be sent is unlinked ahead of it.
        // vhci-hcd gives it back on this RET_UNLINK and drops the connection on any
        // RET_SUBMIT for it, so its CMD_SUBMIT must not run.
        if self.last_submit.is_none_or(|last| is_after(victim, last)) {
            if self.early_unlinks.len() >= MAX_PENDING {
                self.early_unlinks.pop_front();
            }
            self.early_unlinks.push_back(victim);
            return -errno::ECONNRESET;
        }
        0
    }

    /// One `CMD_SUBMIT`: reads its OUT data, runs it (or queues it behind NAKed bulk-IN
    /// URBs), replies, then retries the queue. An URB already unlinked is dropped unrun.
    fn submit<R: Read, W: Write>(
        &mut self,
        submit: Submit,
        reader: &mut BufReader<R>,
        writer: &mut W,
    ) -> Result<(), SessionError> {
        // usbip_protocol.rst: the seqnum is incremented per connection (vhci_tx.c numbers
        // every URB from one counter). A submit that is not after the last one would be a
        // second URB under a seqnum already answered or pending, and unlinks could no
        // longer tell which URB they name.
        if let Some(last) = self
            .last_submit
            .filter(|&last| !is_after(submit.seqnum, last))
        {
            return Err(SessionError::SeqnumOrder {
                seqnum: submit.seqnum,
                last,
            });
        }
        self.last_submit = Some(submit.seqnum);
        let unlinked = self.early_unlinks.iter().position(|&s| s == submit.seqnum);
        if submit.length > MAX_TRANSFER || unlinked.is_some() {
            let skip = u64::from(submit.out_len());
            if io::copy(&mut reader.take(skip), &mut io::sink())? != skip {
                return Err(SessionError::Truncated);
            }
            return match unlinked {
                Some(i) => {
                    self.early_unlinks.remove(i);
                    Ok(())
                }
                None => reply(writer, &submit, -errno::EMSGSIZE, 0, &[]),
            };
        }
        let len = submit.length as usize;
        if submit.direction == Direction::Out {
            reader
                .read_exact(sized(&mut self.buffer, len))
                .map_err(truncated)?;
        }
        let is_bulk_in =
            submit.direction == Direction::In && submit.endpoint == BULK_IN_ENDPOINT & 0x0f;
        if is_bulk_in && !self.pending.is_empty() {
            return self.hold(submit, writer);
        }
        match transfer::execute(&mut self.device, &submit, sized(&mut self.buffer, len)) {
            Outcome::Nak => self.hold(submit, writer),
            Outcome::Complete { status, actual } => {
                reply(writer, &submit, status, actual, &self.buffer)?;
                self.retry_pending(writer)
            }
        }
    }

    /// Queues a NAKed bulk-IN URB, or fails it when the queue is full.
    fn hold<W: Write>(&mut self, submit: Submit, writer: &mut W) -> Result<(), SessionError> {
        if self.pending.len() >= MAX_PENDING {
            return reply(writer, &submit, -errno::ENOMEM, 0, &[]);
        }
        self.pending.push_back(submit);
        Ok(())
    }

    /// Runs queued bulk-IN URBs, oldest first, until the device NAKs again.
    fn retry_pending<W: Write>(&mut self, writer: &mut W) -> Result<(), SessionError> {
        while let Some(submit) = self.pending.front() {
            let data = sized(&mut self.buffer, submit.length as usize);
            match transfer::execute(&mut self.device, submit, data) {
                Outcome::Nak => break,
                Outcome::Complete { status, actual } => {
                    reply(writer, submit, status, actual, &self.buffer)?;
                    self.pending.pop_front();
                }
            }
        }
        Ok(())
    }
}

/// Whether seqnum `a` comes after `b`, in the wrapping order of vhci-hcd's counter.
fn is_after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

/// The first `len` bytes of the reused transfer buffer, grown as needed.
fn sized(buffer: &mut Vec<u8>, len: usize) -> &mut [u8] {
    if buffer.len() < len {
        buffer.resize(len, 0);
    }
    &mut buffer[..len]
}

/// Writes a `RET_SUBMIT` for `actual` bytes moved and, for an IN URB, those bytes of
/// `buffer`.
fn reply<W: Write>(
    writer: &mut W,
    submit: &Submit,
    status: i32,
    actual: usize,
    buffer: &[u8],
) -> Result<(), SessionError> {
    let actual = actual.min(submit.length as usize);
    let header = RetSubmit {
        seqnum: submit.seqnum,
        status,
        actual_length: actual as u32,
        number_of_packets: submit.number_of_packets,
    };
    let data = match submit.direction {
        Direction::In => buffer.get(..actual).unwrap_or_default(),
        Direction::Out => &[],
    };
    write_all_vectored(writer, &header.encode(), data)?;
    Ok(())
}

/// Writes `header` then `data` with as few writes as `writer` allows. Through a
/// `BufWriter`, a reply larger than its buffer goes out in one `writev`, so the header
/// does not cross the socket alone and wake vhci-hcd's receive thread once more
/// (`std::io::Write::write_all_vectored` is not stable).
fn write_all_vectored<W: Write>(writer: &mut W, header: &[u8], data: &[u8]) -> io::Result<()> {
    let mut both = [io::IoSlice::new(header), io::IoSlice::new(data)];
    let mut slices = &mut both[..if data.is_empty() { 1 } else { 2 }];
    while !slices.is_empty() {
        match writer.write_vectored(slices) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => io::IoSlice::advance_slices(&mut slices, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads one header; `None` at a clean end of stream.
fn read_header<R: Read>(
    reader: &mut BufReader<R>,
) -> Result<Option<[u8; HEADER_LEN]>, SessionError> {
    if reader.fill_buf()?.is_empty() {
        return Ok(None);
    }
    let mut h = [0u8; HEADER_LEN];
    reader.read_exact(&mut h).map_err(truncated)?;
    Ok(Some(h))
}

fn truncated(e: io::Error) -> SessionError {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        SessionError::Truncated
    } else {
        SessionError::Io(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that takes at most 7 bytes per call and has no vectored writes.
    struct Trickle(Vec<u8>);

    impl Write for Trickle {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let n = buf.len().min(7);
            self.0.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn vectored_reply_arrives_whole_through_partial_writes() {
        let header: Vec<u8> = (0..48).collect();
        let data: Vec<u8> = (0..=255).cycle().take(1000).collect();
        for data in [&data[..], &[]] {
            let mut out = Trickle(Vec::new());
            write_all_vectored(&mut out, &header, data).unwrap();
            assert_eq!(out.0, [&header[..], data].concat());
        }
    }
}
