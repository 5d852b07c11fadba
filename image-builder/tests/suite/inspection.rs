//! `inspect`: the files, the manifest check, the token.

use std::io::Cursor;

use image_builder::{build, inspect, BuildOptions, ManifestCheck};

use crate::fixtures;

fn image() -> Vec<u8> {
    build(&BuildOptions {
        issuer: Some(fixtures::issuer_public()),
        ..BuildOptions::new(fixtures::token())
    })
    .expect("builds")
}

#[test]
fn lists_files_and_checks_the_manifest() {
    let image = image();
    let inspection = inspect(Cursor::new(&image)).expect("inspects");
    let names: Vec<&str> = inspection.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["TOKEN.PST", "ISSUER.PEM", "MANIFEST.TXT"]);
    assert_eq!(
        inspection.manifest,
        ManifestCheck::Checked {
            listed: 2,
            problems: vec![]
        }
    );
    assert_eq!(inspection.label, "VUSBKEY");
    assert_eq!(inspection.size, image.len() as u64);
    assert_eq!(inspection.token.expect("token"), fixtures::token());
}

#[test]
fn a_tampered_file_fails_the_manifest() {
    let mut image = image();
    let token = fixtures::token();
    let at = image
        .windows(token.len())
        .position(|w| w == token.as_bytes())
        .expect("token bytes are in the image");
    image[at + 20] ^= 0x01;
    let inspection = inspect(Cursor::new(&image)).expect("inspects");
    assert_eq!(
        inspection.manifest,
        ManifestCheck::Checked {
            listed: 2,
            problems: vec!["TOKEN.PST: SHA-256 mismatch".to_owned()]
        }
    );
}
