//! The URB phase of USB/IP (Linux `Documentation/usb/usbip_protocol.rst`): the 48-byte
//! headers of `USBIP_CMD_SUBMIT` and `USBIP_CMD_UNLINK` (parsed), and of `USBIP_RET_SUBMIT`
//! and `USBIP_RET_UNLINK` (encoded, and parsed back for clients and tests). Every field is
//! big-endian. Pure: no I/O.

use thiserror::Error;

/// Every URB-phase header is this long, padding included.
pub const HEADER_LEN: usize = 48;

const CMD_SUBMIT: u32 = 0x0000_0001;
const CMD_UNLINK: u32 = 0x0000_0002;
const RET_SUBMIT: u32 = 0x0000_0003;
const RET_UNLINK: u32 = 0x0000_0004;

/// `number_of_packets` of a transfer that is not isochronous: 0 from Linux's vhci-hcd,
/// 0xffffffff as the protocol document asks.
const NOT_ISOCHRONOUS: [u32; 2] = [0, 0xffff_ffff];

/// Data stage direction of a submitted URB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `USBIP_DIR_OUT` (0): host to device; the data follows the header.
    Out,
    /// `USBIP_DIR_IN` (1): device to host; the data follows the reply.
    In,
}

/// `USBIP_CMD_SUBMIT`: one URB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submit {
    /// Identifies the URB; echoed in the reply.
    pub seqnum: u32,
    /// `(busnum << 16) | devnum` of the device the client imported.
    pub devid: u32,
    /// Direction of the data stage.
    pub direction: Direction,
    /// Endpoint number, 0 to 15.
    pub endpoint: u8,
    /// `URB_*` flags (`USBIP_URB_SHORT_NOT_OK` is the one a device model heeds).
    pub transfer_flags: u32,
    /// `transfer_buffer_length`: bytes of OUT data that follow, or the IN buffer's size.
    pub length: u32,
    /// 0 or 0xffffffff (not isochronous), echoed in the reply.
    pub number_of_packets: u32,
    /// The SETUP packet of a control transfer (zero otherwise).
    pub setup: [u8; 8],
}

/// `USBIP_URB_SHORT_NOT_OK`: a short IN transfer is an error (`-EREMOTEIO`).
pub const URB_SHORT_NOT_OK: u32 = 0x0000_0001;

impl Submit {
    /// Bytes of OUT data that follow this header on the wire.
    pub fn out_len(&self) -> u32 {
        match self.direction {
            Direction::Out => self.length,
            Direction::In => 0,
        }
    }
}

/// `USBIP_CMD_UNLINK`: cancel the URB `victim`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unlink {
    /// Identifies this request; echoed in the reply.
    pub seqnum: u32,
    /// `(busnum << 16) | devnum` of the device the client imported.
    pub devid: u32,
    /// `unlink_seqnum`: the URB to cancel.
    pub victim: u32,
}

/// A command from the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Submit an URB.
    Submit(Submit),
    /// Cancel an URB.
    Unlink(Unlink),
}

impl Command {
    /// The device the command is for.
    pub fn devid(&self) -> u32 {
        match self {
            Self::Submit(s) => s.devid,
            Self::Unlink(u) => u.devid,
        }
    }
}

/// A reply from the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// The URB completed.
    Submit(RetSubmit),
    /// The unlink request was handled.
    Unlink(RetUnlink),
}

/// `USBIP_RET_SUBMIT`; IN data of `actual_length` bytes follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetSubmit {
    /// The URB's `seqnum`.
    pub seqnum: u32,
    /// 0 or a negative Linux errno (`Documentation/driver-api/usb/error-codes.rst`).
    pub status: i32,
    /// Bytes transferred.
    pub actual_length: u32,
    /// The request's `number_of_packets`, echoed.
    pub number_of_packets: u32,
}

/// `USBIP_RET_UNLINK`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetUnlink {
    /// The unlink request's `seqnum`.
    pub seqnum: u32,
    /// `-ECONNRESET` when the URB was cancelled (it gets no `RET_SUBMIT`), 0 when it had
    /// already completed.
    pub status: i32,
}

/// A header that is not a valid command or reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum HeaderError {
    /// The command code is not one this side accepts.
    #[error("unknown command code {0:#010x}")]
    Command(u32),
    /// `direction` is neither 0 (out) nor 1 (in).
    #[error("direction {0} is neither 0 (out) nor 1 (in)")]
    Direction(u32),
    /// `ep` is not an endpoint number (0 to 15).
    #[error("endpoint {0} is not 0 to 15")]
    Endpoint(u32),
    /// `transfer_buffer_length` (or `actual_length`) is negative.
    #[error("length {0} is negative")]
    Length(i32),
    /// An isochronous transfer: the device has no isochronous endpoint.
    #[error("isochronous transfer (number_of_packets {0}): the device has no such endpoint")]
    Isochronous(u32),
    /// A reply field the protocol fixes to zero is not zero.
    #[error("field at offset {0} must be zero in a reply")]
    NotZero(usize),
}

fn word(h: &[u8; HEADER_LEN], offset: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&h[offset..offset + 4]);
    u32::from_be_bytes(w)
}

fn put(h: &mut [u8; HEADER_LEN], offset: usize, value: u32) {
    h[offset..offset + 4].copy_from_slice(&value.to_be_bytes());
}

/// Checks that a signed 32-bit length field is not negative.
fn length(h: &[u8; HEADER_LEN], offset: usize) -> Result<u32, HeaderError> {
    let raw = word(h, offset);
    if i32::try_from(raw).is_err() {
        return Err(HeaderError::Length(raw as i32));
    }
    Ok(raw)
}

/// Parses a command header (usbip_protocol.rst, "USBIP_CMD_SUBMIT", "USBIP_CMD_UNLINK").
pub fn parse_command(h: &[u8; HEADER_LEN]) -> Result<Command, HeaderError> {
    let seqnum = word(h, 4);
    let devid = word(h, 8);
    match word(h, 0) {
        CMD_SUBMIT => {
            let direction = match word(h, 12) {
                0 => Direction::Out,
                1 => Direction::In,
                d => return Err(HeaderError::Direction(d)),
            };
            let endpoint = match word(h, 16) {
                ep @ 0..=15 => ep as u8,
                ep => return Err(HeaderError::Endpoint(ep)),
            };
            let number_of_packets = word(h, 0x20);
            if !NOT_ISOCHRONOUS.contains(&number_of_packets) {
                return Err(HeaderError::Isochronous(number_of_packets));
            }
            let mut setup = [0u8; 8];
            setup.copy_from_slice(&h[0x28..0x30]);
            Ok(Command::Submit(Submit {
                seqnum,
                devid,
                direction,
                endpoint,
                transfer_flags: word(h, 0x14),
                length: length(h, 0x18)?,
                number_of_packets,
                setup,
            }))
        }
        CMD_UNLINK => Ok(Command::Unlink(Unlink {
            seqnum,
            devid,
            victim: word(h, 0x14),
        })),
        code => Err(HeaderError::Command(code)),
    }
}

impl RetSubmit {
    /// The header; `devid`, `direction`, `ep`, `start_frame`, `error_count` and the
    /// padding are zero, as the protocol asks of a server.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        put(&mut h, 0, RET_SUBMIT);
        put(&mut h, 4, self.seqnum);
        put(&mut h, 0x14, self.status as u32);
        put(&mut h, 0x18, self.actual_length);
        put(&mut h, 0x20, self.number_of_packets);
        h
    }
}

impl RetUnlink {
    /// The header; everything but the command, `seqnum` and `status` is zero.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        put(&mut h, 0, RET_UNLINK);
        put(&mut h, 4, self.seqnum);
        put(&mut h, 0x14, self.status as u32);
        h
    }
}

/// Parses a reply header strictly: every field a server must leave zero is zero.
pub fn parse_reply(h: &[u8; HEADER_LEN]) -> Result<Reply, HeaderError> {
    let zero_from = |offsets: &[usize]| match offsets.iter().find(|&&o| word(h, o) != 0) {
        Some(&o) => Err(HeaderError::NotZero(o)),
        None => Ok(()),
    };
    let seqnum = word(h, 4);
    let status = word(h, 0x14) as i32;
    match word(h, 0) {
        RET_SUBMIT => {
            zero_from(&[8, 12, 16, 0x1c, 0x24, 0x28, 0x2c])?;
            let number_of_packets = word(h, 0x20);
            if !NOT_ISOCHRONOUS.contains(&number_of_packets) {
                return Err(HeaderError::Isochronous(number_of_packets));
            }
            Ok(Reply::Submit(RetSubmit {
                seqnum,
                status,
                actual_length: length(h, 0x18)?,
                number_of_packets,
            }))
        }
        RET_UNLINK => {
            zero_from(&[8, 12, 16, 0x18, 0x1c, 0x20, 0x24, 0x28, 0x2c])?;
            Ok(Reply::Unlink(RetUnlink { seqnum, status }))
        }
        code => Err(HeaderError::Command(code)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A GET_DESCRIPTOR(DEVICE) submit as Linux's vhci-hcd sends it: seqnum 1, devid
    /// 0x00010002, IN, ep 0, flags URB_DIR_IN (0x200), 64 bytes.
    const GET_DEVICE_DESCRIPTOR: [u8; HEADER_LEN] = [
        0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 64, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 6, 0, 1, 0, 0, 64, 0,
    ];

    #[test]
    fn submit_is_parsed_field_by_field() {
        assert_eq!(
            parse_command(&GET_DEVICE_DESCRIPTOR),
            Ok(Command::Submit(Submit {
                seqnum: 1,
                devid: 0x0001_0002,
                direction: Direction::In,
                endpoint: 0,
                transfer_flags: 0x200,
                length: 64,
                number_of_packets: 0,
                setup: [0x80, 6, 0, 1, 0, 0, 64, 0],
            }))
        );
    }

    #[test]
    fn unlink_is_parsed() {
        let mut h = [0u8; HEADER_LEN];
        h[3] = 2;
        h[7] = 9;
        h[0x17] = 7;
        assert_eq!(
            parse_command(&h),
            Ok(Command::Unlink(Unlink {
                seqnum: 9,
                devid: 0,
                victim: 7
            }))
        );
    }

    #[test]
    fn malformed_commands_are_refused() {
        let mut h = GET_DEVICE_DESCRIPTOR;
        h[3] = 3; // a reply code from a client
        assert_eq!(parse_command(&h), Err(HeaderError::Command(3)));
        let mut h = GET_DEVICE_DESCRIPTOR;
        h[15] = 2;
        assert_eq!(parse_command(&h), Err(HeaderError::Direction(2)));
        let mut h = GET_DEVICE_DESCRIPTOR;
        h[19] = 16;
        assert_eq!(parse_command(&h), Err(HeaderError::Endpoint(16)));
        let mut h = GET_DEVICE_DESCRIPTOR;
        h[0x18] = 0x80;
        assert_eq!(parse_command(&h), Err(HeaderError::Length(i32::MIN + 64)));
        let mut h = GET_DEVICE_DESCRIPTOR;
        h[0x23] = 1;
        assert_eq!(parse_command(&h), Err(HeaderError::Isochronous(1)));
        let mut h = GET_DEVICE_DESCRIPTOR;
        h[0x20..0x24].copy_from_slice(&[0xff; 4]);
        assert!(parse_command(&h).is_ok(), "0xffffffff: not isochronous");
    }

    #[test]
    fn ret_submit_bytes() {
        let reply = RetSubmit {
            seqnum: 0x0102_0304,
            status: -32,
            actual_length: 18,
            number_of_packets: 0,
        };
        let mut expected = [0u8; HEADER_LEN];
        expected[..8].copy_from_slice(&[0, 0, 0, 3, 1, 2, 3, 4]);
        expected[0x14..0x1c].copy_from_slice(&[0xff, 0xff, 0xff, 0xe0, 0, 0, 0, 18]);
        assert_eq!(reply.encode(), expected);
        assert_eq!(parse_reply(&expected), Ok(Reply::Submit(reply)));
    }

    #[test]
    fn ret_unlink_bytes() {
        let reply = RetUnlink {
            seqnum: 5,
            status: -104,
        };
        let mut expected = [0u8; HEADER_LEN];
        expected[..8].copy_from_slice(&[0, 0, 0, 4, 0, 0, 0, 5]);
        expected[0x14..0x18].copy_from_slice(&(-104i32).to_be_bytes());
        assert_eq!(reply.encode(), expected);
        assert_eq!(parse_reply(&expected), Ok(Reply::Unlink(reply)));
        let mut bad = expected;
        bad[11] = 1;
        assert_eq!(parse_reply(&bad), Err(HeaderError::NotZero(8)));
    }
}
