//! Golden bytes for every descriptor (USB 2.0 §9.6, USB 3.2 §9.6, BOT 1.0 §4), at high
//! speed and SuperSpeed, and GET_DESCRIPTOR's truncation and stalls.

mod common;
use common::*;
use vusbkey_device::{Device, Identity, Speed, Stall};

const DEVICE: [u8; 18] = [
    18, 0x01, 0x00, 0x02, // bLength, DEVICE, bcdUSB 2.00
    0x00, 0x00, 0x00, 64, // class per interface, ep0 max packet 64
    0x09, 0x12, 0x01, 0x00, // idVendor 1209h, idProduct 0001h
    0x00, 0x01, 1, 2, 3, 1, // bcdDevice 1.00, strings 1/2/3, one configuration
];

#[rustfmt::skip]
const CONFIGURATION: [u8; 32] = [
    9, 0x02, 32, 0, 1, 1, 0, 0x80, 50,              // one interface, value 1, bus powered, 100 mA
    9, 0x04, 0, 0, 2, 0x08, 0x06, 0x50, 0,          // interface 0: 2 endpoints, MSC/SCSI/BOT
    7, 0x05, 0x81, 0x02, 0x00, 0x02, 0,             // bulk-IN ep 1, 512 bytes
    7, 0x05, 0x02, 0x02, 0x00, 0x02, 0,             // bulk-OUT ep 2, 512 bytes
];

#[rustfmt::skip]
const OTHER_SPEED_CONFIGURATION: [u8; 32] = [
    9, 0x07, 32, 0, 1, 1, 0, 0x80, 50,
    9, 0x04, 0, 0, 2, 0x08, 0x06, 0x50, 0,
    7, 0x05, 0x81, 0x02, 64, 0, 0,                  // full speed: 64-byte bulk packets
    7, 0x05, 0x02, 0x02, 64, 0, 0,
];

const DEVICE_QUALIFIER: [u8; 10] = [10, 0x06, 0x00, 0x02, 0, 0, 0, 64, 1, 0];

const LANGUAGES: [u8; 4] = [4, 0x03, 0x09, 0x04];

const SUPER_SPEED_DEVICE: [u8; 18] = [
    18, 0x01, 0x20, 0x03, // bLength, DEVICE, bcdUSB 3.20
    0x00, 0x00, 0x00, 9, // class per interface, ep0 max packet 2^9
    0x09, 0x12, 0x01, 0x00, // idVendor 1209h, idProduct 0001h
    0x00, 0x01, 1, 2, 3, 1, // bcdDevice 1.00, strings 1/2/3, one configuration
];

#[rustfmt::skip]
const SUPER_SPEED_CONFIGURATION: [u8; 44] = [
    9, 0x02, 44, 0, 1, 1, 0, 0x80, 12,              // one interface, value 1, 96 mA (8 mA units)
    9, 0x04, 0, 0, 2, 0x08, 0x06, 0x50, 0,          // interface 0: 2 endpoints, MSC/SCSI/BOT
    7, 0x05, 0x81, 0x02, 0x00, 0x04, 0,             // bulk-IN ep 1, 1024 bytes
    6, 0x30, 15, 0, 0, 0,                           // companion: bursts of 16, no streams
    7, 0x05, 0x02, 0x02, 0x00, 0x04, 0,             // bulk-OUT ep 2, 1024 bytes
    6, 0x30, 15, 0, 0, 0,
];

#[rustfmt::skip]
const BOS: [u8; 22] = [
    5, 0x0f, 22, 0, 2,                              // BOS, two capabilities
    7, 0x10, 0x02, 0, 0, 0, 0,                      // USB 2.0 extension, no LPM
    10, 0x10, 0x03, 0, 0x0c, 0x00, 2, 0x01, 0xf4, 0x01, // SuperSpeed: HS+SS, all at HS, U1 1 µs, U2 500 µs
];

fn get(h: &mut Host<'_>, value: u16, index: u16, len: u16) -> Result<Vec<u8>, Stall> {
    h.control_in(setup(IN_DEVICE, 6, value, index, len), usize::from(len))
}

#[test]
fn device_descriptor() {
    let disk = TestDisk::new(8);
    let mut h = Host::attach(&disk);
    // Available in the Default state, before SET_ADDRESS.
    assert_eq!(get(&mut h, 0x0100, 0, 64).unwrap(), DEVICE);
}

#[test]
fn configuration_descriptor() {
    let disk = TestDisk::new(8);
    let mut h = Host::attach(&disk);
    assert_eq!(get(&mut h, 0x0200, 0, 255).unwrap(), CONFIGURATION);
    // Hosts read the 9-byte header first to learn wTotalLength.
    assert_eq!(get(&mut h, 0x0200, 0, 9).unwrap(), CONFIGURATION[..9]);
}

#[test]
fn other_speed_configuration_descriptor() {
    let disk = TestDisk::new(8);
    let mut h = Host::attach(&disk);
    assert_eq!(
        get(&mut h, 0x0700, 0, 255).unwrap(),
        OTHER_SPEED_CONFIGURATION
    );
}

#[test]
fn device_qualifier_descriptor() {
    let disk = TestDisk::new(8);
    let mut h = Host::attach(&disk);
    assert_eq!(get(&mut h, 0x0600, 0, 10).unwrap(), DEVICE_QUALIFIER);
}

#[test]
fn string_descriptors() {
    let disk = TestDisk::new(8);
    let mut h = Host::attach(&disk);
    assert_eq!(get(&mut h, 0x0300, 0, 255).unwrap(), LANGUAGES);
    let utf16 = |s: &str| {
        let mut v = vec![(2 + 2 * s.encode_utf16().count()) as u8, 0x03];
        v.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
        v
    };
    assert_eq!(get(&mut h, 0x0301, 0x0409, 255).unwrap(), utf16("vusbkey"));
    assert_eq!(get(&mut h, 0x0302, 0x0409, 255).unwrap(), utf16("Auth Key"));
    assert_eq!(
        get(&mut h, 0x0303, 0x0409, 255).unwrap(),
        utf16("0123456789ABCDEF")
    );
    // Literal bytes for one, so the helper above is not the only oracle.
    assert_eq!(
        get(&mut h, 0x0302, 0x0409, 255).unwrap(),
        [18, 3, b'A', 0, b'u', 0, b't', 0, b'h', 0, b' ', 0, b'K', 0, b'e', 0, b'y', 0]
    );
}

#[test]
fn string_descriptor_is_utf16le_with_surrogates() {
    let disk = TestDisk::new(8);
    let id = Identity {
        manufacturer: "Grüße 𝄞",
        ..identity()
    };
    let mut dev = Device::new(id, &disk, Speed::High).unwrap();
    let mut buf = [0u8; 64];
    let n = dev
        .control(&setup(IN_DEVICE, 6, 0x0301, 0x0409, 64), &mut buf)
        .unwrap();
    #[rustfmt::skip]
    let want = [
        18, 3, b'G', 0, b'r', 0, 0xfc, 0, 0xdf, 0, b'e', 0, b' ', 0, 0x34, 0xd8, 0x1e, 0xdd,
    ];
    assert_eq!(&buf[..n], want);
}

#[test]
fn descriptors_are_cut_to_wlength_and_to_the_buffer() {
    let disk = TestDisk::new(8);
    let mut h = Host::attach(&disk);
    // Linux's first request: wLength 64, gets all 18 bytes.
    assert_eq!(get(&mut h, 0x0100, 0, 64).unwrap().len(), 18);
    assert_eq!(get(&mut h, 0x0100, 0, 8).unwrap(), DEVICE[..8]);
    // The URB's buffer is shorter than wLength.
    let mut buf = [0u8; 5];
    let n = h
        .dev
        .control(&setup(IN_DEVICE, 6, 0x0200, 0, 255), &mut buf)
        .unwrap();
    assert_eq!((n, buf), (5, [9, 2, 32, 0, 1]));
    // A string cut in the middle of a code unit.
    assert_eq!(get(&mut h, 0x0301, 0x0409, 3).unwrap(), [16, 3, b'v']);
    assert_eq!(get(&mut h, 0x0301, 0x0409, 0).unwrap(), []);
}

#[test]
fn unknown_descriptors_stall() {
    let disk = TestDisk::new(8);
    let mut h = Host::attach(&disk);
    for (value, index) in [
        (0x0400, 0),      // interface: only inside the configuration
        (0x0500, 0),      // endpoint: likewise
        (0x0f00, 0),      // BOS: none for bcdUSB 2.00
        (0x0201, 0),      // configuration index 1: there is one configuration
        (0x0101, 0),      // device descriptor index 1
        (0x0304, 0x0409), // string 4
        (0x0301, 0x0407), // a language not in string descriptor 0
        (0x0301, 0),      // language 0 is only for string 0
    ] {
        assert_eq!(
            get(&mut h, value, index, 255),
            Err(Stall),
            "{value:04x}/{index:04x}"
        );
    }
    // GET_DESCRIPTOR with the wrong direction or recipient.
    assert_eq!(
        h.control_out(setup(OUT_DEVICE, 6, 0x0100, 0, 0)),
        Err(Stall)
    );
    assert_eq!(
        h.control_in(setup(IN_INTERFACE, 6, 0x0100, 0, 18), 18),
        Err(Stall)
    );
    // The stall is a protocol stall: the next request works.
    assert_eq!(get(&mut h, 0x0100, 0, 18).unwrap(), DEVICE);
}

#[test]
fn super_speed_descriptors() {
    let disk = TestDisk::new(8);
    let mut h = Host::attach_at(&disk, Speed::Super);
    assert_eq!(get(&mut h, 0x0100, 0, 64).unwrap(), SUPER_SPEED_DEVICE);
    assert_eq!(
        get(&mut h, 0x0200, 0, 255).unwrap(),
        SUPER_SPEED_CONFIGURATION
    );
    assert_eq!(
        get(&mut h, 0x0200, 0, 9).unwrap(),
        SUPER_SPEED_CONFIGURATION[..9]
    );
    // Linux reads the 5-byte BOS header first, then wTotalLength (hub.c usb_get_bos_descriptor).
    assert_eq!(get(&mut h, 0x0f00, 0, 5).unwrap(), BOS[..5]);
    assert_eq!(get(&mut h, 0x0f00, 0, 255).unwrap(), BOS);
    assert_eq!(get(&mut h, 0x0300, 0, 255).unwrap(), LANGUAGES);
    // USB 3.2 §9.4.3: no device qualifier or other-speed configuration at SuperSpeed.
    for value in [0x0600, 0x0700] {
        assert_eq!(get(&mut h, value, 0, 255), Err(Stall), "{value:04x}");
    }
    h.enumerate();
    assert_eq!(h.dev.speed(), Speed::Super);
    // A reset keeps the speed: the device is still on the same port.
    h.dev.bus_reset();
    assert_eq!(get(&mut h, 0x0100, 0, 18).unwrap(), SUPER_SPEED_DEVICE);
}

#[test]
fn high_speed_has_no_super_speed_descriptors() {
    let disk = TestDisk::new(8);
    let mut h = Host::attach(&disk);
    // Endpoint companions (30h) only come inside a SuperSpeed configuration.
    for value in [0x0f00, 0x3000] {
        assert_eq!(get(&mut h, value, 0, 255), Err(Stall), "{value:04x}");
    }
}
