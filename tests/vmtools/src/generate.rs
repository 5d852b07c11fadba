//! Turns a seed into hostile [`Op`]s, deterministically: the same seed, profile and count
//! always give the same plan, whatever the device does.

use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::bot::{Cbw, CBW_LEN, CBW_SIGNATURE, FLAG_IN};
use crate::ops::{DataStage, Endpoint, Interruption, Op};
use crate::scsi;
use crate::usbfs::Setup;

/// Which ops a thread may issue, by what it shares with the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// The only thread: everything, including ops that drop the interface claim.
    Alone,
    /// Beside other threads on the same descriptor: no op that drops the claim.
    SharedFd,
    /// On a descriptor of its own, without the interface: control traffic only.
    OtherFd,
}

/// Sizes around packet, wrapper and page boundaries, and some huge ones.
const LENGTHS: &[u32] = &[
    0,
    1,
    2,
    12,
    13,
    14,
    18,
    30,
    31,
    32,
    36,
    63,
    64,
    65,
    511,
    512,
    513,
    1024,
    4095,
    4096,
    4097,
    65535,
    65536,
    65537,
    131072,
    1 << 20,
    (1 << 20) + 1,
    4 << 20,
];
/// Data lengths a CBW may announce.
const CBW_LENGTHS: &[u32] = &[
    0,
    1,
    12,
    13,
    18,
    31,
    36,
    255,
    511,
    512,
    513,
    4096,
    65536,
    1 << 20,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
];
/// Logical blocks of the key disk (2 MiB) and a little beyond, for READ ranges.
const BLOCKS: u64 = 4096;

/// The seed of thread `thread` in round `round` of a run seeded with `seed` (SplitMix64).
pub fn round_seed(seed: u64, round: u64, thread: u64) -> u64 {
    let mut z = seed
        ^ round.wrapping_mul(0x9e37_79b9_7f4a_7c15)
        ^ thread.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A source of ops.
pub struct Generator {
    rng: SmallRng,
    profile: Profile,
}

impl Generator {
    /// A generator for one thread of one round.
    pub fn new(seed: u64, profile: Profile) -> Self {
        Self {
            rng: SmallRng::seed_from_u64(seed),
            profile,
        }
    }

    /// The next op.
    pub fn op(&mut self) -> Op {
        if self.profile == Profile::OtherFd {
            return self.control_op();
        }
        let roll = self.rng.gen_range(0..100);
        match roll {
            0..=17 => self.control_op(),
            18..=24 => self.bulk(),
            25..=57 => self.command(),
            58..=66 => self.urbs(),
            67..=73 => self.interrupted(),
            74..=77 => Op::ClearHalt(self.endpoint()),
            78..=79 => Op::ResetEp(self.endpoint()),
            80..=91 => Op::ResetRecovery,
            92 => Op::SetInterface {
                interface: *[0, 0, 1, 255].choose(&mut self.rng).unwrap_or(&0),
                alt: *[0, 0, 1].choose(&mut self.rng).unwrap_or(&0),
            },
            93 => Op::Claim(self.rng.gen_range(0..3)),
            _ if self.profile == Profile::SharedFd => self.command(),
            94 => Op::SetConfiguration(*[1, 1, 2].choose(&mut self.rng).unwrap_or(&1)),
            95 => Op::Release(self.rng.gen_range(0..2)),
            96..=97 => Op::PortReset,
            98 => Op::DriverBounce {
                after_ms: self.rng.gen_range(0..300),
            },
            _ => self.interrupted(),
        }
    }

    /// An op that leaves the device unusable until a port reset (SET_ADDRESS, a foreign
    /// configuration or alternate setting behind the kernel's back, unconfiguring), for the
    /// end of a round.
    pub fn finale(&mut self) -> Op {
        let timeout_ms = 200;
        let raw = |request_type, request, value| Op::Control {
            setup: Setup {
                request_type,
                request,
                value,
                index: 0,
                length: 0,
            },
            data: Vec::new(),
            timeout_ms,
        };
        match self.rng.gen_range(0..6) {
            0 => raw(0x00, 5, self.rng.gen_range(0..200)),
            1 => raw(0x00, 9, *[0, 2, 255].choose(&mut self.rng).unwrap_or(&0)),
            2 => raw(0x01, 11, 1),
            3 => Op::SetConfiguration(*[-1, 0].choose(&mut self.rng).unwrap_or(&-1)),
            4 => raw(0x00, 3, *[0, 1, 2].choose(&mut self.rng).unwrap_or(&2)),
            _ => raw(0x00, 5, 0),
        }
    }

    fn length(&mut self) -> u32 {
        if self.rng.gen_bool(0.8) {
            *LENGTHS.choose(&mut self.rng).unwrap_or(&0)
        } else {
            self.rng.gen_range(0..70_000)
        }
    }

    fn endpoint(&mut self) -> Endpoint {
        match self.rng.gen_range(0..20) {
            0..=8 => Endpoint::BulkIn,
            9..=17 => Endpoint::BulkOut,
            _ => Endpoint::Raw(
                *[0x00, 0x80, 0x01, 0x82, 0x83, 0x0f]
                    .choose(&mut self.rng)
                    .unwrap_or(&0),
            ),
        }
    }

    fn setup(&mut self, max_len: u16) -> Setup {
        let odd_len = |rng: &mut SmallRng| -> u16 {
            let picks = [
                0, 1, 2, 7, 8, 9, 17, 18, 19, 31, 32, 64, 255, 256, 4095, 4096,
            ];
            let len = if rng.gen_bool(0.8) {
                *picks.choose(rng).unwrap_or(&0)
            } else {
                rng.gen()
            };
            len.min(max_len)
        };
        let rng = &mut self.rng;
        let (request_type, request, value, index) = match rng.gen_range(0..12) {
            0..=2 => {
                let kind: u16 = *[1, 2, 3, 3, 6, 7, 0x0f, 0x21, 0x29, 0xff]
                    .choose(rng)
                    .unwrap_or(&1);
                let index: u16 = if rng.gen_bool(0.7) {
                    rng.gen_range(0..6)
                } else {
                    rng.gen()
                };
                let lang = *[0, 0x0409, 0xffff].choose(rng).unwrap_or(&0);
                (0x80, 6, kind << 8 | index, lang)
            }
            3 => (
                *[0x80, 0x81, 0x82].choose(rng).unwrap_or(&0x80),
                0,
                0,
                *[0, 0x81, 0x02, 0x83, 1].choose(rng).unwrap_or(&0),
            ),
            4 => (
                *[0x00, 0x01, 0x02].choose(rng).unwrap_or(&2),
                *[1, 3].choose(rng).unwrap_or(&1),
                *[0, 1, 2, 0xffff].choose(rng).unwrap_or(&0),
                *[0, 0x81, 0x02, 0x0400].choose(rng).unwrap_or(&0),
            ),
            5 => (0x80, 8, 0, 0),
            6 => (0x81, 10, 0, *[0, 1].choose(rng).unwrap_or(&0)),
            7 => (0x00, 9, 1, 0),
            8 => (
                0x21,
                0xff,
                *[0, 0, 1].choose(rng).unwrap_or(&0),
                *[0, 0, 1, 0xff, 0x100].choose(rng).unwrap_or(&0),
            ),
            9 => (
                0xa1,
                0xfe,
                *[0, 0, 1].choose(rng).unwrap_or(&0),
                *[0, 0, 1, 0xff].choose(rng).unwrap_or(&0),
            ),
            10 => (
                *[0x40, 0xc0, 0x41, 0xc1].choose(rng).unwrap_or(&0x40),
                rng.gen(),
                rng.gen(),
                rng.gen(),
            ),
            _ => (rng.gen(), rng.gen(), rng.gen(), rng.gen()),
        };
        // Standard and class requests keep their usual lengths most of the time.
        let length = match (request_type, request) {
            (0x21, 0xff) | (0x00, _) | (0x01, _) | (0x02, _) if self.rng.gen_bool(0.7) => 0,
            (0xa1, 0xfe) if self.rng.gen_bool(0.5) => 1,
            _ => odd_len(&mut self.rng),
        };
        Setup {
            request_type,
            request,
            value,
            index,
            length,
        }
    }

    fn control_op(&mut self) -> Op {
        if self.rng.gen_bool(0.25) {
            let mut setup = self.setup(u16::MAX);
            if self.rng.gen_bool(0.3) {
                setup.length = self.rng.gen();
            }
            let unlink_after_us = self.rng.gen_bool(0.5).then(|| self.rng.gen_range(0..2000));
            return Op::ControlUrb {
                setup,
                unlink_after_us,
            };
        }
        let setup = self.setup(4096);
        let data = if setup.request_type & 0x80 == 0 {
            (0..setup.length).map(|_| self.rng.gen()).collect()
        } else {
            Vec::new()
        };
        Op::Control {
            setup,
            data,
            timeout_ms: self.rng.gen_range(50..500),
        }
    }

    fn bulk(&mut self) -> Op {
        Op::Bulk {
            ep: self.endpoint(),
            len: self.length(),
            timeout_ms: self.rng.gen_range(5..100),
            cbw_prefix: self.rng.gen_bool(0.3),
        }
    }

    /// A SCSI command block and the data length and direction it implies.
    fn cdb(&mut self) -> (Vec<u8>, u32, bool) {
        let rng = &mut self.rng;
        let lba = match rng.gen_range(0..10) {
            0..=6 => rng.gen_range(0..BLOCKS),
            7 => BLOCKS - rng.gen_range(1..9),
            8 => BLOCKS + rng.gen_range(0..9),
            _ => rng.gen(),
        };
        let blocks = match rng.gen_range(0..10) {
            0 => 0,
            1..=7 => rng.gen_range(1..=128),
            8 => rng.gen_range(128..=2048),
            _ => rng.gen_range(0..=0xffff),
        };
        match rng.gen_range(0..20) {
            0 => (scsi::test_unit_ready(), 0, false),
            1 => {
                let alloc = *[18, 252, 0, 8].choose(rng).unwrap_or(&18);
                (scsi::request_sense(alloc), u32::from(alloc), true)
            }
            2 | 3 => {
                let evpd = rng.gen_bool(0.5);
                let page = *[0x00, 0x80, 0x83, 0xb0, 0xb1, 0xff]
                    .choose(rng)
                    .unwrap_or(&0);
                let alloc = *[36, 255, 0, 5, 96, 4096].choose(rng).unwrap_or(&36);
                (scsi::inquiry(evpd, page, alloc), u32::from(alloc), true)
            }
            4 => (scsi::read_capacity_10(), 8, true),
            5 => (scsi::read_capacity_16(32), 32, true),
            6..=9 => {
                let lba = u32::try_from(lba).unwrap_or(u32::MAX);
                let blocks = u16::try_from(blocks).unwrap_or(u16::MAX);
                (scsi::read_10(lba, blocks), u32::from(blocks) * 512, true)
            }
            10 => (scsi::read_16(lba, blocks), blocks * 512, true),
            11 => {
                let page = *[0x3f, 0x08, 0x1c, 0x00, 0x2a].choose(rng).unwrap_or(&0x3f);
                let alloc = *[4, 192, 255, 0].choose(rng).unwrap_or(&192);
                (scsi::mode_sense_6(page, alloc), u32::from(alloc), true)
            }
            12 => (scsi::mode_sense_10(0x3f, 512), 512, true),
            13 => {
                let lba = u32::try_from(lba).unwrap_or(u32::MAX);
                let blocks = u16::try_from(blocks.min(16)).unwrap_or(1);
                (scsi::write_10(lba, blocks), u32::from(blocks) * 512, false)
            }
            14 => {
                let opcode = *[0x0a, 0xaa, 0x8a, 0x2f, 0x1b, 0x1e, 0x35, 0x15, 0x55]
                    .choose(rng)
                    .unwrap_or(&0x0a);
                let mut cdb = vec![opcode, 0, 0, 0, 1, 0, 0, 0, 1, 0];
                if matches!(opcode, 0xaa | 0x8a) {
                    cdb.resize(if opcode == 0xaa { 12 } else { 16 }, 0);
                }
                let len = if matches!(opcode, 0x0a | 0xaa | 0x8a | 0x15 | 0x55) {
                    512
                } else {
                    0
                };
                (cdb, len, false)
            }
            15 => (scsi::read_format_capacities(252), 252, true),
            16 => {
                let opcode: u8 = rng.gen();
                (vec![opcode, 0, 0, 0, 0, 0], 0, false)
            }
            _ => {
                let len = rng.gen_range(1..=16);
                let cdb = (0..len).map(|_| rng.gen()).collect();
                (cdb, rng.gen_range(0..4096), rng.gen())
            }
        }
    }

    fn command(&mut self) -> Op {
        let (cdb, expected, data_in) = self.cdb();
        let mut cbw = Cbw::new(self.rng.gen(), expected, data_in, &cdb);
        let mut wire_len = CBW_LEN as u32;
        let mut data = match (expected, data_in) {
            (0, _) => DataStage::None,
            (n, true) => DataStage::In(n),
            (n, false) => DataStage::Out(n),
        };
        let rng = &mut self.rng;
        match rng.gen_range(0..10) {
            // Well-formed: as usb-storage would send it.
            0..=3 => {}
            // The thirteen cases: announce and move different amounts or directions.
            4..=6 => {
                cbw.data_len = *CBW_LENGTHS.choose(rng).unwrap_or(&0);
                cbw.flags = *[0, FLAG_IN, FLAG_IN, 0x40, 0x81, 0xff]
                    .choose(rng)
                    .unwrap_or(&0);
                let n = if rng.gen_bool(0.5) {
                    cbw.data_len.min(1 << 20)
                } else {
                    rng.gen_range(0..70_000)
                };
                data = *[DataStage::None, DataStage::In(n), DataStage::Out(n)]
                    .choose(rng)
                    .unwrap_or(&DataStage::None);
            }
            // Not a valid or meaningful CBW.
            _ => match rng.gen_range(0..6) {
                0 => {
                    cbw.signature = if rng.gen_bool(0.5) {
                        rng.gen()
                    } else {
                        CBW_SIGNATURE.swap_bytes()
                    }
                }
                1 => cbw.cb_len = *[0, 17, 31, 255].choose(rng).unwrap_or(&0),
                2 => cbw.lun = *[1, 0x0f, 0x80, 0xff].choose(rng).unwrap_or(&1),
                3 => wire_len = *[0, 1, 13, 30, 32, 64, 512, 4096].choose(rng).unwrap_or(&30),
                4 => cbw.flags |= 0x3f,
                _ => {
                    cbw.cb = rng.gen();
                    cbw.cb_len = rng.gen_range(1..=16);
                }
            },
        }
        let status_len = if self.rng.gen_bool(0.85) {
            13
        } else {
            *[0, 12, 14, 31, 512].choose(&mut self.rng).unwrap_or(&0)
        };
        Op::Command {
            cbw,
            wire_len,
            data,
            status_len,
            clear_stalls: self.rng.gen_bool(0.7),
        }
    }

    fn urbs(&mut self) -> Op {
        let count = self.rng.gen_range(1..=6);
        let urbs = (0..count)
            .map(|_| {
                let ep = match self.rng.gen_range(0..10) {
                    0..=5 => Endpoint::BulkIn,
                    6..=8 => Endpoint::BulkOut,
                    _ => self.endpoint(),
                };
                let len = if ep == Endpoint::BulkOut && self.rng.gen_bool(0.5) {
                    CBW_LEN as u32
                } else {
                    self.length()
                };
                (ep, len)
            })
            .collect();
        Op::Urbs {
            urbs,
            wait_ms: self.rng.gen_range(0..50),
        }
    }

    fn interrupted(&mut self) -> Op {
        let rng = &mut self.rng;
        let blocks: u16 = rng.gen_range(64..=2048);
        let lba = rng.gen_range(0..BLOCKS as u32 - u32::from(blocks));
        let data_len = u32::from(blocks) * 512;
        let urbs = rng.gen_range(1..=4);
        let urb_len = if rng.gen_bool(0.7) {
            data_len.div_ceil(u32::from(urbs))
        } else {
            *[512, 4096, 65536].choose(rng).unwrap_or(&512)
        };
        Op::Interrupted {
            cbw: Cbw::new(rng.gen(), data_len, true, &scsi::read_10(lba, blocks)),
            urbs,
            urb_len,
            after_us: rng.gen_range(0..3000),
            by: match rng.gen_range(0..5) {
                0 if self.profile == Profile::Alone => Interruption::PortReset,
                1 => Interruption::MassStorageReset,
                2 => Interruption::ClearHalt,
                _ => Interruption::Unlink,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_plan() {
        let plan = |seed| {
            let mut g = Generator::new(seed, Profile::Alone);
            (0..500).map(|_| g.op()).collect::<Vec<_>>()
        };
        assert_eq!(plan(7), plan(7));
        assert_ne!(plan(7), plan(8));
    }

    #[test]
    fn profiles_keep_to_their_ops() {
        let mut shared = Generator::new(1, Profile::SharedFd);
        assert!((0..5000).all(|_| !shared.op().drops_claim()));
        let mut other = Generator::new(1, Profile::OtherFd);
        assert!((0..2000).all(|_| matches!(other.op(), Op::Control { .. } | Op::ControlUrb { .. })));
    }

    #[test]
    fn round_seeds_differ() {
        assert_ne!(round_seed(1, 0, 0), round_seed(1, 1, 0));
        assert_ne!(round_seed(1, 0, 0), round_seed(1, 0, 1));
        assert_eq!(round_seed(5, 3, 2), round_seed(5, 3, 2));
    }
}
