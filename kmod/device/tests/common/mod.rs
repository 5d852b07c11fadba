//! Test support: a recording disk, a default identity, and a host that speaks chapter 9
//! and Bulk-Only Transport to the device the way Linux's usb-storage does.

#![allow(dead_code)] // each test file uses a different part

use std::cell::{Cell, RefCell};
use vusbkey_device::{
    BlockDevice, Device, Handshake, Identity, ReadError, Speed, Stall, BULK_IN_ENDPOINT,
    BULK_OUT_ENDPOINT,
};

pub(crate) const BLOCK: u32 = 512;

/// An in-memory disk that records every read and can fail reads from an offset on.
pub(crate) struct TestDisk {
    pub(crate) image: Vec<u8>,
    /// Reads touching `[fail_from, ..)` fail.
    pub(crate) fail_from: Cell<Option<u64>>,
    /// (destination address, length, disk offset) of every read.
    pub(crate) reads: RefCell<Vec<(usize, usize, u64)>>,
}

impl TestDisk {
    /// `blocks` blocks of a pattern where every block differs.
    pub(crate) fn new(blocks: u32) -> Self {
        let len = blocks as usize * BLOCK as usize;
        let image = (0..len)
            .map(|i| (i.wrapping_mul(31) ^ (i >> 9).wrapping_mul(17)) as u8)
            .collect();
        Self::from_image(image)
    }

    pub(crate) fn from_image(image: Vec<u8>) -> Self {
        Self {
            image,
            fail_from: Cell::new(None),
            reads: RefCell::new(Vec::new()),
        }
    }

    pub(crate) fn block(&self, lba: u64) -> &[u8] {
        let start = lba as usize * BLOCK as usize;
        &self.image[start..start + BLOCK as usize]
    }
}

impl BlockDevice for &TestDisk {
    fn block_size(&self) -> u32 {
        BLOCK
    }
    fn block_count(&self) -> u64 {
        (self.image.len() / BLOCK as usize) as u64
    }
    fn read(&self, offset: u64, dst: &mut [u8]) -> Result<(), ReadError> {
        self.reads
            .borrow_mut()
            .push((dst.as_ptr() as usize, dst.len(), offset));
        let end = offset + dst.len() as u64;
        if self.fail_from.get().is_some_and(|f| end > f) {
            return Err(ReadError);
        }
        let src = self
            .image
            .get(offset as usize..end as usize)
            .ok_or(ReadError)?;
        dst.copy_from_slice(src);
        Ok(())
    }
}

pub(crate) fn identity() -> Identity<'static> {
    Identity {
        vendor_id: 0x1209,
        product_id: 0x0001,
        manufacturer: "vusbkey",
        product: "Auth Key",
        serial: "0123456789ABCDEF",
        inquiry_vendor: "VUSBKEY",
        inquiry_product: "AUTH KEY",
        inquiry_revision: "0.1",
    }
}

// bmRequestType values.
pub(crate) const IN_DEVICE: u8 = 0x80;
pub(crate) const IN_INTERFACE: u8 = 0x81;
pub(crate) const IN_ENDPOINT: u8 = 0x82;
pub(crate) const OUT_DEVICE: u8 = 0x00;
pub(crate) const OUT_INTERFACE: u8 = 0x01;
pub(crate) const OUT_ENDPOINT: u8 = 0x02;
pub(crate) const CLASS_OUT: u8 = 0x21;
pub(crate) const CLASS_IN: u8 = 0xa1;

pub(crate) fn setup(request_type: u8, request: u8, value: u16, index: u16, length: u16) -> [u8; 8] {
    let [v0, v1] = value.to_le_bytes();
    let [i0, i1] = index.to_le_bytes();
    let [l0, l1] = length.to_le_bytes();
    [request_type, request, v0, v1, i0, i1, l0, l1]
}

/// A CBW (BOT 1.0 §5.1).
pub(crate) fn cbw(tag: u32, length: u32, data_in: bool, cdb: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(31);
    b.extend_from_slice(b"USBC");
    b.extend_from_slice(&tag.to_le_bytes());
    b.extend_from_slice(&length.to_le_bytes());
    b.push(if data_in { 0x80 } else { 0 });
    b.push(0);
    b.push(cdb.len() as u8);
    let mut block = [0u8; 16];
    block[..cdb.len()].copy_from_slice(cdb);
    b.extend_from_slice(&block);
    b
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Csw {
    pub(crate) tag: u32,
    pub(crate) residue: u32,
    pub(crate) status: u8,
}

pub(crate) const PASSED: u8 = 0;
pub(crate) const FAILED: u8 = 1;
pub(crate) const PHASE_ERROR: u8 = 2;

/// Parses a CSW, insisting on its size and signature.
pub(crate) fn parse_csw(bytes: &[u8]) -> Csw {
    assert_eq!(bytes.len(), 13, "CSW must be 13 bytes: {bytes:02x?}");
    assert_eq!(&bytes[..4], b"USBS", "CSW signature");
    Csw {
        tag: u32::from_le_bytes(bytes[4..8].try_into().unwrap()),
        residue: u32::from_le_bytes(bytes[8..12].try_into().unwrap()),
        status: bytes[12],
    }
}

/// What one BOT command looked like from the host.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) data: Vec<u8>,
    /// The data stage ended with a stall (which the host cleared).
    pub(crate) data_stalled: bool,
    /// The first attempt to read the CSW stalled (cleared, then read again).
    pub(crate) csw_stalled: bool,
    pub(crate) csw: Csw,
}

/// Sense key, ASC, ASCQ.
pub(crate) type SenseCode = (u8, u8, u8);

pub(crate) struct Host<'d> {
    pub(crate) dev: Device<'static, &'d TestDisk>,
    pub(crate) tag: u32,
}

impl<'d> Host<'d> {
    /// A high-speed device fresh from `Device::new`, not enumerated.
    pub(crate) fn attach(disk: &'d TestDisk) -> Self {
        Self::attach_at(disk, Speed::High)
    }

    /// A device connected at `speed`, not enumerated.
    pub(crate) fn attach_at(disk: &'d TestDisk, speed: Speed) -> Self {
        Self {
            dev: Device::new(identity(), disk, speed).unwrap(),
            tag: 0x1000,
        }
    }

    /// Enumerated and configured, with the power-on unit attention still pending.
    pub(crate) fn configured(disk: &'d TestDisk) -> Self {
        let mut h = Self::attach(disk);
        h.enumerate();
        h
    }

    /// Configured and with the unit attention consumed: ready for commands.
    pub(crate) fn ready(disk: &'d TestDisk) -> Self {
        let mut h = Self::configured(disk);
        let r = h.command(&[0x00, 0, 0, 0, 0, 0], 0, Dir::None);
        assert_eq!(r.csw.status, FAILED, "first command reports the reset");
        assert_eq!(h.sense(), (0x06, 0x29, 0x00));
        h
    }

    pub(crate) fn control_in(&mut self, setup: [u8; 8], len: usize) -> Result<Vec<u8>, Stall> {
        let mut buf = vec![0u8; len];
        let n = self.dev.control(&setup, &mut buf)?;
        assert!(n <= len);
        buf.truncate(n);
        Ok(buf)
    }

    pub(crate) fn control_out(&mut self, setup: [u8; 8]) -> Result<usize, Stall> {
        self.dev.control(&setup, &mut [])
    }

    /// What Linux's hub driver does: device descriptor, address, configuration.
    pub(crate) fn enumerate(&mut self) {
        let d = self
            .control_in(setup(IN_DEVICE, 6, 0x0100, 0, 64), 64)
            .unwrap();
        assert_eq!(d.len(), 18);
        self.control_out(setup(OUT_DEVICE, 5, 7, 0, 0)).unwrap();
        assert_eq!(self.dev.address(), 7);
        let c = self
            .control_in(setup(IN_DEVICE, 6, 0x0200, 0, 255), 255)
            .unwrap();
        let total = if self.dev.speed() == Speed::Super {
            44
        } else {
            32
        };
        assert_eq!(c.len(), total);
        self.control_out(setup(OUT_DEVICE, 9, 1, 0, 0)).unwrap();
        assert!(self.dev.is_configured());
    }

    pub(crate) fn clear_halt(&mut self, ep: u8) {
        self.control_out(setup(OUT_ENDPOINT, 1, 0, u16::from(ep), 0))
            .expect("CLEAR_FEATURE(ENDPOINT_HALT) is always accepted");
    }

    pub(crate) fn set_halt(&mut self, ep: u8) {
        self.control_out(setup(OUT_ENDPOINT, 3, 0, u16::from(ep), 0))
            .unwrap();
    }

    pub(crate) fn is_halted(&mut self, ep: u8) -> bool {
        let s = self
            .control_in(setup(IN_ENDPOINT, 0, 0, u16::from(ep), 2), 2)
            .unwrap();
        assert_eq!(s.len(), 2);
        s[0] & 1 == 1
    }

    pub(crate) fn bulk_only_reset(&mut self) {
        self.control_out(setup(CLASS_OUT, 0xff, 0, 0, 0)).unwrap();
    }

    /// BOT 1.0 §5.3.4: reset, clear halt IN, clear halt OUT.
    pub(crate) fn reset_recovery(&mut self) {
        self.bulk_only_reset();
        self.clear_halt(BULK_IN_ENDPOINT);
        self.clear_halt(BULK_OUT_ENDPOINT);
    }

    pub(crate) fn bulk_in_vec(&mut self, len: usize) -> Result<Vec<u8>, Handshake> {
        let mut buf = vec![0u8; len];
        let n = self.dev.bulk_in(&mut [&mut buf[..]])?;
        assert!(n <= len, "bulk_in returned more than the buffer");
        buf.truncate(n);
        Ok(buf)
    }

    pub(crate) fn next_tag(&mut self) -> u32 {
        self.tag = self.tag.wrapping_add(0x0101_0101);
        self.tag
    }

    /// Sends a CBW, which must be accepted whole.
    pub(crate) fn send_cbw(&mut self, length: u32, data_in: bool, cdb: &[u8]) -> u32 {
        let tag = self.next_tag();
        let n = self.dev.bulk_out(&cbw(tag, length, data_in, cdb)).unwrap();
        assert_eq!(n, 31);
        tag
    }

    /// Reads the CSW the way usb-storage does: on a stall, clear it and try once more.
    pub(crate) fn read_csw(&mut self) -> (Csw, bool) {
        match self.bulk_in_vec(13) {
            Ok(b) => (parse_csw(&b), false),
            Err(Handshake::Nak) => panic!("the device NAKed the CSW"),
            Err(Handshake::Stall) => {
                self.clear_halt(BULK_IN_ENDPOINT);
                (
                    parse_csw(&self.bulk_in_vec(13).expect("CSW after clear")),
                    true,
                )
            }
        }
    }

    /// One command through BOT as usb-storage does it (one transfer per stage).
    pub(crate) fn command(&mut self, cdb: &[u8], length: u32, dir: Dir) -> Reply {
        let tag = self.send_cbw(length, matches!(dir, Dir::In), cdb);
        let mut data = Vec::new();
        let mut data_stalled = false;
        match dir {
            Dir::In if length > 0 => match self.bulk_in_vec(length as usize) {
                Ok(d) => data = d,
                Err(Handshake::Nak) => panic!("the device NAKed its data-in stage"),
                Err(Handshake::Stall) => {
                    data_stalled = true;
                    self.clear_halt(BULK_IN_ENDPOINT);
                }
            },
            Dir::Out(fill) if length > 0 => {
                let n = self
                    .dev
                    .bulk_out(&vec![fill; length as usize])
                    .expect("data-out accepted");
                assert_eq!(n, length as usize);
            }
            _ => {}
        }
        let (csw, csw_stalled) = self.read_csw();
        assert_eq!(csw.tag, tag, "CSW echoes the tag");
        assert!(csw.residue <= length, "residue <= dCBWDataTransferLength");
        Reply {
            data,
            data_stalled,
            csw_stalled,
            csw,
        }
    }

    /// REQUEST SENSE (18 bytes) and its key/ASC/ASCQ; asserts it passed.
    pub(crate) fn sense(&mut self) -> SenseCode {
        let r = self.command(&[0x03, 0, 0, 0, 18, 0], 18, Dir::In);
        assert_eq!(r.csw.status, PASSED);
        assert_eq!(r.data.len(), 18);
        (r.data[2] & 0x0f, r.data[12], r.data[13])
    }

    /// Runs a command that must fail with CHECK CONDITION and returns its sense code.
    pub(crate) fn failing(&mut self, cdb: &[u8], length: u32, dir: Dir) -> SenseCode {
        let r = self.command(cdb, length, dir);
        assert_eq!(r.csw.status, FAILED, "command {cdb:02x?} should fail");
        self.sense()
    }

    /// Runs a data-in command that must pass; returns its data.
    pub(crate) fn data_in(&mut self, cdb: &[u8], length: u32) -> Vec<u8> {
        let r = self.command(cdb, length, Dir::In);
        assert_eq!(r.csw.status, PASSED, "command {cdb:02x?} should pass");
        r.data
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Dir {
    None,
    In,
    /// Data-out, every byte this value.
    Out(u8),
}

/// Sense codes.
pub(crate) const NO_SENSE: SenseCode = (0, 0, 0);
pub(crate) const MEDIUM_NOT_PRESENT: SenseCode = (0x02, 0x3a, 0x00);
pub(crate) const UNRECOVERED_READ_ERROR: SenseCode = (0x03, 0x11, 0x00);
pub(crate) const INVALID_COMMAND: SenseCode = (0x05, 0x20, 0x00);
pub(crate) const LBA_OUT_OF_RANGE: SenseCode = (0x05, 0x21, 0x00);
pub(crate) const INVALID_FIELD: SenseCode = (0x05, 0x24, 0x00);
pub(crate) const SAVING_NOT_SUPPORTED: SenseCode = (0x05, 0x39, 0x00);
pub(crate) const REMOVAL_PREVENTED: SenseCode = (0x05, 0x53, 0x02);
pub(crate) const MEDIUM_CHANGED: SenseCode = (0x06, 0x28, 0x00);
pub(crate) const RESET_OCCURRED: SenseCode = (0x06, 0x29, 0x00);
pub(crate) const WRITE_PROTECTED: SenseCode = (0x07, 0x27, 0x00);

/// READ(10) CDB.
pub(crate) fn read10(lba: u32, blocks: u16) -> Vec<u8> {
    let mut c = vec![0x28, 0];
    c.extend_from_slice(&lba.to_be_bytes());
    c.push(0);
    c.extend_from_slice(&blocks.to_be_bytes());
    c.push(0);
    c
}

/// WRITE(10) CDB.
pub(crate) fn write10(lba: u32, blocks: u16) -> Vec<u8> {
    let mut c = read10(lba, blocks);
    c[0] = 0x2a;
    c
}
