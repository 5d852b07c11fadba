//! Invalid CBWs (BOT 1.0 §6.2, §6.6.1): both bulk pipes stall until Reset Recovery
//! (BOT 1.0 §5.3.4); CLEAR_FEATURE(ENDPOINT_HALT) alone does not un-stall them.

mod common;
use common::*;
use vusbkey_device::{Handshake, Stall, BULK_IN_ENDPOINT, BULK_OUT_ENDPOINT};

const TUR: [u8; 6] = [0, 0, 0, 0, 0, 0];

/// Both pipes stall, and only the full Reset Recovery brings them back.
fn assert_stalled_until_reset_recovery(h: &mut Host<'_>) {
    assert_eq!(h.bulk_in_vec(13), Err(Handshake::Stall));
    assert_eq!(h.dev.bulk_out(&cbw(1, 0, false, &TUR)), Err(Stall));
    assert!(h.is_halted(BULK_IN_ENDPOINT));
    assert!(h.is_halted(BULK_OUT_ENDPOINT));
    // Clearing the halts without the reset: acknowledged, but still stalled.
    h.clear_halt(BULK_IN_ENDPOINT);
    h.clear_halt(BULK_OUT_ENDPOINT);
    assert!(h.is_halted(BULK_IN_ENDPOINT));
    assert!(h.is_halted(BULK_OUT_ENDPOINT));
    assert_eq!(h.bulk_in_vec(13), Err(Handshake::Stall));
    assert_eq!(h.dev.bulk_out(&cbw(2, 0, false, &TUR)), Err(Stall));
    // The reset alone keeps the stall conditions (BOT 1.0 §3.1).
    h.bulk_only_reset();
    assert!(h.is_halted(BULK_IN_ENDPOINT));
    assert!(h.is_halted(BULK_OUT_ENDPOINT));
    assert_eq!(h.bulk_in_vec(13), Err(Handshake::Stall));
    // Then clear-halt IN and OUT: the device takes the next CBW.
    h.clear_halt(BULK_IN_ENDPOINT);
    assert!(!h.is_halted(BULK_IN_ENDPOINT));
    assert!(h.is_halted(BULK_OUT_ENDPOINT));
    h.clear_halt(BULK_OUT_ENDPOINT);
    assert!(!h.is_halted(BULK_OUT_ENDPOINT));
    let r = h.command(&TUR, 0, Dir::None);
    assert_eq!(r.csw.status, PASSED);
    assert!(!r.csw_stalled);
}

fn check_invalid(bytes: &[u8]) {
    let disk = TestDisk::new(8);
    let mut h = Host::ready(&disk);
    // The transfer itself is received; the device reacts by stalling.
    assert_eq!(h.dev.bulk_out(bytes), Ok(bytes.len()), "{bytes:02x?}");
    assert_stalled_until_reset_recovery(&mut h);
}

#[test]
fn wrong_length() {
    let good = cbw(7, 0, false, &TUR);
    check_invalid(&good[..30]);
    check_invalid(&[good.as_slice(), &[0]].concat());
    check_invalid(&[]);
    check_invalid(&[0u8; 512]);
}

#[test]
fn wrong_signature() {
    let mut b = cbw(7, 0, false, &TUR);
    b[0] = b'u';
    check_invalid(&b);
    let mut b = cbw(7, 0, false, &TUR);
    b[..4].copy_from_slice(b"USBS");
    check_invalid(&b);
}

#[test]
fn not_meaningful() {
    // Reserved bits of bmCBWFlags.
    let mut b = cbw(7, 0, false, &TUR);
    b[12] = 0x01;
    check_invalid(&b);
    let mut b = cbw(7, 36, true, &TUR);
    b[12] = 0xc0;
    check_invalid(&b);
    // A LUN the device does not have; reserved bits of bCBWLUN.
    let mut b = cbw(7, 0, false, &TUR);
    b[13] = 1;
    check_invalid(&b);
    let mut b = cbw(7, 0, false, &TUR);
    b[13] = 0x10;
    check_invalid(&b);
    // bCBWCBLength 0, 17, and reserved bits.
    for len in [0u8, 17, 0x26] {
        let mut b = cbw(7, 0, false, &TUR);
        b[14] = len;
        check_invalid(&b);
    }
}

#[test]
fn cbw_not_after_a_csw() {
    // During a data-in stage.
    let disk = TestDisk::new(8);
    let mut h = Host::ready(&disk);
    h.send_cbw(1024, true, &read10(0, 2));
    assert_eq!(h.bulk_in_vec(512).unwrap().len(), 512);
    h.dev.bulk_out(&cbw(9, 0, false, &TUR)).unwrap();
    assert_stalled_until_reset_recovery(&mut h);
    // While the CSW has not been read.
    let mut h = Host::ready(&disk);
    h.send_cbw(0, false, &TUR);
    h.dev.bulk_out(&cbw(9, 0, false, &TUR)).unwrap();
    assert_stalled_until_reset_recovery(&mut h);
    // More data-out bytes than dCBWDataTransferLength, in the same transfer.
    let mut h = Host::ready(&disk);
    h.send_cbw(10, false, &TUR);
    h.dev.bulk_out(&[0u8; 41]).unwrap();
    assert_stalled_until_reset_recovery(&mut h);
}

#[test]
fn reset_recovery_drops_the_pending_command() {
    let disk = TestDisk::new(8);
    let mut h = Host::ready(&disk);
    // Abandon a data-in stage half way, as usb-storage does after a timeout.
    h.send_cbw(2048, true, &read10(0, 4));
    assert_eq!(h.bulk_in_vec(512).unwrap(), disk.block(0));
    h.reset_recovery();
    // Nothing of the old command is left: bulk-IN has nothing to send.
    assert_eq!(h.bulk_in_vec(2048), Err(Handshake::Nak));
    assert_eq!(h.data_in(&read10(1, 1), 512), disk.block(1));
}

#[test]
fn bulk_only_reset_clears_sense_but_keeps_halts() {
    let disk = TestDisk::new(8);
    let mut h = Host::ready(&disk);
    h.command(&[0xff, 0, 0, 0, 0, 0], 0, Dir::None);
    h.set_halt(BULK_OUT_ENDPOINT);
    h.bulk_only_reset();
    assert!(h.is_halted(BULK_OUT_ENDPOINT));
    h.clear_halt(BULK_OUT_ENDPOINT);
    assert_eq!(h.sense(), NO_SENSE);
}

#[test]
fn set_configuration_also_recovers() {
    let disk = TestDisk::new(8);
    let mut h = Host::ready(&disk);
    h.dev.bulk_out(&[0u8; 30]).unwrap();
    assert_eq!(h.bulk_in_vec(13), Err(Handshake::Stall));
    // Re-configuring resets all endpoint state (USB 2.0 §9.1.1.5), wedge included.
    h.control_out(setup(OUT_DEVICE, 9, 1, 0, 0)).unwrap();
    assert!(!h.is_halted(BULK_IN_ENDPOINT));
    assert!(!h.is_halted(BULK_OUT_ENDPOINT));
    assert_eq!(h.command(&TUR, 0, Dir::None).csw.status, FAILED);
    assert_eq!(h.sense(), RESET_OCCURRED);
}
