//! Standard requests (USB 2.0 chapter 9, USB 3.2 chapter 9), class requests (BOT 1.0
//! §3), device states, and identity validation.

mod common;
use common::*;
use vusbkey_device::{
    Device, Handshake, Identity, IdentityError, Speed, Stall, BULK_IN_ENDPOINT, BULK_OUT_ENDPOINT,
};

#[test]
fn default_state_allows_only_get_descriptor_and_set_address() {
    let disk = TestDisk::new(8);
    let mut h = Host::attach(&disk);
    assert_eq!(h.dev.address(), 0);
    assert!(!h.dev.is_configured());
    // USB 2.0 §9.4: behaviour not specified in the Default state: Request Error.
    assert_eq!(h.control_in(setup(IN_DEVICE, 0, 0, 0, 2), 2), Err(Stall));
    assert_eq!(h.control_in(setup(IN_DEVICE, 8, 0, 0, 1), 1), Err(Stall));
    assert_eq!(h.control_out(setup(OUT_DEVICE, 9, 1, 0, 0)), Err(Stall));
    assert!(!h.dev.is_configured());
    // No bulk endpoints before configuration.
    assert_eq!(h.dev.bulk_out(&cbw(1, 0, false, &[0; 6])), Err(Stall));
    assert_eq!(h.bulk_in_vec(13), Err(Handshake::Stall));
    // SET_ADDRESS(0) keeps it in the Default state; GET_DESCRIPTOR works.
    assert_eq!(h.control_out(setup(OUT_DEVICE, 5, 0, 0, 0)), Ok(0));
    assert_eq!(h.control_in(setup(IN_DEVICE, 0, 0, 0, 2), 2), Err(Stall));
    assert_eq!(
        h.control_in(setup(IN_DEVICE, 6, 0x0100, 0, 18), 18)
            .unwrap()
            .len(),
        18
    );
}

#[test]
fn set_address() {
    let disk = TestDisk::new(8);
    let mut h = Host::attach(&disk);
    // USB 2.0 §9.4.6: addresses are 0..=127; wIndex and wLength are zero.
    assert_eq!(h.control_out(setup(OUT_DEVICE, 5, 128, 0, 0)), Err(Stall));
    assert_eq!(h.control_out(setup(OUT_DEVICE, 5, 3, 1, 0)), Err(Stall));
    assert_eq!(h.dev.address(), 0);
    h.control_out(setup(OUT_DEVICE, 5, 127, 0, 0)).unwrap();
    assert_eq!(h.dev.address(), 127);
    // Address state: another address, or back to Default with 0.
    h.control_out(setup(OUT_DEVICE, 5, 9, 0, 0)).unwrap();
    assert_eq!(h.dev.address(), 9);
    assert_eq!(
        h.control_in(setup(IN_DEVICE, 0, 0, 0, 2), 2).unwrap(),
        [0, 0]
    );
    h.control_out(setup(OUT_DEVICE, 5, 0, 0, 0)).unwrap();
    assert_eq!(h.dev.address(), 0);
    assert_eq!(h.control_in(setup(IN_DEVICE, 0, 0, 0, 2), 2), Err(Stall));
    // Not in the Configured state.
    h.enumerate();
    assert_eq!(h.control_out(setup(OUT_DEVICE, 5, 9, 0, 0)), Err(Stall));
    assert_eq!(h.dev.address(), 7);
}

#[test]
fn configuration() {
    let disk = TestDisk::new(8);
    let mut h = Host::attach(&disk);
    h.control_out(setup(OUT_DEVICE, 5, 1, 0, 0)).unwrap();
    assert_eq!(h.control_in(setup(IN_DEVICE, 8, 0, 0, 1), 1).unwrap(), [0]);
    // Only configuration 1 exists; the upper byte of wValue is reserved.
    assert_eq!(h.control_out(setup(OUT_DEVICE, 9, 2, 0, 0)), Err(Stall));
    assert_eq!(
        h.control_out(setup(OUT_DEVICE, 9, 0x0101, 0, 0)),
        Err(Stall)
    );
    h.control_out(setup(OUT_DEVICE, 9, 1, 0, 0)).unwrap();
    assert!(h.dev.is_configured());
    assert_eq!(h.control_in(setup(IN_DEVICE, 8, 0, 0, 1), 1).unwrap(), [1]);
    // wLength other than 1 is out of specification.
    assert_eq!(h.control_in(setup(IN_DEVICE, 8, 0, 0, 2), 2), Err(Stall));
    // SET_CONFIGURATION(0): back to Address; the bulk endpoints go away.
    h.control_out(setup(OUT_DEVICE, 9, 0, 0, 0)).unwrap();
    assert!(!h.dev.is_configured());
    assert_eq!(h.dev.address(), 1);
    assert_eq!(h.control_in(setup(IN_DEVICE, 8, 0, 0, 1), 1).unwrap(), [0]);
    assert_eq!(h.bulk_in_vec(13), Err(Handshake::Stall));
    assert_eq!(
        h.control_in(setup(IN_ENDPOINT, 0, 0, 0x81, 2), 2),
        Err(Stall)
    );
}

#[test]
fn get_status() {
    let disk = TestDisk::new(8);
    let mut h = Host::configured(&disk);
    // Bus powered, no remote wakeup; interface status reserved.
    assert_eq!(
        h.control_in(setup(IN_DEVICE, 0, 0, 0, 2), 2).unwrap(),
        [0, 0]
    );
    assert_eq!(
        h.control_in(setup(IN_INTERFACE, 0, 0, 0, 2), 2).unwrap(),
        [0, 0]
    );
    assert_eq!(h.control_in(setup(IN_INTERFACE, 0, 0, 1, 2), 2), Err(Stall));
    for ep in [0x00, 0x80, 0x81, 0x02] {
        assert_eq!(
            h.control_in(setup(IN_ENDPOINT, 0, 0, ep, 2), 2).unwrap(),
            [0, 0]
        );
    }
    // Endpoints the device does not have.
    for ep in [0x01, 0x82, 0x03, 0x0181] {
        assert_eq!(
            h.control_in(setup(IN_ENDPOINT, 0, 0, ep, 2), 2),
            Err(Stall),
            "{ep:x}"
        );
    }
    // wLength must be 2, wValue 0.
    assert_eq!(h.control_in(setup(IN_DEVICE, 0, 0, 0, 1), 1), Err(Stall));
    assert_eq!(h.control_in(setup(IN_DEVICE, 0, 1, 0, 2), 2), Err(Stall));
    // A short buffer gets what fits.
    assert_eq!(h.control_in(setup(IN_DEVICE, 0, 0, 0, 2), 1).unwrap(), [0]);
}

#[test]
fn endpoint_halt_set_and_clear() {
    let disk = TestDisk::new(8);
    let mut h = Host::ready(&disk);
    for ep in [BULK_IN_ENDPOINT, BULK_OUT_ENDPOINT] {
        h.set_halt(ep);
        assert!(h.is_halted(ep));
    }
    assert_eq!(h.bulk_in_vec(13), Err(Handshake::Stall));
    assert_eq!(h.dev.bulk_out(&cbw(1, 0, false, &[0; 6])), Err(Stall));
    for ep in [BULK_IN_ENDPOINT, BULK_OUT_ENDPOINT] {
        h.clear_halt(ep);
        assert!(!h.is_halted(ep));
    }
    // Clearing a halt that is not set is fine (it resets the toggle on a real bus).
    h.clear_halt(BULK_IN_ENDPOINT);
    assert_eq!(h.command(&[0; 6], 0, Dir::None).csw.status, PASSED);
    // ep0 has no halt feature; other features (remote wakeup, test mode) do not exist.
    assert_eq!(h.control_out(setup(OUT_ENDPOINT, 3, 0, 0, 0)), Err(Stall));
    assert_eq!(
        h.control_out(setup(OUT_ENDPOINT, 1, 0, 0x80, 0)),
        Err(Stall)
    );
    assert_eq!(
        h.control_out(setup(OUT_ENDPOINT, 3, 0, 0x83, 0)),
        Err(Stall)
    );
    assert_eq!(h.control_out(setup(OUT_DEVICE, 3, 1, 0, 0)), Err(Stall));
    assert_eq!(
        h.control_out(setup(OUT_DEVICE, 3, 2, 0x0100, 0)),
        Err(Stall)
    );
    assert_eq!(h.control_out(setup(OUT_DEVICE, 1, 1, 0, 0)), Err(Stall));
    assert_eq!(h.control_out(setup(OUT_INTERFACE, 3, 0, 0, 0)), Err(Stall));
}

#[test]
fn endpoint_halt_needs_configured_state() {
    let disk = TestDisk::new(8);
    let mut h = Host::attach(&disk);
    h.control_out(setup(OUT_DEVICE, 5, 1, 0, 0)).unwrap();
    assert_eq!(
        h.control_out(setup(OUT_ENDPOINT, 3, 0, 0x81, 0)),
        Err(Stall)
    );
    assert_eq!(
        h.control_in(setup(IN_ENDPOINT, 0, 0, 0x81, 2), 2),
        Err(Stall)
    );
    // ep0 status is available in the Address state.
    assert_eq!(
        h.control_in(setup(IN_ENDPOINT, 0, 0, 0, 2), 2).unwrap(),
        [0, 0]
    );
}

#[test]
fn interface_requests() {
    let disk = TestDisk::new(8);
    let mut h = Host::attach(&disk);
    h.control_out(setup(OUT_DEVICE, 5, 1, 0, 0)).unwrap();
    // No interface in the Address state.
    assert_eq!(
        h.control_in(setup(IN_INTERFACE, 10, 0, 0, 1), 1),
        Err(Stall)
    );
    assert_eq!(h.control_out(setup(OUT_INTERFACE, 11, 0, 0, 0)), Err(Stall));
    h.control_out(setup(OUT_DEVICE, 9, 1, 0, 0)).unwrap();
    assert_eq!(
        h.control_in(setup(IN_INTERFACE, 10, 0, 0, 1), 1).unwrap(),
        [0]
    );
    assert_eq!(
        h.control_in(setup(IN_INTERFACE, 10, 0, 1, 1), 1),
        Err(Stall)
    );
    assert_eq!(h.control_out(setup(OUT_INTERFACE, 11, 0, 0, 0)), Ok(0));
    // Only alternate setting 0 of interface 0.
    assert_eq!(h.control_out(setup(OUT_INTERFACE, 11, 1, 0, 0)), Err(Stall));
    assert_eq!(h.control_out(setup(OUT_INTERFACE, 11, 0, 1, 0)), Err(Stall));
}

#[test]
fn set_interface_and_set_configuration_reset_the_interface() {
    let disk = TestDisk::new(8);
    for reset in [
        setup(OUT_INTERFACE, 11, 0, 0, 0),
        setup(OUT_DEVICE, 9, 1, 0, 0),
    ] {
        let mut h = Host::ready(&disk);
        // A command waiting for its CSW, and a halted endpoint.
        h.send_cbw(0, false, &[0; 6]);
        h.set_halt(BULK_OUT_ENDPOINT);
        h.control_out(reset).unwrap();
        // USB 2.0 §9.1.1.5: endpoint state back to default; the transport starts over.
        assert!(!h.is_halted(BULK_OUT_ENDPOINT));
        assert_eq!(
            h.bulk_in_vec(13),
            Err(Handshake::Nak),
            "the old CSW is gone"
        );
        // And the unit reports the reset (as f_mass_storage does).
        let r = h.command(&[0; 6], 0, Dir::None);
        assert_eq!(r.csw.status, FAILED);
        assert_eq!(h.sense(), RESET_OCCURRED);
    }
}

/// SET_ISOCH_DELAY (USB 3.2 §9.4.11), which Linux sends to every SuperSpeed device before
/// SET_ADDRESS (`hub.c` `hub_port_init`), and SET_SEL (§9.4.12), which it sends before
/// enabling link power management.
#[test]
fn super_speed_requests() {
    let disk = TestDisk::new(8);
    let set_isoch_delay = setup(OUT_DEVICE, 49, 40, 0, 0);
    let set_sel = setup(OUT_DEVICE, 48, 0, 0, 6);
    let mut sel = [1, 2, 3, 4, 5, 6];

    let mut h = Host::attach_at(&disk, Speed::Super);
    // Any state, the Default state included.
    assert_eq!(h.control_out(set_isoch_delay), Ok(0));
    // SET_SEL needs an address (§9.4.12); its data stage is taken whole.
    assert_eq!(h.dev.control(&set_sel, &mut sel), Err(Stall));
    h.enumerate();
    assert_eq!(h.control_out(set_isoch_delay), Ok(0));
    assert_eq!(h.dev.control(&set_sel, &mut sel), Ok(6));
    // Malformed: wIndex not zero, the wrong length, a data stage shorter than 6 bytes.
    for s in [
        setup(OUT_DEVICE, 49, 40, 1, 0),
        setup(OUT_DEVICE, 49, 40, 0, 2),
        setup(OUT_DEVICE, 48, 0, 0, 4),
        setup(OUT_DEVICE, 48, 1, 0, 6),
        setup(IN_DEVICE, 48, 0, 0, 6),
    ] {
        assert_eq!(h.dev.control(&s, &mut sel), Err(Stall), "{s:02x?}");
    }
    assert_eq!(h.dev.control(&set_sel, &mut sel[..5]), Err(Stall));
    assert!(h.dev.is_configured());

    // A high-speed device knows neither.
    let mut h = Host::configured(&disk);
    assert_eq!(h.control_out(set_isoch_delay), Err(Stall));
    assert_eq!(h.dev.control(&set_sel, &mut sel), Err(Stall));
}

#[test]
fn unknown_and_malformed_requests_stall() {
    let disk = TestDisk::new(8);
    let mut h = Host::configured(&disk);
    for s in [
        setup(OUT_DEVICE, 7, 0x0100, 0, 18), // SET_DESCRIPTOR
        setup(IN_ENDPOINT, 12, 0, 0x81, 2),  // SYNCH_FRAME: no isochronous endpoint
        setup(0x40, 0x01, 0, 0, 0),          // vendor request
        setup(IN_DEVICE, 0x42, 0, 0, 4),     // unknown standard request
        setup(CLASS_OUT, 0xff, 1, 0, 0),     // Bulk-Only reset with wValue 1
        setup(CLASS_OUT, 0xff, 0, 1, 0),     // ... of interface 1
        setup(CLASS_IN, 0xff, 0, 0, 0),      // ... as an IN request
        setup(CLASS_IN, 0xfe, 0, 0, 2),      // Get Max LUN with wLength 2
        setup(CLASS_IN, 0xfe, 0, 1, 1),      // ... of interface 1
        setup(CLASS_OUT, 0xfe, 0, 0, 1),     // ... as an OUT request
        setup(CLASS_OUT, 0xfc, 0, 0, 0),     // another class request
    ] {
        let mut buf = [0u8; 64];
        assert_eq!(h.dev.control(&s, &mut buf), Err(Stall), "{s:02x?}");
    }
}

#[test]
fn get_max_lun_is_zero() {
    let disk = TestDisk::new(8);
    let mut h = Host::configured(&disk);
    assert_eq!(
        h.control_in(setup(CLASS_IN, 0xfe, 0, 0, 1), 1).unwrap(),
        [0]
    );
    // Only once configured: the interface does not exist before.
    let mut h = Host::attach(&disk);
    h.control_out(setup(OUT_DEVICE, 5, 1, 0, 0)).unwrap();
    assert_eq!(h.control_in(setup(CLASS_IN, 0xfe, 0, 0, 1), 1), Err(Stall));
    assert_eq!(h.control_out(setup(CLASS_OUT, 0xff, 0, 0, 0)), Err(Stall));
}

#[test]
fn bus_reset_returns_to_default_state() {
    let disk = TestDisk::new(8);
    let mut h = Host::ready(&disk);
    // Leave state everywhere: a failed command's sense, a halt, an ejected medium.
    h.command(&[0x1b, 0, 0, 0, 0x02, 0], 0, Dir::None);
    h.command(&[0xff, 0, 0, 0, 0, 0], 0, Dir::None);
    h.set_halt(BULK_IN_ENDPOINT);
    h.dev.bus_reset();
    assert_eq!(h.dev.address(), 0);
    assert!(!h.dev.is_configured());
    assert_eq!(h.control_in(setup(IN_DEVICE, 8, 0, 0, 1), 1), Err(Stall));
    h.enumerate();
    assert!(!h.is_halted(BULK_IN_ENDPOINT));
    // The unit starts over: reset reported, then no sense, medium present.
    assert_eq!(h.command(&[0; 6], 0, Dir::None).csw.status, FAILED);
    assert_eq!(h.sense(), RESET_OCCURRED);
    assert_eq!(h.sense(), NO_SENSE);
    assert_eq!(h.command(&[0; 6], 0, Dir::None).csw.status, PASSED);
}

#[test]
fn identity_validation() {
    let disk = TestDisk::new(8);
    let long_126 = "a".repeat(126);
    let long_127 = "a".repeat(127);
    let serial_126 = "A".repeat(126);
    let serial_127 = "A".repeat(127);
    let ok = |id: Identity<'_>| {
        id.validate()
            .map(|()| Device::new(id, &disk, Speed::High).is_ok())
    };
    assert_eq!(ok(identity()), Ok(true));
    assert_eq!(
        ok(Identity {
            manufacturer: &long_126,
            ..identity()
        }),
        Ok(true)
    );
    assert_eq!(
        ok(Identity {
            serial: &serial_126,
            ..identity()
        }),
        Ok(true)
    );
    assert_eq!(
        ok(Identity {
            serial: "0123456789AB",
            ..identity()
        }),
        Ok(true)
    );
    assert_eq!(
        ok(Identity {
            inquiry_product: "0123456789ABCDEF",
            ..identity()
        }),
        Ok(true)
    );
    let cases = [
        (
            Identity {
                manufacturer: "",
                ..identity()
            },
            IdentityError::Manufacturer,
        ),
        (
            Identity {
                manufacturer: &long_127,
                ..identity()
            },
            IdentityError::Manufacturer,
        ),
        (
            Identity {
                product: "",
                ..identity()
            },
            IdentityError::Product,
        ),
        (
            Identity {
                product: &long_127,
                ..identity()
            },
            IdentityError::Product,
        ),
        (
            Identity {
                serial: "0123456789A",
                ..identity()
            },
            IdentityError::Serial,
        ),
        (
            Identity {
                serial: "0123456789ab",
                ..identity()
            },
            IdentityError::Serial,
        ),
        (
            Identity {
                serial: "0123456789AG",
                ..identity()
            },
            IdentityError::Serial,
        ),
        (
            Identity {
                serial: &serial_127,
                ..identity()
            },
            IdentityError::Serial,
        ),
        (
            Identity {
                inquiry_vendor: "",
                ..identity()
            },
            IdentityError::InquiryVendor,
        ),
        (
            Identity {
                inquiry_vendor: "123456789",
                ..identity()
            },
            IdentityError::InquiryVendor,
        ),
        (
            Identity {
                inquiry_vendor: "ven\ndor",
                ..identity()
            },
            IdentityError::InquiryVendor,
        ),
        (
            Identity {
                inquiry_vendor: "vendé",
                ..identity()
            },
            IdentityError::InquiryVendor,
        ),
        (
            Identity {
                inquiry_product: "0123456789ABCDEFG",
                ..identity()
            },
            IdentityError::InquiryProduct,
        ),
        (
            Identity {
                inquiry_revision: "12345",
                ..identity()
            },
            IdentityError::InquiryRevision,
        ),
        (
            Identity {
                inquiry_revision: "",
                ..identity()
            },
            IdentityError::InquiryRevision,
        ),
    ];
    for (id, err) in cases {
        assert_eq!(id.validate(), Err(err), "{id:?}");
        assert_eq!(Device::new(id, &disk, Speed::High).err(), Some(err));
    }
}

#[test]
fn identity_error_messages() {
    assert_eq!(
        IdentityError::Serial.to_string(),
        "serial must be 12 to 126 hex digits (0-9, A-F)"
    );
    for e in [
        IdentityError::Manufacturer,
        IdentityError::Product,
        IdentityError::Serial,
        IdentityError::InquiryVendor,
        IdentityError::InquiryProduct,
        IdentityError::InquiryRevision,
    ] {
        let m = e.to_string();
        assert!(!m.is_empty() && !m.contains('\n'), "{m}");
    }
}
