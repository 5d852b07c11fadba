//! SCSI command blocks for a read-only direct-access disk, including the ones it must refuse.

/// TEST UNIT READY.
pub fn test_unit_ready() -> Vec<u8> {
    vec![0x00, 0, 0, 0, 0, 0]
}

/// REQUEST SENSE (fixed format) with `alloc` bytes allocated.
pub fn request_sense(alloc: u8) -> Vec<u8> {
    vec![0x03, 0, 0, 0, alloc, 0]
}

/// INQUIRY: standard data, or the VPD `page` when `evpd`.
pub fn inquiry(evpd: bool, page: u8, alloc: u16) -> Vec<u8> {
    let [a0, a1] = alloc.to_be_bytes();
    vec![0x12, u8::from(evpd), page, a0, a1, 0]
}

/// READ CAPACITY(10).
pub fn read_capacity_10() -> Vec<u8> {
    vec![0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0]
}

/// READ CAPACITY(16) (SERVICE ACTION IN(16), action 10h).
pub fn read_capacity_16(alloc: u32) -> Vec<u8> {
    let mut cdb = vec![0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    cdb[10..14].copy_from_slice(&alloc.to_be_bytes());
    cdb
}

/// READ(10) of `blocks` from `lba`.
pub fn read_10(lba: u32, blocks: u16) -> Vec<u8> {
    let mut cdb = vec![0x28, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    cdb[2..6].copy_from_slice(&lba.to_be_bytes());
    cdb[7..9].copy_from_slice(&blocks.to_be_bytes());
    cdb
}

/// READ(16) of `blocks` from `lba`.
pub fn read_16(lba: u64, blocks: u32) -> Vec<u8> {
    let mut cdb = vec![0x88, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    cdb[2..10].copy_from_slice(&lba.to_be_bytes());
    cdb[10..14].copy_from_slice(&blocks.to_be_bytes());
    cdb
}

/// WRITE(10) of `blocks` at `lba`: a read-only disk must refuse it.
pub fn write_10(lba: u32, blocks: u16) -> Vec<u8> {
    let mut cdb = read_10(lba, blocks);
    cdb[0] = 0x2a;
    cdb
}

/// MODE SENSE(6) of `page` (3Fh: all).
pub fn mode_sense_6(page: u8, alloc: u8) -> Vec<u8> {
    vec![0x1a, 0, page, 0, alloc, 0]
}

/// MODE SENSE(10) of `page`.
pub fn mode_sense_10(page: u8, alloc: u16) -> Vec<u8> {
    let [a0, a1] = alloc.to_be_bytes();
    vec![0x5a, 0, page, 0, 0, 0, 0, a0, a1, 0]
}

/// READ FORMAT CAPACITIES.
pub fn read_format_capacities(alloc: u16) -> Vec<u8> {
    let [a0, a1] = alloc.to_be_bytes();
    vec![0x23, 0, 0, 0, 0, 0, 0, a0, a1, 0]
}

/// Sense key of fixed-format sense data (response code 70h/71h), if it is that.
pub fn sense_key(sense: &[u8]) -> Option<u8> {
    match sense {
        [0x70 | 0x71 | 0xf0 | 0xf1, _, key, ..] => Some(key & 0x0f),
        _ => None,
    }
}
