//! A model host that enumerates the device from its descriptors and reads the whole disk
//! through Bulk-Only Transport with random command sizes, READ variants, transfer sizes
//! and scatter-gather splits, and must get the image back byte for byte.

mod common;
use common::{setup, TestDisk, BLOCK};
use proptest::prelude::*;
use vusbkey_device::{Device, Handshake, Speed};

/// How the host reads the disk.
#[derive(Debug, Clone)]
struct Plan {
    seed: u64,
    blocks: u32,
    address: u8,
    /// Blocks per READ command, cycled.
    per_command: Vec<u32>,
    /// READ variant per command (6, 10, 12, 16), cycled.
    variants: Vec<u8>,
    /// Extra bytes the host asks for beyond the data (BOT case 5), cycled.
    extra: Vec<u32>,
    /// Bulk-IN transfer sizes, cycled.
    transfers: Vec<usize>,
    /// Scatter-gather segment sizes within a transfer, cycled.
    segments: Vec<usize>,
}

fn plan() -> impl Strategy<Value = Plan> {
    (
        any::<u64>(),
        1u32..=160,
        1u8..=127,
        prop::collection::vec(1u32..=40, 1..6),
        prop::collection::vec(prop::sample::select(vec![6u8, 10, 12, 16]), 1..4),
        prop::collection::vec(prop_oneof![4 => Just(0u32), 1 => 1u32..1500], 1..4),
        prop::collection::vec(prop_oneof![1usize..64, 64usize..5000, Just(512usize)], 1..6),
        prop::collection::vec(
            prop_oneof![Just(0usize), 1usize..700, Just(4096usize)],
            1..6,
        ),
    )
        .prop_map(
            |(seed, blocks, address, per_command, variants, extra, transfers, segments)| Plan {
                seed,
                blocks,
                address,
                per_command,
                variants,
                extra,
                transfers,
                segments,
            },
        )
}

fn image(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

struct ModelHost<'d> {
    dev: Device<'static, &'d TestDisk>,
    bulk_in: u8,
    bulk_out: u8,
    tag: u32,
}

impl ModelHost<'_> {
    fn control_in(&mut self, s: [u8; 8]) -> Vec<u8> {
        let len = usize::from(u16::from_le_bytes([s[6], s[7]]));
        let mut buf = vec![0u8; len];
        let n = self.dev.control(&s, &mut buf).expect("control IN");
        buf.truncate(n);
        buf
    }

    fn control_out(&mut self, s: [u8; 8]) {
        assert_eq!(self.dev.control(&s, &mut []), Ok(0));
    }

    fn clear_halt(&mut self, ep: u8) {
        self.control_out(setup(0x02, 1, 0, u16::from(ep), 0));
    }

    /// One bulk-IN transfer of `len` bytes split into segments per the plan.
    fn bulk_in(
        &mut self,
        len: usize,
        segments: &[usize],
        k: &mut usize,
    ) -> Result<Vec<u8>, Handshake> {
        let mut sizes = Vec::new();
        let mut left = len;
        while left > 0 {
            let s = segments[*k % segments.len()].min(left);
            *k += 1;
            sizes.push(s);
            left -= s;
            if sizes.len() > 64 {
                sizes.push(left);
                break;
            }
        }
        let mut bufs: Vec<Vec<u8>> = sizes.iter().map(|&s| vec![0xa5; s]).collect();
        let mut slices: Vec<&mut [u8]> = bufs.iter_mut().map(|b| &mut b[..]).collect();
        let n = self.dev.bulk_in(&mut slices)?;
        assert!(n <= len);
        let mut all = bufs.concat();
        all.truncate(n);
        Ok(all)
    }

    /// One command; returns the data and the CSW status, checking tag and residue.
    fn command(&mut self, cdb: &[u8], length: u32, plan: &Plan, k: &mut usize) -> (Vec<u8>, u8) {
        self.tag = self.tag.wrapping_mul(69069).wrapping_add(1);
        let cbw = common::cbw(self.tag, length, true, cdb);
        assert_eq!(self.dev.bulk_out(&cbw), Ok(31));
        let mut data = Vec::new();
        while data.len() < length as usize {
            let want = plan.transfers[*k % plan.transfers.len()].min(length as usize - data.len());
            *k += 1;
            match self.bulk_in(want, &plan.segments, k) {
                Ok(chunk) => {
                    let short = chunk.len() < want;
                    data.extend(chunk);
                    if short {
                        break;
                    }
                }
                Err(Handshake::Nak) => panic!("NAK during a data-in stage"),
                Err(Handshake::Stall) => {
                    self.clear_halt(self.bulk_in);
                    break;
                }
            }
        }
        let csw = match self.bulk_in(13, &[13], k) {
            Ok(b) => b,
            Err(Handshake::Nak) => panic!("NAK with a CSW pending"),
            Err(Handshake::Stall) => {
                self.clear_halt(self.bulk_in);
                self.bulk_in(13, &[13], k).expect("CSW")
            }
        };
        let csw = common::parse_csw(&csw);
        assert_eq!(csw.tag, self.tag);
        assert_eq!(csw.residue as usize, length as usize - data.len());
        (data, csw.status)
    }
}

fn read_cdb(variant: u8, lba: u32, blocks: u32) -> Vec<u8> {
    match variant {
        6 if lba < 1 << 21 && blocks <= 256 => {
            let [_, a, b, c] = lba.to_be_bytes();
            vec![0x08, a, b, c, blocks as u8, 0]
        }
        12 => {
            let mut v = vec![0xa8, 0];
            v.extend(lba.to_be_bytes());
            v.extend(blocks.to_be_bytes());
            v.extend([0, 0]);
            v
        }
        16 => {
            let mut v = vec![0x88, 0];
            v.extend(u64::from(lba).to_be_bytes());
            v.extend(blocks.to_be_bytes());
            v.extend([0, 0]);
            v
        }
        _ => common::read10(lba, blocks as u16),
    }
}

fn run(plan: &Plan) -> Result<(), TestCaseError> {
    let disk = TestDisk::from_image(image(plan.seed, plan.blocks as usize * BLOCK as usize));
    let before = disk.image.clone();
    let mut host = ModelHost {
        dev: Device::new(common::identity(), &disk, Speed::High).unwrap(),
        bulk_in: 0,
        bulk_out: 0,
        tag: plan.seed as u32,
    };
    // Enumeration, driven by the descriptors (as hub_port_init + usb_new_device).
    host.dev.bus_reset();
    let dd = host.control_in(setup(0x80, 6, 0x0100, 0, 64));
    prop_assert_eq!(dd.len(), 18);
    prop_assert_eq!(dd[7], 64);
    host.control_out(setup(0x00, 5, u16::from(plan.address), 0, 0));
    prop_assert_eq!(host.dev.address(), plan.address);
    let head = host.control_in(setup(0x80, 6, 0x0200, 0, 9));
    let total = u16::from_le_bytes([head[2], head[3]]);
    let config = host.control_in(setup(0x80, 6, 0x0200, 0, total));
    prop_assert_eq!(config.len(), usize::from(total));
    let mut i = 0;
    let mut found_interface = false;
    while i + 1 < config.len() {
        let (len, kind) = (usize::from(config[i]), config[i + 1]);
        match kind {
            4 => found_interface = config[i + 5..i + 8] == [0x08, 0x06, 0x50],
            5 if config[i + 3] == 2 => {
                let ep = config[i + 2];
                if ep & 0x80 != 0 {
                    host.bulk_in = ep;
                } else {
                    host.bulk_out = ep;
                }
                prop_assert_eq!(u16::from_le_bytes([config[i + 4], config[i + 5]]), 512);
            }
            _ => {}
        }
        i += len.max(1);
    }
    prop_assert!(found_interface && host.bulk_in != 0 && host.bulk_out != 0);
    let serial = host.control_in(setup(0x80, 6, 0x0303, 0x0409, 255));
    prop_assert!(serial.len() >= 2 + 2 * 12);
    host.control_out(setup(0x00, 9, u16::from(config[5]), 0, 0));
    prop_assert!(host.dev.is_configured());
    prop_assert_eq!(host.control_in(setup(0xa1, 0xfe, 0, 0, 1)), vec![0]);

    // SCSI bring-up: INQUIRY, TEST UNIT READY until ready, READ CAPACITY.
    let mut k = 0usize;
    let (inq, status) = host.command(&[0x12, 0, 0, 0, 36, 0], 36, plan, &mut k);
    prop_assert_eq!((inq.len(), inq[0], status), (36, 0, 0));
    let mut ready = false;
    for _ in 0..3 {
        let (_, status) = host.command(&[0, 0, 0, 0, 0, 0], 0, plan, &mut k);
        if status == 0 {
            ready = true;
            break;
        }
        host.command(&[0x03, 0, 0, 0, 18, 0], 18, plan, &mut k);
    }
    prop_assert!(ready);
    let (cap, status) = host.command(&[0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0], 8, plan, &mut k);
    prop_assert_eq!(status, 0);
    let last = u32::from_be_bytes(cap[0..4].try_into().unwrap());
    let block = u32::from_be_bytes(cap[4..8].try_into().unwrap());
    prop_assert_eq!((last + 1, block), (plan.blocks, BLOCK));

    // Read the whole disk.
    let mut got = Vec::with_capacity(before.len());
    let mut lba = 0u32;
    let mut c = 0usize;
    while lba <= last {
        let n = plan.per_command[c % plan.per_command.len()].min(last + 1 - lba);
        let variant = plan.variants[c % plan.variants.len()];
        let extra = plan.extra[c % plan.extra.len()];
        c += 1;
        let want = n * block;
        let (data, status) = host.command(&read_cdb(variant, lba, n), want + extra, plan, &mut k);
        prop_assert_eq!(status, 0);
        prop_assert_eq!(data.len(), want as usize);
        got.extend(data);
        lba += n;
    }
    prop_assert!(got == before, "image read back differs");
    prop_assert!(disk.image == before);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn reads_the_whole_disk_back(plan in plan()) {
        run(&plan)?;
    }
}
