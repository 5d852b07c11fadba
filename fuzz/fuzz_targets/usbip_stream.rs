//! Fuzzes `vusbkey-usbip` with arbitrary byte streams from a client, through the same code
//! a connection runs: the first input byte picks the mode (even: the URB phase of a
//! vhci-hcd socketpair; odd: a TCP client starting with an operation request), the rest is
//! the stream. Checks: no panic; every reply is well-formed (the operation reply, then
//! RET_SUBMIT/RET_UNLINK headers with the fields a server must zero at zero, each
//! RET_SUBMIT for a submitted URB, at most once, never more data than requested, IN data
//! only for IN URBs, RET_UNLINK only for unlink requests); the image unchanged.

#![no_main]

use std::collections::{HashMap, HashSet};
use std::io::BufReader;
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use vusbkey_device::{BlockDevice, Speed};
use vusbkey_usbip::header::{parse_command, parse_reply, Command, Direction, Reply, HEADER_LEN};
use vusbkey_usbip::identity::IdentityOptions;
use vusbkey_usbip::image::Image;
use vusbkey_usbip::key::Key;
use vusbkey_usbip::server::Exports;

fn image() -> Vec<u8> {
    (0..64 * 512).map(|i| ((i * 7 + i / 512) % 0x50) as u8).collect()
}

/// What the client sent, as far as it parses: IN/OUT lengths of submits, unlink seqnums.
#[derive(Default)]
struct Sent {
    submits: HashMap<u32, (Direction, u32)>,
    unlinks: HashSet<u32>,
}

fn commands(mut stream: &[u8]) -> Sent {
    let mut sent = Sent::default();
    while let Some(h) = stream.get(..HEADER_LEN) {
        let Ok(command) = parse_command(h.try_into().unwrap()) else {
            break;
        };
        stream = &stream[HEADER_LEN..];
        match command {
            Command::Submit(s) => {
                if s.direction == Direction::Out {
                    stream = stream.get(s.length as usize..).unwrap_or(&[]);
                }
                sent.submits.insert(s.seqnum, (s.direction, s.length));
            }
            Command::Unlink(u) => {
                sent.unlinks.insert(u.seqnum);
            }
        }
    }
    sent
}

/// Checks the URB-phase replies in `out` against what was sent.
fn check_replies(mut out: &[u8], sent: &Sent) {
    let mut answered = HashSet::new();
    while !out.is_empty() {
        let h: [u8; HEADER_LEN] = out
            .get(..HEADER_LEN)
            .expect("truncated reply header")
            .try_into()
            .unwrap();
        out = &out[HEADER_LEN..];
        match parse_reply(&h).expect("malformed reply") {
            Reply::Submit(r) => {
                let &(direction, length) =
                    sent.submits.get(&r.seqnum).expect("RET_SUBMIT for nothing submitted");
                assert!(answered.insert(r.seqnum), "two RET_SUBMITs for one URB");
                assert!(r.actual_length <= length, "more than requested");
                assert!(r.status <= 0, "positive status");
                if direction == Direction::In {
                    out = out
                        .get(r.actual_length as usize..)
                        .expect("IN data shorter than actual_length");
                }
            }
            Reply::Unlink(r) => {
                assert!(sent.unlinks.contains(&r.seqnum), "RET_UNLINK for no unlink");
                assert!(r.status == 0 || r.status == -104, "unlink status");
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, stream)) = data.split_first() else {
        return;
    };
    let bytes = image();
    let image = Image::new("fuzz.img".into(), Arc::from(bytes.clone())).unwrap();
    // Bit 1 of the mode picks the speed: the descriptors and requests differ.
    let speed = if mode & 2 != 0 { Speed::Super } else { Speed::High };
    let key = Key::new(image, &IdentityOptions::default(), None, speed, 0).unwrap();
    let mut out = Vec::new();
    let mut reader = BufReader::new(stream);
    if mode % 2 == 0 {
        let mut session = key.session().unwrap();
        let _ = session.serve(&mut reader, &mut out);
        check_replies(&out, &commands(stream));
    } else {
        let keys = [key];
        let exports = Exports::new(&keys);
        let _ = exports.handle(&mut reader, &mut out, |_| {});
        if out.is_empty() {
            return;
        }
        assert_eq!(&out[..2], &[0x01, 0x11], "version");
        let status = u32::from_be_bytes(out[4..8].try_into().unwrap());
        match (out[2], out[3]) {
            (0, 5) => {
                assert_eq!(status, 0);
                assert_eq!(out.len(), 12 + 312 + 4, "one device with one interface");
            }
            (0, 3) if status == 0 => {
                // The URB phase starts after OP_REQ_IMPORT (8 + 32 bytes).
                let urbs = stream.get(40..).unwrap_or(&[]);
                check_replies(&out[8 + 312..], &commands(urbs));
            }
            (0, 3) => assert!(out.len() == 8 && (status == 2 || status == 4)),
            other => panic!("unexpected reply code {other:?}"),
        }
        assert_unchanged(&keys[0], &bytes);
        return;
    }
    assert_unchanged(&key, &bytes);
});

/// The disk the device serves still reads back as the original image.
fn assert_unchanged(key: &Key, original: &[u8]) {
    let mut now = vec![0u8; original.len()];
    key.image.disk().read(0, &mut now).unwrap();
    assert!(now == original, "image changed");
}
