//! The thirteen host/device cases of BOT 1.0 §6.7, one scripted conversation each, plus
//! split data stages, scatter-gather, and CSW delivery.

mod common;
use common::*;
use vusbkey_device::{Handshake, BULK_IN_ENDPOINT, BULK_OUT_ENDPOINT};

const TUR: [u8; 6] = [0x00, 0, 0, 0, 0, 0];
const INQUIRY_36: [u8; 6] = [0x12, 0, 0, 0, 36, 0];
const REQUEST_SENSE_18: [u8; 6] = [0x03, 0, 0, 0, 18, 0];

/// The CSW must be the very next bulk-IN transfer, without a stall.
fn csw_now(h: &mut Host<'_>, tag: u32) -> Csw {
    let csw = parse_csw(&h.bulk_in_vec(64).expect("CSW without stall"));
    assert_eq!(csw.tag, tag);
    csw
}

/// Bulk-IN must be halted; clear it and read the CSW.
fn stall_then_csw(h: &mut Host<'_>, tag: u32) -> Csw {
    assert_eq!(h.bulk_in_vec(512), Err(Handshake::Stall));
    assert!(h.is_halted(BULK_IN_ENDPOINT));
    h.clear_halt(BULK_IN_ENDPOINT);
    csw_now(h, tag)
}

/// After a phase error the host does Reset Recovery; the device must then work.
fn recover_and_check(h: &mut Host<'_>) {
    h.reset_recovery();
    assert_eq!(h.command(&TUR, 0, Dir::None).csw.status, PASSED);
}

#[test]
fn case_01_hn_eq_dn() {
    let disk = TestDisk::new(64);
    let mut h = Host::ready(&disk);
    let tag = h.send_cbw(0, false, &TUR);
    assert_eq!(
        csw_now(&mut h, tag),
        Csw {
            tag,
            residue: 0,
            status: PASSED
        }
    );
    // A failing command with no data on either side: status 1, residue 0.
    let tag = h.send_cbw(0, false, &[0xff, 0, 0, 0, 0, 0]);
    assert_eq!(
        csw_now(&mut h, tag),
        Csw {
            tag,
            residue: 0,
            status: FAILED
        }
    );
    assert_eq!(h.sense(), INVALID_COMMAND);
}

#[test]
fn case_02_hn_lt_di() {
    let disk = TestDisk::new(64);
    let mut h = Host::ready(&disk);
    // Leave sense data behind, to show that the phase-error command does not run.
    h.command(&[0xff, 0, 0, 0, 0, 0], 0, Dir::None);
    let tag = h.send_cbw(0, true, &REQUEST_SENSE_18);
    assert_eq!(
        csw_now(&mut h, tag),
        Csw {
            tag,
            residue: 0,
            status: PHASE_ERROR
        }
    );
    // The REQUEST SENSE that did not run did not clear the sense data.
    assert_eq!(h.sense(), INVALID_COMMAND);
    recover_and_check(&mut h);
}

#[test]
fn case_03_hn_lt_do() {
    let disk = TestDisk::new(64);
    let mut h = Host::ready(&disk);
    let tag = h.send_cbw(0, false, &write10(0, 1));
    assert_eq!(
        csw_now(&mut h, tag),
        Csw {
            tag,
            residue: 0,
            status: PHASE_ERROR
        }
    );
    recover_and_check(&mut h);
}

#[test]
fn case_04_hi_gt_dn() {
    let disk = TestDisk::new(64);
    let mut h = Host::ready(&disk);
    // TEST UNIT READY passes but has no data: stall bulk-IN, residue = Hi.
    let tag = h.send_cbw(512, true, &TUR);
    assert_eq!(
        stall_then_csw(&mut h, tag),
        Csw {
            tag,
            residue: 512,
            status: PASSED
        }
    );
    // A command that fails before its data stage: the same, with status 1.
    let tag = h.send_cbw(512, true, &read10(64, 1));
    assert_eq!(
        stall_then_csw(&mut h, tag),
        Csw {
            tag,
            residue: 512,
            status: FAILED
        }
    );
    assert_eq!(h.sense(), LBA_OUT_OF_RANGE);
    // No Reset Recovery needed: the next command just works.
    assert_eq!(h.command(&TUR, 0, Dir::None).csw.status, PASSED);
}

#[test]
fn case_05_hi_gt_di() {
    let disk = TestDisk::new(64);
    let mut h = Host::ready(&disk);
    // 36 bytes of INQUIRY data for a 512-byte request: short transfer, then stall.
    let tag = h.send_cbw(512, true, &INQUIRY_36);
    let data = h.bulk_in_vec(512).unwrap();
    assert_eq!(data.len(), 36);
    assert_eq!(
        stall_then_csw(&mut h, tag),
        Csw {
            tag,
            residue: 476,
            status: PASSED
        }
    );
    // One block of READ for two blocks' worth: the data, then stall.
    let tag = h.send_cbw(1024, true, &read10(5, 1));
    assert_eq!(h.bulk_in_vec(1024).unwrap(), disk.block(5));
    assert_eq!(
        stall_then_csw(&mut h, tag),
        Csw {
            tag,
            residue: 512,
            status: PASSED
        }
    );
    // The data ends exactly at the end of a transfer: the stall hits the next one.
    let tag = h.send_cbw(1024, true, &read10(6, 1));
    assert_eq!(h.bulk_in_vec(512).unwrap(), disk.block(6));
    assert_eq!(
        stall_then_csw(&mut h, tag),
        Csw {
            tag,
            residue: 512,
            status: PASSED
        }
    );
}

#[test]
fn case_06_hi_eq_di() {
    let disk = TestDisk::new(64);
    let mut h = Host::ready(&disk);
    let tag = h.send_cbw(1024, true, &read10(10, 2));
    assert_eq!(h.bulk_in_vec(1024).unwrap(), disk.image[10 * 512..12 * 512]);
    assert_eq!(
        csw_now(&mut h, tag),
        Csw {
            tag,
            residue: 0,
            status: PASSED
        }
    );
    assert!(!h.is_halted(BULK_IN_ENDPOINT));
}

#[test]
fn case_07_hi_lt_di() {
    let disk = TestDisk::new(64);
    let mut h = Host::ready(&disk);
    // The device sends what the host asked for, then reports a phase error.
    let tag = h.send_cbw(700, true, &read10(10, 2));
    assert_eq!(
        h.bulk_in_vec(4096).unwrap(),
        disk.image[10 * 512..10 * 512 + 700]
    );
    assert_eq!(
        csw_now(&mut h, tag),
        Csw {
            tag,
            residue: 0,
            status: PHASE_ERROR
        }
    );
    recover_and_check(&mut h);
    let tag = h.send_cbw(20, true, &INQUIRY_36);
    assert_eq!(h.bulk_in_vec(64).unwrap().len(), 20);
    assert_eq!(
        csw_now(&mut h, tag),
        Csw {
            tag,
            residue: 0,
            status: PHASE_ERROR
        }
    );
    recover_and_check(&mut h);
}

#[test]
fn case_08_hi_ne_do() {
    let disk = TestDisk::new(64);
    let mut h = Host::ready(&disk);
    let tag = h.send_cbw(512, true, &write10(0, 1));
    assert_eq!(
        stall_then_csw(&mut h, tag),
        Csw {
            tag,
            residue: 512,
            status: PHASE_ERROR
        }
    );
    recover_and_check(&mut h);
}

#[test]
fn case_09_ho_gt_dn() {
    let disk = TestDisk::new(64);
    let mut h = Host::ready(&disk);
    let tag = h.send_cbw(512, false, &TUR);
    assert_eq!(h.dev.bulk_out(&[0xaa; 512]), Ok(512));
    assert_eq!(
        csw_now(&mut h, tag),
        Csw {
            tag,
            residue: 512,
            status: PASSED
        }
    );
}

#[test]
fn case_10_ho_ne_di() {
    let disk = TestDisk::new(64);
    let mut h = Host::ready(&disk);
    let tag = h.send_cbw(36, false, &INQUIRY_36);
    assert_eq!(h.dev.bulk_out(&[0x55; 36]), Ok(36));
    assert_eq!(
        csw_now(&mut h, tag),
        Csw {
            tag,
            residue: 36,
            status: PHASE_ERROR
        }
    );
    recover_and_check(&mut h);
}

#[test]
fn case_11_ho_gt_do() {
    let disk = TestDisk::new(64);
    let before = disk.image.clone();
    let mut h = Host::ready(&disk);
    let tag = h.send_cbw(1024, false, &write10(0, 1));
    assert_eq!(h.dev.bulk_out(&[0xee; 1024]), Ok(1024));
    // Refused: nothing processed, so the residue is the whole length.
    assert_eq!(
        csw_now(&mut h, tag),
        Csw {
            tag,
            residue: 1024,
            status: FAILED
        }
    );
    assert_eq!(h.sense(), WRITE_PROTECTED);
    assert_eq!(disk.image, before);
}

#[test]
fn case_12_ho_eq_do() {
    let disk = TestDisk::new(64);
    let before = disk.image.clone();
    let mut h = Host::ready(&disk);
    let tag = h.send_cbw(512, false, &write10(0, 1));
    assert_eq!(h.dev.bulk_out(&[0xee; 512]), Ok(512));
    assert_eq!(
        csw_now(&mut h, tag),
        Csw {
            tag,
            residue: 512,
            status: FAILED
        }
    );
    assert_eq!(h.sense(), WRITE_PROTECTED);
    assert_eq!(disk.image, before);
}

#[test]
fn case_13_ho_lt_do() {
    let disk = TestDisk::new(64);
    let mut h = Host::ready(&disk);
    let tag = h.send_cbw(512, false, &write10(0, 2));
    assert_eq!(h.dev.bulk_out(&[0xee; 512]), Ok(512));
    assert_eq!(
        csw_now(&mut h, tag),
        Csw {
            tag,
            residue: 512,
            status: PHASE_ERROR
        }
    );
    recover_and_check(&mut h);
}

#[test]
fn data_in_split_over_transfers_and_segments() {
    let disk = TestDisk::new(64);
    let mut h = Host::ready(&disk);
    let tag = h.send_cbw(8 * 512, true, &read10(3, 8));
    let mut got = Vec::new();
    // One byte, then an sg list with an empty segment, then the rest in odd pieces.
    got.extend(h.bulk_in_vec(1).unwrap());
    let (mut a, mut b, mut c, mut d) = (vec![0u8; 3], vec![0u8; 700], vec![], vec![0u8; 1000]);
    let n = h
        .dev
        .bulk_in(&mut [&mut a[..], &mut b[..], &mut c[..], &mut d[..]])
        .unwrap();
    assert_eq!(n, 1703);
    got.extend([a, b, d].concat());
    // A zero-length transfer moves nothing.
    assert_eq!(h.dev.bulk_in(&mut []), Ok(0));
    assert_eq!(h.dev.bulk_in(&mut [&mut [][..]]), Ok(0));
    while got.len() < 8 * 512 {
        got.extend(h.bulk_in_vec(999).unwrap());
    }
    assert_eq!(got, disk.image[3 * 512..11 * 512]);
    assert_eq!(
        csw_now(&mut h, tag),
        Csw {
            tag,
            residue: 0,
            status: PASSED
        }
    );
}

#[test]
fn data_out_split_over_transfers() {
    let disk = TestDisk::new(64);
    let mut h = Host::ready(&disk);
    let tag = h.send_cbw(1024, false, &write10(0, 2));
    assert_eq!(h.dev.bulk_out(&[1; 100]), Ok(100));
    assert_eq!(h.dev.bulk_out(&[]), Ok(0));
    // The host reads before it has sent everything: the device has nothing to send yet,
    // so it NAKs (USB 2.0 §8.5.1) and nothing changes.
    assert_eq!(h.bulk_in_vec(13), Err(Handshake::Nak));
    assert!(!h.is_halted(BULK_IN_ENDPOINT));
    assert_eq!(h.dev.bulk_out(&[2; 924]), Ok(924));
    assert_eq!(
        csw_now(&mut h, tag),
        Csw {
            tag,
            residue: 1024,
            status: FAILED
        }
    );
    assert_eq!(h.sense(), WRITE_PROTECTED);
}

#[test]
fn read_copies_straight_into_the_host_buffers() {
    let disk = TestDisk::new(64);
    let mut h = Host::ready(&disk);
    h.send_cbw(4 * 512, true, &read10(0, 4));
    disk.reads.borrow_mut().clear();
    let mut segs = [vec![0u8; 1000], vec![0u8; 48], vec![0u8; 1000]];
    let ranges: Vec<_> = segs
        .iter()
        .map(|s| (s.as_ptr() as usize, s.as_ptr() as usize + s.len()))
        .collect();
    let mut bufs: Vec<&mut [u8]> = segs.iter_mut().map(|s| &mut s[..]).collect();
    assert_eq!(h.dev.bulk_in(&mut bufs), Ok(2048));
    let reads = disk.reads.borrow().clone();
    // One read per segment, each into the segment itself, at the right disk offset.
    assert_eq!(reads.len(), 3);
    let mut offset = 0u64;
    for ((addr, len, off), (start, end)) in reads.into_iter().zip(ranges) {
        assert_eq!((addr, addr + len, off), (start, end, offset));
        offset += len as u64;
    }
    assert_eq!(segs.concat(), disk.image[..2048]);
}

#[test]
fn read_error_fails_the_command_mid_stage() {
    let disk = TestDisk::new(64);
    let mut h = Host::ready(&disk);
    disk.fail_from.set(Some(3 * 512));
    let tag = h.send_cbw(8 * 512, true, &read10(0, 8));
    let mut segs: Vec<Vec<u8>> = (0..8).map(|_| vec![0u8; 512]).collect();
    let mut bufs: Vec<&mut [u8]> = segs.iter_mut().map(|s| &mut s[..]).collect();
    // Blocks 0..3 arrive; block 3 cannot be read: short transfer, then stall.
    assert_eq!(h.dev.bulk_in(&mut bufs), Ok(3 * 512));
    assert_eq!(segs[..3].concat(), disk.image[..3 * 512]);
    assert_eq!(
        stall_then_csw(&mut h, tag),
        Csw {
            tag,
            residue: 5 * 512,
            status: FAILED
        }
    );
    let r = h.command(&REQUEST_SENSE_18, 18, Dir::In);
    // Fixed format, VALID set, INFORMATION = LBA 3, MEDIUM ERROR / UNRECOVERED READ ERROR.
    assert_eq!(r.data[0], 0xf0);
    assert_eq!(r.data[3..7], 3u32.to_be_bytes());
    assert_eq!((r.data[2], r.data[12], r.data[13]), UNRECOVERED_READ_ERROR);
    disk.fail_from.set(None);
    assert_eq!(h.data_in(&read10(0, 8), 4096), disk.image[..4096]);
}

#[test]
fn csw_delivery() {
    let disk = TestDisk::new(64);
    let mut h = Host::ready(&disk);
    // Into a larger buffer: a short 13-byte transfer.
    let tag = h.send_cbw(0, false, &TUR);
    let mut big = [0u8; 512];
    assert_eq!(h.dev.bulk_in(&mut [&mut big[..]]), Ok(13));
    assert_eq!(
        parse_csw(&big[..13]),
        Csw {
            tag,
            residue: 0,
            status: PASSED
        }
    );
    // Across scatter-gather segments.
    let tag = h.send_cbw(0, false, &TUR);
    let (mut a, mut b) = ([0u8; 5], [0u8; 20]);
    assert_eq!(h.dev.bulk_in(&mut [&mut a[..], &mut b[..]]), Ok(13));
    assert_eq!(parse_csw(&[&a[..], &b[..8]].concat()).tag, tag);
    // A zero-length transfer leaves the CSW for the next one.
    let tag = h.send_cbw(0, false, &TUR);
    assert_eq!(h.dev.bulk_in(&mut []), Ok(0));
    assert_eq!(csw_now(&mut h, tag).tag, tag);
    // Too small a buffer: the packet does not fit and the rest of it is lost; the device
    // waits for the next CBW.
    h.send_cbw(0, false, &TUR);
    assert_eq!(h.bulk_in_vec(4).unwrap(), b"USBS");
    assert_eq!(h.bulk_in_vec(13), Err(Handshake::Nak));
}

#[test]
fn tags_are_echoed_verbatim() {
    let disk = TestDisk::new(64);
    let mut h = Host::ready(&disk);
    for tag in [0, 1, 0xdead_beef, u32::MAX] {
        h.dev.bulk_out(&cbw(tag, 0, false, &TUR)).unwrap();
        assert_eq!(csw_now(&mut h, tag).tag, tag);
    }
}

#[test]
fn reading_with_nothing_to_send_naks_and_changes_nothing() {
    let disk = TestDisk::new(64);
    let mut h = Host::ready(&disk);
    // USB 2.0 §8.5.1: NAK, any number of times, whatever the buffer; no halt, no data.
    for len in [0, 13, 512] {
        assert_eq!(h.bulk_in_vec(len), Err(Handshake::Nak));
    }
    assert!(!h.is_halted(BULK_IN_ENDPOINT));
    assert!(!h.is_halted(BULK_OUT_ENDPOINT));
    // A host that queued its CSW read before the CBW gets the CSW once the CBW is in.
    let tag = h.send_cbw(0, false, &TUR);
    assert_eq!(csw_now(&mut h, tag).status, PASSED);
    assert_eq!(h.bulk_in_vec(13), Err(Handshake::Nak));
    // A halted endpoint stalls instead, even with nothing to send (USB 2.0 §8.4.5).
    h.dev.bulk_out(&[0u8; 30]).unwrap(); // invalid CBW: BOT 1.0 §6.6.1
    assert_eq!(h.bulk_in_vec(13), Err(Handshake::Stall));
}
