//! `vusbkey-usbip serve` as a process, over real TCP: the device list, import, a read of
//! the whole disk, a busy key, unknown bus ids, and malformed clients that lose only their
//! own connection.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use vusbkey_usbip::header::{parse_reply, Reply, HEADER_LEN};

/// The server process, killed when dropped.
struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `vusbkey-usbip serve` on a free loopback port with `images` and the options `args`.
fn start(images: &[&std::path::Path], args: &[&str]) -> Server {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("vusbkey-usbip"));
    cmd.args(["serve", "--listen", "127.0.0.1:0"]).args(args);
    for image in images {
        cmd.arg("--image").arg(image);
    }
    let mut child = cmd.stderr(Stdio::piped()).spawn().unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let addr = loop {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "server exited");
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in stderr.lines() {});
    Server { child, addr }
}

fn connect(server: &Server) -> TcpStream {
    let s = TcpStream::connect(&server.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s
}

fn op(code: u16, busid: Option<&str>) -> Vec<u8> {
    let mut m = vec![0x01, 0x11];
    m.extend_from_slice(&code.to_be_bytes());
    m.extend_from_slice(&[0; 4]);
    if let Some(id) = busid {
        let mut field = [0u8; 32];
        field[..id.len()].copy_from_slice(id.as_bytes());
        m.extend_from_slice(&field);
    }
    m
}

fn import(server: &Server, busid: &str) -> (TcpStream, u32, Vec<u8>) {
    let mut s = connect(server);
    s.write_all(&op(0x8003, Some(busid))).unwrap();
    let mut h = [0u8; 8];
    s.read_exact(&mut h).unwrap();
    assert_eq!(&h[..4], &[0x01, 0x11, 0x00, 0x03]);
    let status = u32::from_be_bytes(h[4..8].try_into().unwrap());
    let mut device = Vec::new();
    if status == 0 {
        device = vec![0u8; 312];
        s.read_exact(&mut device).unwrap();
    }
    (s, status, device)
}

/// Imports `busid` until that succeeds, for up to 5 s: a key is free again once the server
/// has seen its client leave.
fn importable_again(server: &Server, busid: &str) -> bool {
    for _ in 0..50 {
        if import(server, busid).1 == 0 {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// SET_CONFIGURATION, TEST UNIT READY (taking the unit attention) with its CSW, then
/// READ(10) of all `blocks` blocks: replies 3, 5 and 6 carry IN data, 5 the disk.
fn read_whole_disk(blocks: u16) -> Vec<u8> {
    let mut input = set_configuration(1);
    input.extend(bulk_out(2, &cbw(1, 0, false, &[0; 6])));
    input.extend(bulk_in(3, 13));
    input.extend(bulk_out(
        4,
        &cbw(2, u32::from(blocks) * 512, true, &read10(0, blocks)),
    ));
    input.extend(bulk_in(5, u32::from(blocks) * 512));
    input.extend(bulk_in(6, 13));
    input
}

/// Sends `commands`, then reads replies until `count` have arrived.
fn exchange(
    s: &mut TcpStream,
    commands: &[u8],
    in_seqnums: &[u32],
    count: usize,
) -> Vec<(Reply, Vec<u8>)> {
    s.write_all(commands).unwrap();
    let mut got = Vec::new();
    let mut out = Vec::new();
    while got.len() < count {
        let mut h = [0u8; HEADER_LEN];
        s.read_exact(&mut h).unwrap();
        out.extend_from_slice(&h);
        if let Reply::Submit(r) = parse_reply(&h).unwrap() {
            if in_seqnums.contains(&r.seqnum) {
                let mut data = vec![0u8; r.actual_length as usize];
                s.read_exact(&mut data).unwrap();
                out.extend_from_slice(&data);
            }
        }
        got = replies(&out, in_seqnums);
    }
    got
}

#[test]
fn lists_imports_and_serves_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.img"), dir.path().join("b.img"));
    std::fs::write(&a, image_bytes(32)).unwrap();
    std::fs::write(&b, vec![0u8; 4096]).unwrap();
    let server = start(&[&a, &b], &[]);

    // OP_REQ_DEVLIST: two devices, each with its one mass-storage interface.
    let mut s = connect(&server);
    s.write_all(&op(0x8005, None)).unwrap();
    let mut list = Vec::new();
    s.read_to_end(&mut list).unwrap();
    assert_eq!(
        &list[..12],
        &[0x01, 0x11, 0x00, 0x05, 0, 0, 0, 0, 0, 0, 0, 2]
    );
    assert_eq!(list.len(), 12 + 2 * (312 + 4));
    let first = &list[12..12 + 312];
    assert_eq!(&first[256..260], b"1-1\0");
    assert_eq!(&first[296..300], &[0, 0, 0, 5], "SuperSpeed by default");
    assert_eq!(&first[300..304], &[0x12, 0x09, 0x00, 0x01], "ids 1209:0001");
    assert_eq!(
        &list[12 + 312..12 + 316],
        &[0x08, 0x06, 0x50, 0],
        "class 08/06/50"
    );
    assert_eq!(&list[12 + 316 + 256..][..4], b"1-2\0");

    // Import 1-1 and read the whole disk through BOT.
    let (mut s, status, device) = import(&server, "1-1");
    assert_eq!(status, 0);
    assert_eq!(&device[256..260], b"1-1\0");
    let devid = u32::from_be_bytes(device[288..292].try_into().unwrap()) << 16
        | u32::from_be_bytes(device[292..296].try_into().unwrap());
    assert_eq!(devid, DEVID);
    let input = read_whole_disk(32);
    let r = exchange(&mut s, &input, &[3, 5, 6], 6);
    assert!(
        r[4].1 == image_bytes(32),
        "the disk reads back as the image"
    );
    assert_eq!(r[5].1.len(), 13, "{:?}", r[5].0);
    assert_eq!(r[5].1[12], 0);

    // A second import of the same key is refused as busy; an unknown bus id as no device.
    assert_eq!(import(&server, "1-1").1, 2);
    assert_eq!(import(&server, "9-9").1, 4);

    // Malformed clients: garbage, a truncated header, a submit before any import.
    for bad in [
        b"GET / HTTP/1.0\r\n\r\n".to_vec(),
        op(0x8003, None)[..6].to_vec(),
        bulk_in(1, 13),
    ] {
        let mut c = connect(&server);
        c.write_all(&bad).unwrap();
        c.shutdown(std::net::Shutdown::Write).unwrap();
        let mut rest = Vec::new();
        let _ = c.read_to_end(&mut rest);
        assert!(rest.is_empty(), "no reply to a malformed client");
    }

    // The imported connection still works, and after it closes the key is free again.
    let r = exchange(
        &mut s,
        &control_in(7, [0x80, 6, 0, 1, 0, 0, 18, 0]),
        &[7],
        1,
    );
    assert_eq!(r[0].1.len(), 18);
    drop(s);
    assert!(
        importable_again(&server, "1-1"),
        "the key is importable again once its client left"
    );
}

/// The listed record (`OP_REP_DEVLIST`), whose speed `usbip attach` picks a vhci-hcd hub by.
#[test]
fn speed_option_sets_the_listed_speed() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.img");
    std::fs::write(&a, image_bytes(8)).unwrap();
    for (option, wire) in [("high", 3u8), ("super", 5)] {
        let server = start(&[&a], &["--speed", option]);
        let mut s = connect(&server);
        s.write_all(&op(0x8005, None)).unwrap();
        let mut list = Vec::new();
        s.read_to_end(&mut list).unwrap();
        assert_eq!(
            &list[12 + 296..12 + 300],
            &[0, 0, 0, wire],
            "--speed {option}"
        );
    }
}

#[test]
fn refuses_bad_images_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let odd = dir.path().join("odd.img");
    std::fs::write(&odd, [0u8; 100]).unwrap();
    let out = Command::new(assert_cmd::cargo::cargo_bin("vusbkey-usbip"))
        .args(["serve", "--image"])
        .arg(&odd)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("100 bytes is not a non-empty whole number of 512-byte blocks"),
        "{err}"
    );

    let out = Command::new(assert_cmd::cargo::cargo_bin("vusbkey-usbip"))
        .args(["attach"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no image: pass --image FILE"));
}

#[test]
fn a_client_leaving_mid_transfer_leaves_the_others_served() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.img"), dir.path().join("b.img"));
    std::fs::write(&a, image_bytes(16)).unwrap();
    std::fs::write(&b, image_bytes(32)).unwrap();
    let server = start(&[&a, &b], &[]);

    let (mut first, status, _) = import(&server, "1-1");
    assert_eq!(status, 0);
    let (mut second, status, _) = import(&server, "1-2");
    assert_eq!(status, 0);
    // The first client sends half of a bulk-OUT transfer and disconnects.
    let mut half = set_configuration(1);
    let cbw_out = bulk_out(2, &cbw(1, 0, false, &[0; 6]));
    half.extend_from_slice(&cbw_out[..cbw_out.len() - 10]);
    first.write_all(&half).unwrap();
    drop(first);

    // The second reads its whole disk meanwhile.
    let input = for_devid(read_whole_disk(32), 0x0001_0002);
    let r = exchange(&mut second, &input, &[3, 5, 6], 6);
    assert!(r[4].1 == image_bytes(32));

    // And the first key is free again for the next client.
    assert!(
        importable_again(&server, "1-1"),
        "the key of the client that left is importable again"
    );
}
