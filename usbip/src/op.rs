//! The operation phase of USB/IP (Linux `Documentation/usb/usbip_protocol.rst`): a client's
//! `OP_REQ_DEVLIST` and `OP_REQ_IMPORT` (parsed), the server's `OP_REP_DEVLIST` and
//! `OP_REP_IMPORT` (encoded). Big-endian. Pure: no I/O.

use thiserror::Error;

use crate::exported::ExportedDevice;

/// The protocol version this side speaks (v1.1.1), as Linux's `usbip` and `usbipd` check it.
pub const VERSION: u16 = 0x0111;
/// Length of the common header of every operation: version, code, status.
pub const OP_HEADER_LEN: usize = 8;
/// Length of a bus id field (NUL-terminated string, zero-padded).
pub const BUSID_LEN: usize = 32;
/// Length of a sysfs path field.
pub const PATH_LEN: usize = 256;

const OP_REQ_DEVLIST: u16 = 0x8005;
const OP_REP_DEVLIST: u16 = 0x0005;
const OP_REQ_IMPORT: u16 = 0x8003;
const OP_REP_IMPORT: u16 = 0x0003;

/// What a client asks for first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpRequest {
    /// List the exported devices; the connection ends after the reply.
    DevList,
    /// Import the device whose bus id follows ([`BUSID_LEN`] bytes); the URB phase follows
    /// a successful reply on the same connection.
    Import,
}

/// The status of an `OP_REP_IMPORT` (`usbip_common.h` of Linux's user-space tools).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportStatus {
    /// `ST_OK`.
    Ok = 0,
    /// `ST_DEV_BUSY`: another client has imported it.
    Busy = 2,
    /// `ST_NODEV`: no device has that bus id.
    NoDevice = 4,
}

/// An operation request that is not one this server accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum OpError {
    /// The client speaks another protocol version (or is not a USB/IP client).
    #[error("protocol version {0:#06x}, expected {VERSION:#06x}")]
    Version(u16),
    /// Not `OP_REQ_DEVLIST` or `OP_REQ_IMPORT`.
    #[error("unknown operation code {0:#06x}")]
    Code(u16),
    /// The status field of a request must be zero.
    #[error("request status {0} is not zero")]
    Status(u32),
    /// The bus id is not NUL-terminated printable ASCII.
    #[error("malformed bus id")]
    BusId,
}

/// Parses the 8-byte header that starts every connection to `serve`.
pub fn parse_request(h: &[u8; OP_HEADER_LEN]) -> Result<OpRequest, OpError> {
    let version = u16::from_be_bytes([h[0], h[1]]);
    let code = u16::from_be_bytes([h[2], h[3]]);
    let status = u32::from_be_bytes([h[4], h[5], h[6], h[7]]);
    if version != VERSION {
        return Err(OpError::Version(version));
    }
    let request = match code {
        OP_REQ_DEVLIST => OpRequest::DevList,
        OP_REQ_IMPORT => OpRequest::Import,
        code => return Err(OpError::Code(code)),
    };
    if status != 0 {
        return Err(OpError::Status(status));
    }
    Ok(request)
}

/// The bus id of an `OP_REQ_IMPORT`: the bytes before the first NUL, printable ASCII.
pub fn parse_busid(field: &[u8; BUSID_LEN]) -> Result<&str, OpError> {
    let end = field.iter().position(|&b| b == 0).ok_or(OpError::BusId)?;
    let id = &field[..end];
    if id.is_empty() || !id.iter().all(|b| b.is_ascii_graphic()) {
        return Err(OpError::BusId);
    }
    std::str::from_utf8(id).map_err(|_| OpError::BusId)
}

fn header(code: u16, status: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(OP_HEADER_LEN);
    out.extend_from_slice(&VERSION.to_be_bytes());
    out.extend_from_slice(&code.to_be_bytes());
    out.extend_from_slice(&status.to_be_bytes());
    out
}

/// `OP_REP_DEVLIST`: every device, each followed by its interfaces.
pub fn encode_devlist(devices: &[&ExportedDevice]) -> Vec<u8> {
    let mut out = header(OP_REP_DEVLIST, 0);
    out.extend_from_slice(&(devices.len() as u32).to_be_bytes());
    for device in devices {
        device.encode(&mut out);
        for interface in &device.interfaces {
            out.extend_from_slice(&[interface.class, interface.subclass, interface.protocol, 0]);
        }
    }
    out
}

/// `OP_REP_IMPORT`: the device on success; the status alone otherwise.
pub fn encode_import(result: Result<&ExportedDevice, ImportStatus>) -> Vec<u8> {
    match result {
        Ok(device) => {
            let mut out = header(OP_REP_IMPORT, ImportStatus::Ok as u32);
            device.encode(&mut out);
            out
        }
        Err(status) => header(OP_REP_IMPORT, status as u32),
    }
}

/// Writes `s` into a zero-padded field of `len` bytes, always leaving a terminating NUL.
pub(crate) fn put_string(out: &mut Vec<u8>, s: &str, len: usize) {
    let bytes = s.as_bytes();
    let n = bytes.len().min(len - 1);
    out.extend_from_slice(&bytes[..n]);
    out.resize(out.len() + len - n, 0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests() {
        assert_eq!(
            parse_request(&[1, 0x11, 0x80, 5, 0, 0, 0, 0]),
            Ok(OpRequest::DevList)
        );
        assert_eq!(
            parse_request(&[1, 0x11, 0x80, 3, 0, 0, 0, 0]),
            Ok(OpRequest::Import)
        );
        assert_eq!(
            parse_request(&[1, 0x06, 0x80, 3, 0, 0, 0, 0]),
            Err(OpError::Version(0x0106))
        );
        assert_eq!(
            parse_request(&[1, 0x11, 0x00, 3, 0, 0, 0, 0]),
            Err(OpError::Code(3))
        );
        assert_eq!(
            parse_request(&[1, 0x11, 0x80, 5, 0, 0, 0, 1]),
            Err(OpError::Status(1))
        );
    }

    #[test]
    fn busids() {
        let mut field = [0u8; BUSID_LEN];
        field[..3].copy_from_slice(b"1-1");
        assert_eq!(parse_busid(&field), Ok("1-1"));
        assert_eq!(parse_busid(&[b'x'; BUSID_LEN]), Err(OpError::BusId));
        assert_eq!(parse_busid(&[0; BUSID_LEN]), Err(OpError::BusId));
        field[1] = b'\n';
        assert_eq!(parse_busid(&field), Err(OpError::BusId));
    }

    #[test]
    fn import_refused_is_the_header_alone() {
        assert_eq!(
            encode_import(Err(ImportStatus::NoDevice)),
            [1, 0x11, 0, 3, 0, 0, 0, 4]
        );
    }

    #[test]
    fn strings_are_padded_and_terminated() {
        let mut out = Vec::new();
        put_string(&mut out, "3-2", 8);
        assert_eq!(out, b"3-2\0\0\0\0\0");
        out.clear();
        put_string(&mut out, "abcdefghij", 4);
        assert_eq!(out, b"abc\0");
    }
}
