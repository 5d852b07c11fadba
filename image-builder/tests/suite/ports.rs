//! The port table: its text, and `ports` on a fake sysfs and `/dev`.

use std::path::{Path, PathBuf};

use image_builder::{ports, PortLine, PortSource, PortTable, PortsError, TokenSummary};
use sha2::{Digest as _, Sha256};
use tempfile::TempDir;
use time::macros::datetime;
use uuid::uuid;

use crate::fixtures;

/// The SHA-256 sysfs shows for the disconnected port.
const OTHER_SHA256: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// A key image for VM `...-000000000001`.
fn image() -> Vec<u8> {
    image_builder::build(&image_builder::BuildOptions::new(fixtures::token_for(1))).expect("builds")
}

/// What the fixtures' tokens claim, for VM `...-<vm>`.
fn token_for(vm: u64) -> TokenSummary {
    TokenSummary::of(&fixtures::token_for(vm)).expect("decodes")
}

/// Makes `sys/` and `dev/` in `root` as a host with vusbkey.ko loaded sees them: port 1
/// connected, its disk `sdb` (the image of [`image`]) found below `usb3/3-1`; port 2
/// disconnected; port 3 connected, its disk not there yet. Returns port 1's image SHA-256.
pub(crate) fn fake_host(root: &Path) -> String {
    let image = image();
    let sha256 = hex::encode(Sha256::digest(&image));
    let device = root.join("sys/devices/platform/vusbkey");
    for (port, sha256, connected) in [(1, &*sha256, 1), (2, OTHER_SHA256, 0), (3, OTHER_SHA256, 1)]
    {
        let dir = device.join(format!("ports/{port}"));
        std::fs::create_dir_all(&dir).expect("creates");
        std::fs::write(dir.join("image_sha256"), format!("{sha256}\n")).expect("writes");
        std::fs::write(dir.join("image_size"), format!("{}\n", image.len())).expect("writes");
        std::fs::write(dir.join("connected"), format!("{connected}\n")).expect("writes");
    }
    let scsi = device.join("usb3/3-1/3-1:1.0/host2/target2:0:0/2:0:0:0");
    std::fs::create_dir_all(scsi.join("block/sdb")).expect("creates");
    std::fs::create_dir_all(device.join("usb3/3-3/3-3:1.0")).expect("creates");
    // Links in sysfs lead anywhere, up too: the search does not follow them.
    std::os::unix::fs::symlink(&device, device.join("usb3/3-1/3-1:1.0/port")).expect("links");
    std::fs::create_dir_all(root.join("dev")).expect("creates");
    std::fs::write(root.join("dev/sdb"), &image).expect("writes");
    sha256
}

#[test]
fn the_table_is_tab_separated_with_a_dash_for_what_is_unknown() {
    let table = PortTable {
        source: PortSource::Image,
        lines: vec![
            PortLine {
                port: 1,
                usb: None,
                token: Some(TokenSummary {
                    vm: uuid!("5655534b-0000-4000-8000-000000000001"),
                    expires: datetime!(2027-03-04 05:06:07 +02:00),
                }),
                sha256: OTHER_SHA256.to_owned(),
                source: Some(PathBuf::from("target/keys/image.img")),
            },
            PortLine {
                port: 2,
                usb: Some("3-2".to_owned()),
                token: None,
                sha256: OTHER_SHA256.to_owned(),
                source: None,
            },
        ],
    };
    assert_eq!(
        table.to_string(),
        "port\tusb\tvm\texpires\tsha256\timage\n\
         1\t-\t5655534b-0000-4000-8000-000000000001\t2027-03-04T03:06:07Z\t\
         0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\t\
         target/keys/image.img\n\
         2\t3-2\t-\t-\t0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\t-\n"
    );
    let disks = PortTable {
        source: PortSource::Disk,
        lines: vec![],
    };
    assert_eq!(disks.to_string(), "port\tusb\tvm\texpires\tsha256\tdisk\n");
}

#[test]
fn a_token_summary_is_what_the_token_claims() {
    let summary = token_for(0xa1b2c3d4e5f6);
    assert_eq!(summary.vm, uuid!("6c3a2b5e-1b2c-4d5e-8f90-a1b2c3d4e5f6"));
    assert_eq!(summary.expires, datetime!(2099-01-01 00:00 UTC));
    assert!(TokenSummary::of("v4.public.garbage").is_err());
}

#[test]
fn ports_are_read_from_sysfs_and_the_disks() {
    let root = TempDir::new().expect("temp dir");
    let sha256 = fake_host(root.path());
    let ports = ports(&root.path().join("sys"), &root.path().join("dev")).expect("lists");
    assert!(ports.unreadable.is_empty(), "{:?}", ports.unreadable);
    let table = ports.table;
    let no_disk = |port, usb: Option<&str>| PortLine {
        port,
        usb: usb.map(str::to_owned),
        token: None,
        sha256: OTHER_SHA256.to_owned(),
        source: None,
    };
    assert_eq!(
        table,
        PortTable {
            source: PortSource::Disk,
            lines: vec![
                PortLine {
                    port: 1,
                    usb: Some("3-1".to_owned()),
                    token: Some(token_for(1)),
                    sha256,
                    source: Some(root.path().join("dev/sdb")),
                },
                // Disconnected; connected but its disk not there yet.
                no_disk(2, None),
                no_disk(3, Some("3-3")),
            ],
        }
    );
}

#[test]
fn without_the_module_the_error_says_so_and_an_unreadable_disk_is_a_warning() {
    let root = TempDir::new().expect("temp dir");
    let (sys, dev) = (root.path().join("sys"), root.path().join("dev"));
    let error = ports(&sys, &dev).expect_err("no module");
    assert!(matches!(error, PortsError::NotLoaded(_)), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!(
            "no vusbkey module loaded (no {}/devices/platform/vusbkey/ports)",
            sys.display()
        )
    );
    fake_host(root.path());
    std::fs::write(dev.join("sdb"), vec![0u8; 4096]).expect("writes");
    let listed = ports(&sys, &dev).expect("the other ports are listed");
    assert_eq!(listed.table.lines.len(), 3);
    assert_eq!(listed.table.lines[0].token, None);
    assert_eq!(listed.table.lines[0].source, Some(dev.join("sdb")));
    assert_eq!(listed.table.lines[0].usb.as_deref(), Some("3-1"));
    let warnings: Vec<String> = listed.unreadable.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [format!(
            "port 1: no token can be read from {}/sdb",
            dev.display()
        )]
    );
}
