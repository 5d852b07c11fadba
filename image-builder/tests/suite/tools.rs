//! The real FAT tools accept our images: `fsck.fat -n` finds nothing, `mtools` lists the
//! files and reads them back unchanged, and `sha256sum -c` accepts the manifest; for the
//! default size, 1 MiB, 32 MiB and 256 MiB.

use std::fs::File;

use image_builder::{build, read_token, BuildOptions};
use tempfile::TempDir;

use crate::fixtures::{self, run_tool};

fn check_with_tools(size: Option<u64>, fat_type: &str) {
    let dir = TempDir::new().expect("temp dir");
    let options = BuildOptions {
        issuer: Some(fixtures::issuer_public()),
        size,
        ..BuildOptions::new(fixtures::token())
    };
    let image = build(&options).expect("builds");
    if let Some(size) = size {
        assert_eq!(image.len() as u64, size);
    }
    std::fs::write(dir.path().join("key.img"), &image).expect("writes");
    drop(image);

    let fsck =
        String::from_utf8(run_tool(dir.path(), "fsck.fat", &["-n", "key.img"])).expect("text");
    let lines: Vec<&str> = fsck.lines().collect();
    assert_eq!(
        lines.len(),
        2,
        "fsck.fat says only its version and summary:\n{fsck}"
    );
    assert!(lines[1].starts_with("key.img: 4 files, 3/"), "{fsck}");

    let mdir =
        String::from_utf8(run_tool(dir.path(), "mdir", &["-i", "key.img", "::"])).expect("text");
    assert!(mdir.contains("Volume in drive : is VUSBKEY"), "{mdir}");
    for name in ["TOKEN    PST", "ISSUER   PEM", "MANIFEST TXT"] {
        assert!(mdir.contains(name), "{mdir}");
    }
    let token = run_tool(dir.path(), "mtype", &["-i", "key.img", "::TOKEN.PST"]);
    assert_eq!(token, format!("{}\n", fixtures::token()).into_bytes());
    let pem = run_tool(dir.path(), "mtype", &["-i", "key.img", "::ISSUER.PEM"]);
    assert_eq!(pem, fixtures::issuer_public().to_pem().into_bytes());

    let out = dir.path().join("out");
    std::fs::create_dir(&out).expect("mkdir");
    run_tool(dir.path(), "mcopy", &["-i", "key.img", "::*", "out/"]);
    run_tool(&out, "sha256sum", &["--strict", "-c", "MANIFEST.TXT"]);

    let file = File::open(dir.path().join("key.img")).expect("opens");
    let inspection = image_builder::inspect(&file).expect("inspects");
    assert_eq!(inspection.fat_type, fat_type);
    assert_eq!(read_token(&file).expect("reads"), fixtures::token());
}

#[test]
fn default_size() {
    check_with_tools(None, "FAT12");
}

#[test]
fn one_mib() {
    check_with_tools(Some(1 << 20), "FAT12");
}

#[test]
fn thirty_two_mib() {
    check_with_tools(Some(32 << 20), "FAT16");
}

#[test]
fn two_hundred_fifty_six_mib() {
    check_with_tools(Some(256 << 20), "FAT16");
}
