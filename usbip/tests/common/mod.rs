//! A USB/IP client for the tests: builds command streams and splits reply streams, checking
//! every reply header strictly.

#![allow(dead_code)] // each test file uses part of it

use vusbkey_usbip::header::{parse_command, parse_reply, Command, Reply, HEADER_LEN};

/// The devid the tests' sessions serve.
pub(crate) const DEVID: u32 = 0x0001_0001;

/// A test image: `blocks` blocks of a pattern without 'U' (0x55).
pub(crate) fn image_bytes(blocks: usize) -> Vec<u8> {
    (0..blocks * 512)
        .map(|i| ((i * 7 + i / 512) % 0x50) as u8)
        .collect()
}

/// A `CMD_SUBMIT` header (and its OUT data).
pub(crate) fn submit(
    seqnum: u32,
    dir_in: bool,
    ep: u32,
    length: u32,
    setup: [u8; 8],
    out: &[u8],
) -> Vec<u8> {
    let mut h = vec![0u8; HEADER_LEN];
    let words = [1, seqnum, DEVID, u32::from(dir_in), ep, 0, length, 0, 0, 0];
    for (i, w) in words.iter().enumerate() {
        h[i * 4..i * 4 + 4].copy_from_slice(&w.to_be_bytes());
    }
    h[40..48].copy_from_slice(&setup);
    h.extend_from_slice(out);
    h
}

/// A control IN transfer.
pub(crate) fn control_in(seqnum: u32, setup: [u8; 8]) -> Vec<u8> {
    let len = u32::from(u16::from_le_bytes([setup[6], setup[7]]));
    submit(seqnum, true, 0, len, setup, &[])
}

/// A control transfer with no data stage.
pub(crate) fn control_nodata(seqnum: u32, setup: [u8; 8]) -> Vec<u8> {
    submit(seqnum, false, 0, 0, setup, &[])
}

/// SET_CONFIGURATION(1).
pub(crate) fn set_configuration(seqnum: u32) -> Vec<u8> {
    control_nodata(seqnum, [0, 9, 1, 0, 0, 0, 0, 0])
}

/// A bulk-IN transfer of `len` bytes.
pub(crate) fn bulk_in(seqnum: u32, len: u32) -> Vec<u8> {
    submit(seqnum, true, 1, len, [0; 8], &[])
}

/// A bulk-OUT transfer.
pub(crate) fn bulk_out(seqnum: u32, data: &[u8]) -> Vec<u8> {
    submit(seqnum, false, 2, data.len() as u32, [0; 8], data)
}

/// A `CMD_UNLINK`.
pub(crate) fn unlink(seqnum: u32, victim: u32) -> Vec<u8> {
    let mut h = vec![0u8; HEADER_LEN];
    for (i, w) in [2, seqnum, DEVID, 0, 0, victim].iter().enumerate() {
        h[i * 4..i * 4 + 4].copy_from_slice(&w.to_be_bytes());
    }
    h
}

/// A CBW (BOT 1.0 §5.1) with a 10-byte CDB.
pub(crate) fn cbw(tag: u32, length: u32, dir_in: bool, cdb: &[u8]) -> Vec<u8> {
    let mut c = b"USBC".to_vec();
    c.extend_from_slice(&tag.to_le_bytes());
    c.extend_from_slice(&length.to_le_bytes());
    c.push(if dir_in { 0x80 } else { 0 });
    c.push(0);
    c.push(cdb.len() as u8);
    let mut block = [0u8; 16];
    block[..cdb.len()].copy_from_slice(cdb);
    c.extend_from_slice(&block);
    c
}

/// READ(10) of `count` blocks at `lba`.
pub(crate) fn read10(lba: u32, count: u16) -> Vec<u8> {
    let mut cdb = vec![0x28, 0];
    cdb.extend_from_slice(&lba.to_be_bytes());
    cdb.push(0);
    cdb.extend_from_slice(&count.to_be_bytes());
    cdb.push(0);
    cdb
}

/// Splits a reply stream into (header, IN data), checking each header strictly. IN data
/// follows a `RET_SUBMIT` whose seqnum is in `in_seqnums`.
pub(crate) fn replies(mut out: &[u8], in_seqnums: &[u32]) -> Vec<(Reply, Vec<u8>)> {
    let mut all = Vec::new();
    while !out.is_empty() {
        assert!(out.len() >= HEADER_LEN, "truncated reply header");
        let h: [u8; HEADER_LEN] = out[..HEADER_LEN].try_into().unwrap();
        let reply = parse_reply(&h).expect("well-formed reply");
        out = &out[HEADER_LEN..];
        let data = match reply {
            Reply::Submit(r) if in_seqnums.contains(&r.seqnum) => {
                let n = r.actual_length as usize;
                assert!(out.len() >= n, "IN data shorter than actual_length");
                let (data, rest) = out.split_at(n);
                out = rest;
                data.to_vec()
            }
            _ => Vec::new(),
        };
        all.push((reply, data));
    }
    all
}

/// `stream` (commands built by this module) with every command's devid set to `devid`.
pub(crate) fn for_devid(mut stream: Vec<u8>, devid: u32) -> Vec<u8> {
    let mut at = 0;
    while at + HEADER_LEN <= stream.len() {
        let h: [u8; HEADER_LEN] = stream[at..at + HEADER_LEN].try_into().unwrap();
        let out = match parse_command(&h).expect("a command built here") {
            Command::Submit(s) => s.out_len() as usize,
            Command::Unlink(_) => 0,
        };
        stream[at + 8..at + 12].copy_from_slice(&devid.to_be_bytes());
        at += HEADER_LEN + out;
    }
    stream
}
