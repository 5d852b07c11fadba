//! The URB phase against the real device model, over in-memory streams: enumeration,
//! whole-disk reads, refused writes, NAK and unlink, and the connection-level errors.

mod common;

use std::io::BufReader;
use std::sync::Arc;

use vusbkey_device::Speed;

use common::*;
use vusbkey_usbip::errno;
use vusbkey_usbip::header::{Reply, RetSubmit, RetUnlink};
use vusbkey_usbip::identity::IdentityOptions;
use vusbkey_usbip::image::Image;
use vusbkey_usbip::key::Key;
use vusbkey_usbip::session::{SessionError, MAX_TRANSFER};

fn key(blocks: usize) -> Key {
    let image = Image::new("test.img".into(), Arc::from(image_bytes(blocks))).unwrap();
    Key::new(image, &IdentityOptions::default(), None, Speed::Super, 0).unwrap()
}

/// Runs one connection that sends `input`; returns the session's result and its output.
fn run(key: &Key, input: &[u8]) -> (Result<(), SessionError>, Vec<u8>) {
    let mut session = key.session().unwrap();
    let mut out = Vec::new();
    let result = session.serve(&mut BufReader::new(input), &mut out);
    (result, out)
}

fn ret(seqnum: u32, status: i32, actual_length: u32) -> Reply {
    Reply::Submit(RetSubmit {
        seqnum,
        status,
        actual_length,
        number_of_packets: 0,
    })
}

#[test]
fn enumerates_with_the_module_identity_and_image_serial() {
    let key = key(64);
    let mut input = control_in(1, [0x80, 6, 0, 1, 0, 0, 18, 0]);
    input.extend(control_in(2, [0x80, 6, 3, 3, 0x09, 0x04, 255, 0]));
    input.extend(set_configuration(3));
    let (result, out) = run(&key, &input);
    result.unwrap();
    let r = replies(&out, &[1, 2]);
    assert_eq!(r.len(), 3);
    let device = &r[0].1;
    assert_eq!(r[0].0, ret(1, 0, 18));
    assert_eq!(
        &device[8..12],
        &[0x09, 0x12, 0x01, 0x00],
        "idVendor 0x1209, idProduct 0x0001"
    );
    let serial: String = char::decode_utf16(
        r[1].1[2..]
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]])),
    )
    .map(Result::unwrap)
    .collect();
    assert_eq!(serial, key.image.default_serial());
    assert_eq!(r[2].0, ret(3, 0, 0));
}

#[test]
fn whole_disk_reads_back_and_writes_are_refused() {
    let key = key(64);
    let image = image_bytes(64);
    let mut input = set_configuration(1);
    // TEST UNIT READY takes the unit attention a configuration raises (SAM-5).
    input.extend(bulk_out(2, &cbw(6, 0, false, &[0; 6])));
    input.extend(bulk_in(3, 13));
    input.extend(bulk_out(4, &cbw(7, 64 * 512, true, &read10(0, 64))));
    input.extend(bulk_in(5, 64 * 512));
    input.extend(bulk_in(6, 13));
    // WRITE(10) of one block: DATA PROTECT.
    let mut write = vec![0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0];
    input.extend(bulk_out(7, &cbw(8, 512, false, &write)));
    input.extend(bulk_out(8, &[0xaa; 512]));
    input.extend(bulk_in(9, 13));
    write.clear();
    let (result, out) = run(&key, &input);
    result.unwrap();
    let r = replies(&out, &[3, 5, 6, 9]);
    let r = &r[2..];
    assert_eq!(r[2].0, ret(5, 0, 64 * 512));
    assert!(r[2].1 == image, "the disk reads back as the image");
    let csw = &r[3].1;
    assert_eq!(&csw[..4], b"USBS");
    assert_eq!(&csw[4..8], &7u32.to_le_bytes());
    assert_eq!(csw[12], 0, "READ passed");
    assert_eq!(r[5].0, ret(8, 0, 512), "OUT data accepted");
    assert_eq!(r[6].1[12], 1, "WRITE failed");
}

/// The reply headers, without their data.
fn headers(replies: &[(Reply, Vec<u8>)]) -> Vec<Reply> {
    replies.iter().map(|(h, _)| *h).collect()
}

fn ret_unlink(seqnum: u32, status: i32) -> Reply {
    Reply::Unlink(RetUnlink { seqnum, status })
}

/// vhci_tx.c can send an URB's CMD_UNLINK ahead of its CMD_SUBMIT. The unlink cancels it
/// (-ECONNRESET), and the submit, when it comes, is dropped unrun and unanswered: vhci-hcd
/// has given the URB back and would end the connection on a RET_SUBMIT for it.
#[test]
fn unlink_ahead_of_its_submit_cancels_it() {
    let key = key(8);
    let mut input = set_configuration(1);
    input.extend(unlink(3, 2));
    // Its submit: a CBW the device must never see (the OUT data is read and dropped).
    input.extend(bulk_out(2, &cbw(9, 0, false, &[0; 6])));
    // So the next CBW starts a command normally, and its CSW follows.
    input.extend(bulk_out(4, &cbw(10, 0, false, &[0; 6])));
    input.extend(bulk_in(5, 13));
    // An URB unlinked after it completed: status 0, as before.
    input.extend(unlink(6, 4));
    let (result, out) = run(&key, &input);
    result.unwrap();
    let r = replies(&out, &[5]);
    assert_eq!(
        headers(&r),
        [
            ret(1, 0, 0),
            ret_unlink(3, -errno::ECONNRESET),
            ret(4, 0, 31),
            ret(5, 0, 13),
            ret_unlink(6, 0),
        ]
    );
    assert_eq!(&r[3].1[..4], b"USBS");
    assert_eq!(
        u32::from_le_bytes(r[3].1[4..8].try_into().unwrap()),
        10,
        "the CSW of the CBW that ran"
    );
}

#[test]
fn nak_queues_bulk_in_and_unlink_cancels_it() {
    let key = key(8);
    let mut input = set_configuration(1);
    // Two reads before any command: both NAKed and held, no reply.
    input.extend(bulk_in(2, 13));
    input.extend(bulk_in(3, 13));
    // Cancel the first: RET_UNLINK -ECONNRESET, and never a RET_SUBMIT for it.
    input.extend(unlink(4, 2));
    // TEST UNIT READY: the second held read gets its CSW.
    input.extend(bulk_out(5, &cbw(9, 0, false, &[0; 6])));
    // Unlinking a completed URB: status 0.
    input.extend(unlink(6, 3));
    let (result, out) = run(&key, &input);
    result.unwrap();
    let r = replies(&out, &[2, 3]);
    assert_eq!(
        headers(&r),
        [
            ret(1, 0, 0),
            ret_unlink(4, -errno::ECONNRESET),
            ret(5, 0, 31),
            ret(3, 0, 13),
            ret_unlink(6, 0),
        ]
    );
    assert_eq!(&r[3].1[..4], b"USBS");
}

#[test]
fn oversized_transfers_fail_alone() {
    let key = key(8);
    let mut input = set_configuration(1);
    input.extend(bulk_in(2, MAX_TRANSFER + 1));
    // An oversized OUT transfer's data is read and dropped.
    let big = vec![0u8; MAX_TRANSFER as usize + 1];
    input.extend(submit(3, false, 2, big.len() as u32, [0; 8], &big));
    input.extend(control_in(4, [0x80, 6, 0, 1, 0, 0, 18, 0]));
    let (result, out) = run(&key, &input);
    result.unwrap();
    let r = replies(&out, &[2, 4]);
    assert_eq!(r[1].0, ret(2, -errno::EMSGSIZE, 0));
    assert_eq!(r[2].0, ret(3, -errno::EMSGSIZE, 0));
    assert_eq!(r[3].0, ret(4, 0, 18), "the connection goes on");
}

#[test]
fn unknown_endpoints_and_wrong_directions_stall() {
    let key = key(8);
    let mut input = set_configuration(1);
    input.extend(submit(2, true, 3, 64, [0; 8], &[]));
    input.extend(submit(3, false, 1, 0, [0; 8], &[]));
    // GET_DESCRIPTOR whose setup says IN on an OUT pipe.
    input.extend(submit(4, false, 0, 0, [0x80, 6, 0, 1, 0, 0, 18, 0], &[]));
    let (result, out) = run(&key, &input);
    result.unwrap();
    let r = replies(&out, &[2]);
    assert_eq!(r[1].0, ret(2, -errno::EPIPE, 0));
    assert_eq!(r[2].0, ret(3, -errno::EPIPE, 0));
    assert_eq!(r[3].0, ret(4, -errno::EPIPE, 0));
}

#[test]
fn connection_errors_end_the_session() {
    let key = key(8);
    let mut other = set_configuration(1);
    other[8..12].copy_from_slice(&0x0002_0001u32.to_be_bytes());
    let (result, out) = run(&key, &other);
    assert!(matches!(
        result,
        Err(SessionError::DevId {
            expected: DEVID,
            got: 0x0002_0001
        })
    ));
    assert!(out.is_empty());

    let (result, _) = run(&key, &set_configuration(1)[..30]);
    assert!(matches!(result, Err(SessionError::Truncated)));

    let mut truncated_out = bulk_out(1, &[0; 31]);
    truncated_out.truncate(60);
    assert!(matches!(
        run(&key, &truncated_out).0,
        Err(SessionError::Truncated)
    ));

    let mut garbage = set_configuration(1);
    garbage[3] = 9;
    assert!(matches!(
        run(&key, &garbage).0,
        Err(SessionError::Header(_))
    ));
}

mod property {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Any stream of well-framed commands with arbitrary fields and payloads: every
        /// reply is well-formed, IN data matches actual_length, nothing exceeds the request.
        #[test]
        fn arbitrary_commands_get_well_formed_replies(
            commands in proptest::collection::vec(
                (any::<bool>(), 0u32..4, 0u32..600, any::<[u8; 8]>(), any::<bool>(), any::<u8>()),
                1..40,
            )
        ) {
            let key = key(8);
            let mut input = set_configuration(0);
            let mut in_seqnums = Vec::new();
            let mut lengths = std::collections::HashMap::new();
            for (i, (dir_in, ep, len, setup, is_unlink, victim)) in commands.into_iter().enumerate() {
                let seq = i as u32 + 1;
                if is_unlink {
                    input.extend(unlink(seq, u32::from(victim)));
                    continue;
                }
                let out = if dir_in { Vec::new() } else { vec![0x11; len as usize] };
                if dir_in { in_seqnums.push(seq); }
                lengths.insert(seq, len);
                input.extend(submit(seq, dir_in, ep, len, setup, &out));
            }
            let (result, out) = run(&key, &input);
            prop_assert!(result.is_ok());
            for (reply, _) in replies(&out, &in_seqnums) {
                if let Reply::Submit(r) = reply {
                    if r.seqnum != 0 {
                        prop_assert!(r.actual_length <= lengths[&r.seqnum]);
                    }
                }
            }
        }
    }
}

#[test]
fn a_seqnum_used_again_ends_the_connection() {
    let key = key(8);
    let mut input = set_configuration(1);
    input.extend(bulk_in(1, 13));
    let (result, out) = run(&key, &input);
    assert!(
        matches!(
            result,
            Err(SessionError::SeqnumOrder { seqnum: 1, last: 1 })
        ),
        "{result:?}"
    );
    assert_eq!(replies(&out, &[]).len(), 1, "only the first URB answered");
}
