//! Fuzzes the device model with arbitrary sequences of control and bulk transfers and
//! checks the Bulk-Only Transport invariants after every step.
//!
//! Input: a sequence of records, each an operation byte (bits 2..0 select the operation,
//! bit 7 is the "exact" flag) and its fields; missing bytes read as zero, and the input
//! ends at a record boundary.
//!
//! | op | fields | action |
//! |----|--------|--------|
//! | 0 | setup\[8\], n: u8 | `control(setup, buffer of 2n bytes)` |
//! | 1 | tag: u32, length: u32, flags, lun, cb_length: u8, cdb\[16\] | bulk-OUT of a CBW with the right signature |
//! | 2 | n: u8, bytes\[n\] | bulk-OUT of raw bytes |
//! | 3 | total: u16, k: u8, k-1 splits: u16 | bulk-IN of `total` bytes in (k % 4) + 1 segments; "exact": `total` is what the current command still has to send (13 if none) |
//! | 4 | | bus reset |
//! | 5 | address: u8 | SET_ADDRESS, then SET_CONFIGURATION(1) |
//! | 6 | | Reset Recovery (Bulk-Only Reset, clear halt IN, clear halt OUT); "exact": only the two clear halts |
//! | 7 | n: u16 | bulk-OUT of n bytes of data; "exact": n is what the current command still expects (at most 64 KiB) |
//!
//! The disk never contains the byte 55h ('U') and neither does any parameter data the
//! device can return with the identity below, so a bulk-IN transfer starting with 55h is
//! a CSW (the start of "USBS") and anything else is data.

#![no_main]

use libfuzzer_sys::fuzz_target;
use vusbkey_device::{BlockDevice, Device, Handshake, Identity, ReadError, Speed};

const BLOCK: u32 = 512;
const BLOCKS: u64 = 40;
/// Reads touching this block fail, to exercise MEDIUM ERROR.
const BAD_BLOCK: u64 = 30;
const IN_EP: u16 = 0x81;
const OUT_EP: u16 = 0x02;

fn image() -> Vec<u8> {
    (0..BLOCKS as usize * BLOCK as usize)
        .map(|i| ((i * 7 + i / 512) % 0x50) as u8)
        .collect()
}

struct Disk<'a>(&'a [u8]);

impl BlockDevice for Disk<'_> {
    fn block_size(&self) -> u32 {
        BLOCK
    }
    fn block_count(&self) -> u64 {
        BLOCKS
    }
    fn read(&self, offset: u64, dst: &mut [u8]) -> Result<(), ReadError> {
        let end = offset.checked_add(dst.len() as u64).ok_or(ReadError)?;
        let bad = BAD_BLOCK * u64::from(BLOCK);
        if offset < bad + u64::from(BLOCK) && end > bad {
            return Err(ReadError);
        }
        let src = self.0.get(offset as usize..end as usize).ok_or(ReadError)?;
        dst.copy_from_slice(src);
        Ok(())
    }
}

fn identity() -> Identity<'static> {
    Identity {
        vendor_id: 0x1209,
        product_id: 0x0001,
        manufacturer: "fuzz",
        product: "key",
        serial: "0123456789ABCDEF",
        inquiry_vendor: "vendor",
        inquiry_product: "product",
        inquiry_revision: "1.0",
    }
}

struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.u8()).collect()
    }
}

/// The command the CSW must answer.
struct Command {
    tag: u32,
    length: u32,
    data_in: bool,
    in_bytes: u64,
    out_bytes: u64,
}

/// What the host side knows, to check the device against.
struct Shadow {
    /// The device is waiting for a CBW (after a CSW or a reset).
    expecting_cbw: bool,
    command: Option<Command>,
}

impl Shadow {
    fn reset(&mut self) {
        self.expecting_cbw = true;
        self.command = None;
    }

    /// A bulk-OUT transfer the device accepted.
    fn bulk_out(&mut self, data: &[u8]) {
        if !self.expecting_cbw {
            // Data-out, or an invalid CBW (no CSW until a reset).
            if let Some(command) = self.command.as_mut() {
                command.out_bytes += data.len() as u64;
            }
            return;
        }
        self.expecting_cbw = false;
        self.command = None;
        // BOT 1.0 §6.2: valid and meaningful.
        if data.len() == 31
            && data[..4] == *b"USBC"
            && data[12] & 0x7f == 0
            && data[13] == 0
            && (1..=16).contains(&data[14])
        {
            let length = u32::from_le_bytes(data[8..12].try_into().unwrap());
            self.command = Some(Command {
                tag: u32::from_le_bytes(data[4..8].try_into().unwrap()),
                length,
                data_in: data[12] & 0x80 != 0 && length > 0,
                in_bytes: 0,
                out_bytes: 0,
            });
        }
    }

    /// A bulk-IN transfer of capacity `capacity` that returned `got`.
    fn bulk_in(&mut self, got: &[u8], capacity: usize) {
        let Some(&first) = got.first() else {
            return;
        };
        let command = self
            .command
            .as_mut()
            .expect("bulk-IN data or CSW without a command");
        if first != 0x55 {
            // Data: only for a data-in command, never beyond its length.
            assert!(
                command.data_in,
                "data-in bytes for a command without data-in"
            );
            command.in_bytes += got.len() as u64;
            assert!(command.in_bytes <= u64::from(command.length));
            assert!(
                !got.contains(&0x55),
                "a CSW after data in the same transfer"
            );
            return;
        }
        if capacity >= 13 {
            // BOT 1.0 §5.2, §6.3: a 13-byte CSW with signature, tag, residue, status.
            assert_eq!(got.len(), 13, "CSW must be 13 bytes");
            assert_eq!(&got[..4], b"USBS");
            let tag = u32::from_le_bytes(got[4..8].try_into().unwrap());
            let residue = u32::from_le_bytes(got[8..12].try_into().unwrap());
            let status = got[12];
            assert_eq!(tag, command.tag, "CSW tag echoes the CBW tag");
            assert!(status <= 2, "status {status}");
            assert!(
                residue <= command.length,
                "residue beyond dCBWDataTransferLength"
            );
            if status != 2 {
                assert_eq!(
                    u64::from(residue),
                    u64::from(command.length) - command.in_bytes,
                    "residue is what was not sent"
                );
            }
        } else {
            // A buffer too small for the CSW gets its start; the rest is lost.
            assert_eq!(got.len(), capacity);
            assert_eq!(got[..capacity.min(4)], b"USBS"[..capacity.min(4)]);
        }
        self.reset();
    }
}

fn run(data: &[u8]) {
    let disk = image();
    // The first byte picks the speed: the descriptors and requests differ.
    let (speed, data) = match data.split_first() {
        Some((b, rest)) if b & 1 == 1 => (Speed::Super, rest),
        Some((_, rest)) => (Speed::High, rest),
        None => (Speed::High, data),
    };
    let mut dev = Device::new(identity(), Disk(&disk), speed).expect("valid identity");
    let mut shadow = Shadow {
        expecting_cbw: true,
        command: None,
    };
    let mut input = Input(data);
    let mut steps = 0;
    while !input.0.is_empty() && steps < 2000 {
        steps += 1;
        let op = input.u8();
        let exact = op & 0x80 != 0;
        match op % 8 {
            0 => {
                let setup: [u8; 8] = input.bytes(8).try_into().unwrap();
                let mut buf = vec![0u8; usize::from(input.u8()) * 2];
                control(&mut dev, &mut shadow, &setup, &mut buf);
            }
            1 => {
                let tag = input.u32();
                let length = input.u32();
                let (flags, lun, cb_length) = (input.u8(), input.u8(), input.u8());
                let mut cbw = b"USBC".to_vec();
                cbw.extend(tag.to_le_bytes());
                cbw.extend(length.to_le_bytes());
                cbw.extend([flags, lun, cb_length]);
                cbw.extend(input.bytes(16));
                bulk_out(&mut dev, &mut shadow, &cbw);
            }
            2 => {
                let n = usize::from(input.u8());
                let bytes = input.bytes(n);
                bulk_out(&mut dev, &mut shadow, &bytes);
            }
            3 => {
                let mut total = usize::from(input.u16());
                if exact {
                    total = shadow.command.as_ref().map_or(13, |c| {
                        (u64::from(c.length) - c.in_bytes).min(1 << 20) as usize
                    });
                }
                let k = usize::from(input.u8() % 4) + 1;
                let mut sizes = Vec::new();
                let mut left = total;
                for _ in 1..k {
                    let s = usize::from(input.u16()) % (left + 1);
                    sizes.push(s);
                    left -= s;
                }
                sizes.push(left);
                bulk_in(&mut dev, &mut shadow, &sizes);
            }
            4 => {
                dev.bus_reset();
                shadow.reset();
                assert_eq!(dev.address(), 0);
                assert!(!dev.is_configured());
            }
            5 => {
                let address = input.u8() % 127 + 1;
                control(
                    &mut dev,
                    &mut shadow,
                    &setup(0x00, 5, address.into(), 0, 0),
                    &mut [],
                );
                control(&mut dev, &mut shadow, &setup(0x00, 9, 1, 0, 0), &mut []);
            }
            6 if exact => {
                control(&mut dev, &mut shadow, &setup(0x02, 1, 0, IN_EP, 0), &mut []);
                control(
                    &mut dev,
                    &mut shadow,
                    &setup(0x02, 1, 0, OUT_EP, 0),
                    &mut [],
                );
            }
            6 => reset_recovery(&mut dev, &mut shadow),
            _ => {
                let mut n = usize::from(input.u16());
                if exact {
                    n = shadow.command.as_ref().map_or(n, |c| {
                        u64::from(c.length).saturating_sub(c.out_bytes).min(1 << 16) as usize
                    });
                }
                bulk_out(&mut dev, &mut shadow, &vec![0x11; n]);
            }
        }
    }

    // Whatever happened, Reset Recovery brings a configured device back...
    if dev.is_configured() {
        reset_recovery(&mut dev, &mut shadow);
        inquiry(&mut dev, &mut shadow);
    }
    // ...and so does a bus reset and enumeration.
    dev.bus_reset();
    shadow.reset();
    control(&mut dev, &mut shadow, &setup(0x00, 5, 1, 0, 0), &mut []);
    control(&mut dev, &mut shadow, &setup(0x00, 9, 1, 0, 0), &mut []);
    assert!(dev.is_configured());
    inquiry(&mut dev, &mut shadow);
    assert!(disk == image(), "the image never changes");
}

fn setup(request_type: u8, request: u8, value: u16, index: u16, length: u16) -> [u8; 8] {
    let [v0, v1] = value.to_le_bytes();
    let [i0, i1] = index.to_le_bytes();
    let [l0, l1] = length.to_le_bytes();
    [request_type, request, v0, v1, i0, i1, l0, l1]
}

fn control(dev: &mut Device<'_, Disk<'_>>, shadow: &mut Shadow, s: &[u8; 8], buf: &mut [u8]) {
    let Ok(n) = dev.control(s, buf) else {
        return;
    };
    let length = usize::from(u16::from_le_bytes([s[6], s[7]]));
    if s[0] & 0x80 != 0 {
        assert!(
            n <= length.min(buf.len()),
            "control IN beyond wLength or buffer"
        );
    } else {
        assert_eq!(n, 0, "no control OUT request has a data stage");
    }
    // Requests that put the transport back to waiting for a CBW.
    match (s[0], s[1]) {
        (0x00, 9) | (0x01, 11) | (0x21, 0xff) => shadow.reset(),
        _ => {}
    }
}

fn bulk_out(dev: &mut Device<'_, Disk<'_>>, shadow: &mut Shadow, data: &[u8]) {
    if let Ok(n) = dev.bulk_out(data) {
        assert_eq!(n, data.len(), "bulk-OUT transfers are taken whole");
        shadow.bulk_out(data);
    }
}

fn bulk_in(dev: &mut Device<'_, Disk<'_>>, shadow: &mut Shadow, sizes: &[usize]) -> Vec<u8> {
    let mut bufs: Vec<Vec<u8>> = sizes.iter().map(|&s| vec![0x55; s]).collect();
    let capacity: usize = sizes.iter().sum();
    let mut slices: Vec<&mut [u8]> = bufs.iter_mut().map(|b| &mut b[..]).collect();
    let n = match dev.bulk_in(&mut slices) {
        Ok(n) => n,
        Err(Handshake::Stall) => return Vec::new(),
        Err(Handshake::Nak) => {
            // USB 2.0 §8.5.1: NAK only while the device has nothing to send, i.e. it
            // waits for a CBW or for data-out bytes.
            assert!(
                shadow.expecting_cbw || shadow.command.as_ref().is_some_and(|c| !c.data_in),
                "NAK during a data-in stage or with a CSW pending"
            );
            return Vec::new();
        }
    };
    assert!(n <= capacity, "bulk-IN beyond the buffers");
    let mut got = bufs.concat();
    got.truncate(n);
    shadow.bulk_in(&got, capacity);
    got
}

fn reset_recovery(dev: &mut Device<'_, Disk<'_>>, shadow: &mut Shadow) {
    control(dev, shadow, &setup(0x21, 0xff, 0, 0, 0), &mut []);
    control(dev, shadow, &setup(0x02, 1, 0, IN_EP, 0), &mut []);
    control(dev, shadow, &setup(0x02, 1, 0, OUT_EP, 0), &mut []);
}

/// INQUIRY must pass, whatever state the unit is in.
fn inquiry(dev: &mut Device<'_, Disk<'_>>, shadow: &mut Shadow) {
    let mut cbw = b"USBC".to_vec();
    cbw.extend(0xfeed_u32.to_le_bytes());
    cbw.extend(36u32.to_le_bytes());
    cbw.extend([0x80, 0, 6, 0x12, 0, 0, 0, 36, 0]);
    cbw.resize(31, 0);
    assert_eq!(dev.bulk_out(&cbw), Ok(31), "CBW taken after recovery");
    shadow.bulk_out(&cbw);
    assert_eq!(bulk_in(dev, shadow, &[36]).len(), 36, "INQUIRY data");
    let csw = bulk_in(dev, shadow, &[13]);
    assert_eq!(csw.len(), 13);
    assert_eq!(csw[12], 0, "INQUIRY passed");
}

fuzz_target!(|data: &[u8]| run(data));
