//! Each SCSI command, good and bad; writes refused; out-of-range LBAs; sense data and unit
//! attention; medium eject and load.

mod common;
use common::*;

const TUR: [u8; 6] = [0x00, 0, 0, 0, 0, 0];

fn ascii(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

// ---- TEST UNIT READY (00h) ----

#[test]
fn test_unit_ready() {
    let disk = TestDisk::new(64);
    let mut h = Host::ready(&disk);
    assert_eq!(h.command(&TUR, 0, Dir::None).csw.status, PASSED);
    // Bad: no medium (after an eject).
    h.command(&[0x1b, 0, 0, 0, 0x02, 0], 0, Dir::None);
    assert_eq!(h.failing(&TUR, 0, Dir::None), MEDIUM_NOT_PRESENT);
}

// ---- REQUEST SENSE (03h) ----

#[test]
fn request_sense() {
    let disk = TestDisk::new(64);
    let mut h = Host::ready(&disk);
    // No sense: fixed format, current error, additional length 10.
    assert_eq!(
        h.data_in(&[0x03, 0, 0, 0, 18, 0], 18),
        [0x70, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    );
    // After a failure it reports the sense data once, then it is cleared.
    h.command(&[0xff, 0, 0, 0, 0, 0], 0, Dir::None);
    assert_eq!(
        h.data_in(&[0x03, 0, 0, 0, 18, 0], 18),
        [0x70, 0, 0x05, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x20, 0, 0, 0, 0, 0]
    );
    assert_eq!(h.sense(), NO_SENSE);
    // A passing command clears the previous command's sense data.
    h.command(&[0xff, 0, 0, 0, 0, 0], 0, Dir::None);
    assert_eq!(h.command(&TUR, 0, Dir::None).csw.status, PASSED);
    assert_eq!(h.sense(), NO_SENSE);
    // Allocation length cuts the data (and still clears).
    h.command(&[0xff, 0, 0, 0, 0, 0], 0, Dir::None);
    assert_eq!(h.data_in(&[0x03, 0, 0, 0, 3, 0], 3), [0x70, 0, 0x05]);
    assert_eq!(h.sense(), NO_SENSE);
    // A larger allocation length gets 18 bytes (case 5 for the rest).
    let r = h.command(&[0x03, 0, 0, 0, 252, 0], 252, Dir::In);
    assert_eq!(
        (r.data.len(), r.csw.residue, r.data_stalled),
        (18, 234, false)
    );
    assert!(r.csw_stalled);
    // Bad: DESC 1 asks for descriptor-format sense data, which is not supported.
    assert_eq!(
        h.failing(&[0x03, 0x01, 0, 0, 18, 0], 18, Dir::In),
        INVALID_FIELD
    );
}

// ---- INQUIRY (12h) ----

const STANDARD_INQUIRY: [&[u8]; 4] = [
    &[0x00, 0x80, 0x02, 0x02, 31, 0, 0, 0],
    b"VUSBKEY ",
    b"AUTH KEY        ",
    b"0.1 ",
];

#[test]
fn inquiry_standard() {
    let disk = TestDisk::new(64);
    let mut h = Host::configured(&disk);
    // INQUIRY works with the unit attention pending, and leaves it pending.
    assert_eq!(
        h.data_in(&[0x12, 0, 0, 0, 36, 0], 36),
        ascii(&STANDARD_INQUIRY)
    );
    assert_eq!(h.failing(&TUR, 0, Dir::None), RESET_OCCURRED);
    // Allocation length in bytes 3..4 (SPC-4); short allocation cuts the data.
    assert_eq!(
        h.data_in(&[0x12, 0, 0, 0, 5, 0], 5),
        [0x00, 0x80, 0x02, 0x02, 31]
    );
    let r = h.command(&[0x12, 0, 0, 0x01, 0x00, 0], 256, Dir::In);
    assert_eq!((r.data, r.csw.residue), (ascii(&STANDARD_INQUIRY), 220));
}

#[test]
fn inquiry_vpd_pages() {
    let disk = TestDisk::new(64);
    let mut h = Host::ready(&disk);
    assert_eq!(
        h.data_in(&[0x12, 1, 0x00, 0, 255, 0], 255),
        [0, 0x00, 0, 3, 0x00, 0x80, 0x83]
    );
    assert_eq!(
        h.data_in(&[0x12, 1, 0x80, 0, 255, 0], 255),
        ascii(&[&[0, 0x80, 0, 16], b"0123456789ABCDEF"])
    );
    assert_eq!(
        h.data_in(&[0x12, 1, 0x83, 0, 255, 0], 255),
        ascii(&[
            &[0, 0x83, 0, 44, 0x02, 0x01, 0x00, 40],
            b"VUSBKEY ",
            b"AUTH KEY        ",
            b"0123456789ABCDEF",
        ])
    );
}

#[test]
fn inquiry_largest_identity_fits() {
    let disk = TestDisk::new(64);
    let serial: &'static str = "F".repeat(126).leak();
    let id = vusbkey_device::Identity {
        serial,
        inquiry_vendor: "12345678",
        inquiry_product: "0123456789ABCDEF",
        ..identity()
    };
    let mut h = Host {
        dev: vusbkey_device::Device::new(id, &disk, vusbkey_device::Speed::High).unwrap(),
        tag: 1,
    };
    h.enumerate();
    let page = h.data_in(&[0x12, 1, 0x83, 0, 255, 0], 255);
    assert_eq!(page.len(), 8 + 8 + 16 + 126);
    assert_eq!(page[3] as usize, page.len() - 4);
    assert_eq!(page[7] as usize, page.len() - 8);
    assert_eq!(&page[8 + 24..], serial.as_bytes());
    let page = h.data_in(&[0x12, 1, 0x80, 0, 255, 0], 255);
    assert_eq!(page.len(), 4 + 126);
    assert_eq!(&page[4..], serial.as_bytes());
}

#[test]
fn inquiry_bad_fields() {
    let disk = TestDisk::new(64);
    let mut h = Host::ready(&disk);
    // EVPD 0 with a page code; unsupported VPD page; obsolete CMDDT.
    for cdb in [
        [0x12, 0, 0x80, 0, 36, 0],
        [0x12, 1, 0xb0, 0, 36, 0],
        [0x12, 2, 0, 0, 36, 0],
    ] {
        assert_eq!(h.failing(&cdb, 36, Dir::In), INVALID_FIELD, "{cdb:02x?}");
    }
}

// ---- MODE SENSE(6) (1Ah) and MODE SENSE(10) (5Ah) ----

fn caching_page() -> Vec<u8> {
    let mut p = vec![0x08, 0x12];
    p.extend([0u8; 18]);
    p
}

#[test]
fn mode_sense_6() {
    let disk = TestDisk::new(64);
    let mut h = Host::ready(&disk);
    // Header: length 23, medium type 0, WP set, no block descriptors; the caching page.
    let want = [vec![23, 0, 0x80, 0], caching_page()].concat();
    for page in [
        0x3f, 0x08, 0xbf, /* default values */
        0x48, /* changeable */
    ] {
        let r = h.command(&[0x1a, 0, page, 0, 192, 0], 192, Dir::In);
        assert_eq!(
            (r.csw.status, &r.data),
            (PASSED, &want),
            "page byte {page:02x}"
        );
    }
    assert_eq!(h.data_in(&[0x1a, 0x08, 0x3f, 0xff, 192, 0], 192), want);
    // Linux reads the 4-byte header first to see WP.
    assert_eq!(h.data_in(&[0x1a, 0, 0x3f, 0, 4, 0], 4), [23, 0, 0x80, 0]);
}

#[test]
fn mode_sense_10() {
    let disk = TestDisk::new(64);
    let mut h = Host::ready(&disk);
    let want = [vec![0, 26, 0, 0x80, 0, 0, 0, 0], caching_page()].concat();
    assert_eq!(
        h.data_in(&[0x5a, 0, 0x3f, 0, 0, 0, 0, 0, 255, 0], 255),
        want
    );
    assert_eq!(
        h.data_in(&[0x5a, 0x18, 0x08, 0, 0, 0, 0, 0, 255, 0], 255),
        want
    );
    assert_eq!(
        h.data_in(&[0x5a, 0, 0x3f, 0, 0, 0, 0, 0, 8, 0], 8),
        want[..8]
    );
}

#[test]
fn mode_sense_bad_fields() {
    let disk = TestDisk::new(64);
    let mut h = Host::ready(&disk);
    // Saved values.
    assert_eq!(
        h.failing(&[0x1a, 0, 0xff, 0, 192, 0], 192, Dir::In),
        SAVING_NOT_SUPPORTED
    );
    assert_eq!(
        h.failing(&[0x5a, 0, 0xc8, 0, 0, 0, 0, 0, 255, 0], 255, Dir::In),
        SAVING_NOT_SUPPORTED
    );
    // Pages this device does not have; a subpage of the caching page.
    for b2_b3 in [(0x0a, 0), (0x1c, 0), (0x00, 0), (0x08, 0x01), (0x3f, 0x01)] {
        let cdb = [0x1a, 0, b2_b3.0, b2_b3.1, 192, 0];
        assert_eq!(h.failing(&cdb, 192, Dir::In), INVALID_FIELD, "{cdb:02x?}");
    }
}

// ---- PREVENT ALLOW MEDIUM REMOVAL (1Eh) and START STOP UNIT (1Bh) ----

#[test]
fn prevent_allow_medium_removal() {
    let disk = TestDisk::new(64);
    let mut h = Host::ready(&disk);
    let prevent = [0x1e, 0, 0, 0, 1, 0];
    let allow = [0x1e, 0, 0, 0, 0, 0];
    let eject = [0x1b, 0, 0, 0, 0x02, 0];
    assert_eq!(h.command(&prevent, 0, Dir::None).csw.status, PASSED);
    assert_eq!(h.failing(&eject, 0, Dir::None), REMOVAL_PREVENTED);
    assert_eq!(h.command(&TUR, 0, Dir::None).csw.status, PASSED);
    assert_eq!(h.command(&allow, 0, Dir::None).csw.status, PASSED);
    assert_eq!(h.command(&eject, 0, Dir::None).csw.status, PASSED);
    assert_eq!(h.failing(&TUR, 0, Dir::None), MEDIUM_NOT_PRESENT);
    // Bad: the obsolete persistent-prevent values.
    for value in [2u8, 3] {
        assert_eq!(
            h.failing(&[0x1e, 0, 0, 0, value, 0], 0, Dir::None),
            INVALID_FIELD
        );
    }
}

#[test]
fn start_stop_unit() {
    let disk = TestDisk::new(64);
    let mut h = Host::ready(&disk);
    let stop = [0x1b, 0, 0, 0, 0x00, 0];
    let start = [0x1b, 1, 0, 0, 0x01, 0];
    let eject = [0x1b, 0, 0, 0, 0x02, 0];
    let load = [0x1b, 0, 0, 0, 0x03, 0];
    // Stop and start are accepted (no power conditions are modelled).
    assert_eq!(h.command(&stop, 0, Dir::None).csw.status, PASSED);
    assert_eq!(h.command(&start, 0, Dir::None).csw.status, PASSED);
    assert_eq!(h.command(&load, 0, Dir::None).csw.status, PASSED);
    assert_eq!(h.command(&TUR, 0, Dir::None).csw.status, PASSED);
    // Eject: medium gone for media commands; INQUIRY and MODE SENSE still work.
    assert_eq!(h.command(&eject, 0, Dir::None).csw.status, PASSED);
    assert_eq!(h.failing(&read10(0, 1), 512, Dir::In), MEDIUM_NOT_PRESENT);
    assert_eq!(
        h.failing(&[0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0], 8, Dir::In),
        MEDIUM_NOT_PRESENT
    );
    assert_eq!(h.data_in(&[0x12, 0, 0, 0, 36, 0], 36).len(), 36);
    assert_eq!(h.data_in(&[0x1a, 0, 0x3f, 0, 4, 0], 4).len(), 4);
    assert_eq!(h.failing(&start, 0, Dir::None), MEDIUM_NOT_PRESENT);
    // Load: the medium is back, with a unit attention (not ready to ready change).
    assert_eq!(h.command(&load, 0, Dir::None).csw.status, PASSED);
    assert_eq!(h.failing(&TUR, 0, Dir::None), MEDIUM_CHANGED);
    assert_eq!(h.data_in(&read10(0, 1), 512), disk.block(0));
    // Bad: a power condition.
    assert_eq!(
        h.failing(&[0x1b, 0, 0, 0, 0x11, 0], 0, Dir::None),
        INVALID_FIELD
    );
}

// ---- READ CAPACITY(10) (25h), READ CAPACITY(16) (9Eh/10h), READ FORMAT CAPACITIES (23h) ----

#[test]
fn read_capacity_10() {
    let disk = TestDisk::new(64);
    let mut h = Host::ready(&disk);
    let want = [0, 0, 0, 63, 0, 0, 0x02, 0x00];
    assert_eq!(h.data_in(&[0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0], 8), want);
    // PMI 1 with an address is accepted (returns the last LBA).
    assert_eq!(h.data_in(&[0x25, 0, 0, 0, 0, 9, 0, 0, 1, 0], 8), want);
    // Bad: PMI 0 with a nonzero address.
    assert_eq!(
        h.failing(&[0x25, 0, 0, 0, 0, 9, 0, 0, 0, 0], 8, Dir::In),
        INVALID_FIELD
    );
}

#[test]
fn read_capacity_16() {
    let disk = TestDisk::new(64);
    let mut h = Host::ready(&disk);
    let mut cdb = [0u8; 16];
    cdb[0] = 0x9e;
    cdb[1] = 0x10;
    cdb[13] = 32;
    let mut want = vec![0, 0, 0, 0, 0, 0, 0, 63, 0, 0, 0x02, 0x00];
    want.extend([0u8; 20]);
    assert_eq!(h.data_in(&cdb, 32), want);
    cdb[13] = 12;
    assert_eq!(h.data_in(&cdb, 12), want[..12]);
    // Bad: PMI 0 with a nonzero address; another SERVICE ACTION IN(16) service action.
    cdb[9] = 1;
    assert_eq!(h.failing(&cdb, 12, Dir::In), INVALID_FIELD);
    cdb[9] = 0;
    cdb[1] = 0x12;
    assert_eq!(h.failing(&cdb, 12, Dir::In), INVALID_COMMAND);
}

#[test]
fn read_format_capacities() {
    let disk = TestDisk::new(64);
    let mut h = Host::ready(&disk);
    let cdb = [0x23, 0, 0, 0, 0, 0, 0, 0, 0xfc, 0];
    let r = h.command(&cdb, 0xfc, Dir::In);
    assert_eq!(r.data, [0, 0, 0, 8, 0, 0, 0, 64, 0x02, 0x00, 0x02, 0x00]);
    assert_eq!((r.csw.status, r.csw.residue), (PASSED, 0xfc - 12));
    // Windows sends it as a 12-byte UFI command: a longer CDB length is fine.
    let ufi = [0x23, 0, 0, 0, 0, 0, 0, 0, 12, 0, 0, 0];
    assert_eq!(h.data_in(&ufi, 12).len(), 12);
    // Bad: no medium.
    h.command(&[0x1b, 0, 0, 0, 0x02, 0], 0, Dir::None);
    assert_eq!(h.failing(&cdb, 0xfc, Dir::In), MEDIUM_NOT_PRESENT);
}

// ---- READ(6) (08h), READ(10) (28h), READ(12) (A8h), READ(16) (88h) ----

fn read6(lba: u32, blocks: u8) -> Vec<u8> {
    let [_, a, b, c] = lba.to_be_bytes();
    vec![0x08, a, b, c, blocks, 0]
}

fn read12(lba: u32, blocks: u32) -> Vec<u8> {
    let mut c = vec![0xa8, 0];
    c.extend(lba.to_be_bytes());
    c.extend(blocks.to_be_bytes());
    c.extend([0, 0]);
    c
}

fn read16(lba: u64, blocks: u32) -> Vec<u8> {
    let mut c = vec![0x88, 0];
    c.extend(lba.to_be_bytes());
    c.extend(blocks.to_be_bytes());
    c.extend([0, 0]);
    c
}

#[test]
fn read_commands_return_the_image() {
    let disk = TestDisk::new(300);
    let mut h = Host::ready(&disk);
    let img = |lba: usize, n: usize| disk.image[lba * 512..(lba + n) * 512].to_vec();
    assert_eq!(h.data_in(&read6(7, 3), 3 * 512), img(7, 3));
    // READ(6) transfer length 0 means 256 blocks.
    assert_eq!(h.data_in(&read6(1, 0), 256 * 512), img(1, 256));
    assert_eq!(h.data_in(&read10(299, 1), 512), img(299, 1));
    assert_eq!(h.data_in(&read12(100, 17), 17 * 512), img(100, 17));
    assert_eq!(h.data_in(&read16(250, 50), 50 * 512), img(250, 50));
    // DPO and FUA are accepted.
    let mut c = read10(2, 1);
    c[1] = 0x18;
    assert_eq!(h.data_in(&c, 512), img(2, 1));
    // Transfer length 0: nothing to read, not an error.
    assert_eq!(h.command(&read10(300, 0), 0, Dir::None).csw.status, PASSED);
}

#[test]
fn read_out_of_range() {
    let disk = TestDisk::new(300);
    let mut h = Host::ready(&disk);
    for cdb in [
        read10(300, 1),
        read10(299, 2),
        read10(301, 0),
        read6(299, 2),
        read12(u32::MAX, 1),
        read16(u64::MAX, 1),
        read16(u64::MAX - 1, u32::MAX),
        read16(1 << 56, 1),
    ] {
        disk.reads.borrow_mut().clear();
        assert_eq!(
            h.failing(&cdb, 1024, Dir::In),
            LBA_OUT_OF_RANGE,
            "{cdb:02x?}"
        );
        assert!(
            disk.reads.borrow().is_empty(),
            "no disk access for {cdb:02x?}"
        );
    }
}

#[test]
fn read_bad_fields() {
    let disk = TestDisk::new(64);
    let mut h = Host::ready(&disk);
    // RDPROTECT: there is no protection information.
    let mut c10 = read10(0, 1);
    c10[1] = 0x20;
    let mut c12 = read12(0, 1);
    c12[1] = 0x40;
    let mut c16 = read16(0, 1);
    c16[1] = 0xe0;
    for cdb in [c10, c12, c16] {
        assert_eq!(h.failing(&cdb, 512, Dir::In), INVALID_FIELD, "{cdb:02x?}");
    }
}

// ---- WRITE(6) (0Ah), WRITE(10) (2Ah), WRITE(12) (AAh), WRITE(16) (8Ah) ----

#[test]
fn writes_are_refused_and_the_image_is_unchanged() {
    let disk = TestDisk::new(64);
    let before = disk.image.clone();
    let mut h = Host::ready(&disk);
    let w12 = vec![0xaa, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0];
    let w16 = vec![0x8a, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0];
    for cdb in [vec![0x0a, 0, 0, 4, 2, 0], write10(5, 2), w12, w16] {
        disk.reads.borrow_mut().clear();
        // The host sends its data; the device takes it, throws it away, and fails.
        assert_eq!(
            h.failing(&cdb, 1024, Dir::Out(0xee)),
            WRITE_PROTECTED,
            "{cdb:02x?}"
        );
        assert!(disk.reads.borrow().is_empty());
    }
    // Zero blocks: no data stage, still refused.
    assert_eq!(h.failing(&write10(0, 0), 0, Dir::None), WRITE_PROTECTED);
    // Out of range: write protection is reported first.
    assert_eq!(
        h.failing(&write10(1000, 1), 512, Dir::Out(1)),
        WRITE_PROTECTED
    );
    // WRITE(6) transfer length 0 is 256 blocks.
    assert_eq!(
        h.failing(&[0x0a, 0, 0, 0, 0, 0], 256 * 512, Dir::Out(2)),
        WRITE_PROTECTED
    );
    assert_eq!(disk.image, before);
    assert_eq!(h.data_in(&read10(0, 64), 64 * 512), before);
}

// ---- VERIFY(10) (2Fh) and SYNCHRONIZE CACHE(10) (35h) ----

fn lba_cmd(op: u8, lba: u32, blocks: u16) -> Vec<u8> {
    let mut c = read10(lba, blocks);
    c[0] = op;
    c
}

#[test]
fn verify_10() {
    let disk = TestDisk::new(64);
    let mut h = Host::ready(&disk);
    assert_eq!(
        h.command(&lba_cmd(0x2f, 0, 64), 0, Dir::None).csw.status,
        PASSED
    );
    assert_eq!(
        h.failing(&lba_cmd(0x2f, 60, 5), 0, Dir::None),
        LBA_OUT_OF_RANGE
    );
    // BYTCHK would need data to compare; VRPROTECT needs protection information.
    for b1 in [0x02, 0x04, 0x20] {
        let mut c = lba_cmd(0x2f, 0, 1);
        c[1] = b1;
        assert_eq!(
            h.failing(&c, 0, Dir::None),
            INVALID_FIELD,
            "byte 1 = {b1:02x}"
        );
    }
}

#[test]
fn synchronize_cache_10() {
    let disk = TestDisk::new(64);
    let mut h = Host::ready(&disk);
    assert_eq!(
        h.command(&lba_cmd(0x35, 0, 0), 0, Dir::None).csw.status,
        PASSED
    );
    assert_eq!(
        h.command(&lba_cmd(0x35, 10, 54), 0, Dir::None).csw.status,
        PASSED
    );
    assert_eq!(
        h.failing(&lba_cmd(0x35, 65, 0), 0, Dir::None),
        LBA_OUT_OF_RANGE
    );
    assert_eq!(
        h.failing(&lba_cmd(0x35, 10, 55), 0, Dir::None),
        LBA_OUT_OF_RANGE
    );
}

// ---- anything else ----

#[test]
fn unsupported_commands() {
    let disk = TestDisk::new(64);
    let mut h = Host::ready(&disk);
    // FORMAT UNIT, MODE SELECT(6), REPORT LUNS, WRITE SAME(10), a vendor opcode, ...
    for cdb in [
        vec![0x04, 0, 0, 0, 0, 0],
        vec![0x15, 0x10, 0, 0, 0, 0],
        vec![0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0],
        vec![0x41, 0, 0, 0, 0, 0, 0, 0, 1, 0],
        vec![0xff],
        vec![0x91; 16],
    ] {
        assert_eq!(h.failing(&cdb, 0, Dir::None), INVALID_COMMAND, "{cdb:02x?}");
    }
    // With a data stage the host expected: case 4 / case 9 handling.
    let r = h.command(&[0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0], 16, Dir::In);
    assert_eq!(
        (r.csw.status, r.csw.residue, r.data_stalled),
        (FAILED, 16, true)
    );
    let r = h.command(&[0x15, 0x10, 0, 0, 12, 0], 12, Dir::Out(0));
    assert_eq!((r.csw.status, r.csw.residue), (FAILED, 12));
    assert_eq!(h.sense(), INVALID_COMMAND);
}

#[test]
fn cdb_shorter_than_the_command_is_a_phase_error() {
    let disk = TestDisk::new(64);
    let mut h = Host::ready(&disk);
    let r = h.command(&[0x28, 0, 0, 0, 0, 0], 512, Dir::In);
    assert_eq!((r.csw.status, r.data_stalled), (PHASE_ERROR, true));
    h.reset_recovery();
    let r = h.command(&[0x12, 0, 0, 0, 36], 0, Dir::None);
    assert_eq!(r.csw.status, PHASE_ERROR);
    h.reset_recovery();
    // Longer than needed is fine (Windows sends 12 for 6-byte commands).
    let mut long = [0u8; 12];
    long[..6].copy_from_slice(&[0x12, 0, 0, 0, 36, 0]);
    assert_eq!(h.data_in(&long, 36).len(), 36);
}

// ---- unit attention ----

#[test]
fn unit_attention_after_configuration() {
    let disk = TestDisk::new(64);
    // Reported to the first command other than INQUIRY / REQUEST SENSE, even an invalid
    // or unsupported one, which is then not run.
    for cdb in [
        TUR.to_vec(),
        read10(1000, 1),
        vec![0xff],
        vec![0x1e, 0, 0, 0, 3, 0],
    ] {
        let mut h = Host::configured(&disk);
        assert_eq!(h.failing(&cdb, 0, Dir::None), RESET_OCCURRED, "{cdb:02x?}");
        assert_eq!(h.command(&TUR, 0, Dir::None).csw.status, PASSED);
    }
    // REQUEST SENSE with nothing else pending reports the unit attention and clears it.
    let mut h = Host::configured(&disk);
    assert_eq!(h.sense(), RESET_OCCURRED);
    assert_eq!(h.command(&TUR, 0, Dir::None).csw.status, PASSED);
    // With other sense data pending, REQUEST SENSE reports that and keeps the unit
    // attention (INQUIRY with a bad field fails without consuming it).
    let mut h = Host::configured(&disk);
    assert_eq!(
        h.failing(&[0x12, 1, 0x42, 0, 36, 0], 36, Dir::In),
        INVALID_FIELD
    );
    assert_eq!(h.failing(&TUR, 0, Dir::None), RESET_OCCURRED);
}
