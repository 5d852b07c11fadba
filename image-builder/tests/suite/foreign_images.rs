//! Volumes made by `mkfs.fat` and `mcopy`, as an operator might hand-craft them, and
//! things that are not our volumes at all.

use std::fs::File;
use std::io::Cursor;

use image_builder::{read_token, ReadError};
use tempfile::TempDir;

use crate::fixtures::{self, run_tool};

/// `mkfs.fat` with `args` on `kib` KiB, then `mcopy` of the token file as `name`.
fn mkfs_image(dir: &TempDir, args: &[&str], kib: &str, token: &[u8], name: &str) -> File {
    std::fs::write(dir.path().join("token-file"), token).expect("writes");
    let mut mkfs = args.to_vec();
    mkfs.extend(["-C", "op.img", kib]);
    run_tool(dir.path(), "mkfs.fat", &mkfs);
    let target = format!("::{name}");
    run_tool(
        dir.path(),
        "mcopy",
        &["-i", "op.img", "token-file", &target],
    );
    File::open(dir.path().join("op.img")).expect("opens")
}

#[test]
fn reads_tokens_from_mkfs_fat_and_mcopy_images() {
    let token = fixtures::token();
    for (args, kib, name) in [
        (&[][..], "1440", "TOKEN.PST"),
        (&["-F", "16"][..], "16384", "token.pst"),
        (
            &["-F", "32", "-s", "1", "-n", "OPERATOR"][..],
            "40960",
            "Token.Pst",
        ),
    ] {
        let dir = TempDir::new().expect("temp dir");
        // Operators' files may have CRLF line endings.
        let file = mkfs_image(&dir, args, kib, format!("{token}\r\n").as_bytes(), name);
        assert_eq!(
            read_token(&file).expect("reads"),
            token,
            "mkfs.fat {args:?}, {name}"
        );
        let inspection = image_builder::inspect(&file).expect("inspects");
        assert_eq!(inspection.manifest, image_builder::ManifestCheck::Missing);
    }
}

#[test]
fn missing_empty_binary_and_oversized_tokens() {
    let dir = TempDir::new().expect("temp dir");
    let file = mkfs_image(&dir, &[], "1440", b"token", "OTHER.TXT");
    assert!(matches!(read_token(&file), Err(ReadError::NoToken)));

    let token_error = |contents: &[u8]| {
        let dir = TempDir::new().expect("temp dir");
        let file = mkfs_image(&dir, &[], "1440", contents, "TOKEN.PST");
        read_token(&file).expect_err("no usable token")
    };
    assert!(matches!(token_error(b" \n"), ReadError::Empty));
    assert!(matches!(token_error(b"\xff\xfe"), ReadError::NotText));
    assert!(matches!(
        token_error(&[b'A'; 9000]),
        ReadError::TooLarge { .. }
    ));
}

#[test]
fn not_a_fat_volume() {
    assert!(matches!(
        read_token(Cursor::new(vec![0u8; 64 * 1024])),
        Err(ReadError::NotFat(_))
    ));
    assert!(matches!(
        read_token(Cursor::new(Vec::new())),
        Err(ReadError::NotFat(_))
    ));
}

#[test]
fn reading_needs_no_write_access() {
    // `read_token` takes `Read + Seek` only: a shared byte slice is enough.
    let image =
        image_builder::build(&image_builder::BuildOptions::new(fixtures::token())).expect("builds");
    let token = read_token(Cursor::new(image.as_slice())).expect("reads");
    assert_eq!(token, fixtures::token());
}
