//! Same inputs, same bytes; different tokens, different volume ids.

use std::io::Cursor;

use image_builder::{build, inspect, BuildOptions};
use sha2::{Digest as _, Sha256};
use time::macros::datetime;

use crate::fixtures;

fn options() -> BuildOptions {
    BuildOptions {
        issuer: Some(fixtures::issuer_public()),
        ..BuildOptions::new(fixtures::token())
    }
}

fn volume_id(image: &[u8]) -> u32 {
    inspect(Cursor::new(image)).expect("inspects").volume_id
}

#[test]
fn two_builds_are_byte_identical() {
    let first = build(&options()).expect("builds");
    let second = build(&options()).expect("builds");
    assert_eq!(Sha256::digest(&first), Sha256::digest(&second));
    let sized = BuildOptions {
        size: Some(1 << 20),
        ..options()
    };
    assert_eq!(
        build(&sized).expect("builds"),
        build(&sized).expect("builds")
    );
}

#[test]
fn builds_on_other_threads_are_identical() {
    let here = build(&options()).expect("builds");
    let elsewhere: Vec<Vec<u8>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| build(&options()).expect("builds")))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("joins"))
            .collect()
    });
    assert!(elsewhere.iter().all(|image| *image == here));
}

#[test]
fn different_tokens_give_different_volume_ids() {
    let ids: Vec<u32> = (0..8)
        .map(|vm| volume_id(&build(&BuildOptions::new(fixtures::token_for(vm))).expect("builds")))
        .collect();
    for (i, a) in ids.iter().enumerate() {
        assert!(!ids[i + 1..].contains(a), "volume ids {ids:x?}");
    }
}

#[test]
fn the_timestamp_is_the_token_iat_unless_given() {
    let image = build(&options()).expect("builds");
    let files = inspect(Cursor::new(&image)).expect("inspects").files;
    // iat is 00:00:01; FAT modification times have a 2-second resolution.
    assert!(
        files.iter().all(|f| f.modified == "2025-01-01 00:00:00"),
        "{files:?}"
    );
    let later = BuildOptions {
        timestamp: Some(datetime!(2030-06-15 12:34:56 UTC)),
        ..options()
    };
    let relabelled = build(&later).expect("builds");
    let files = inspect(Cursor::new(&relabelled)).expect("inspects").files;
    assert!(
        files.iter().all(|f| f.modified == "2030-06-15 12:34:56"),
        "{files:?}"
    );
    assert_ne!(image, relabelled);
    assert_eq!(
        volume_id(&image),
        volume_id(&relabelled),
        "the id hashes contents only"
    );
}

#[test]
fn the_volume_id_is_the_manifest_hash() {
    let image = build(&options()).expect("builds");
    let inspection = inspect(Cursor::new(&image)).expect("inspects");
    let manifest = inspection
        .files
        .iter()
        .find(|f| f.name == image_builder::MANIFEST_FILE)
        .expect("manifest");
    assert_eq!(
        format!("{:08x}", inspection.volume_id),
        manifest.sha256[..8]
    );
}
