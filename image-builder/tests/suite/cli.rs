//! The `image-builder` CLI: build, inspect and ports outputs, and a snapshot of every error.

use std::path::Path;

use assert_cmd::Command;
use tempfile::TempDir;

use crate::fixtures::{self, run_tool};

/// A directory with a token, keys, an image, and broken inputs.
fn workdir() -> TempDir {
    let dir = TempDir::new().expect("temp dir");
    let path = |name| dir.path().join(name);
    std::fs::write(path("token.pst"), format!("{}\n", fixtures::token())).expect("writes");
    std::fs::write(path("garbled.pst"), "v4.public.garbage\n").expect("writes");
    std::fs::write(path("empty.pst"), "\n").expect("writes");
    fixtures::issuer_public()
        .save_pem_file(&path("pk.pem"), false)
        .expect("saves");
    authkey::SecretKey::from_seed(&[0x22; 32])
        .public_key()
        .save_pem_file(&path("other.pem"), false)
        .expect("saves");
    std::fs::write(path("not-fat.img"), vec![0u8; 8192]).expect("writes");
    let image = image_builder::build(&image_builder::BuildOptions {
        issuer: Some(fixtures::issuer_public()),
        ..image_builder::BuildOptions::new(fixtures::token())
    })
    .expect("builds");
    std::fs::write(path("key.img"), &image).expect("writes");
    let token = fixtures::token();
    let at = image
        .windows(token.len())
        .position(|w| w == token.as_bytes())
        .expect("token in image");
    let mut tampered = image;
    tampered[at + 30] ^= 0x01;
    std::fs::write(path("tampered.img"), tampered).expect("writes");
    run_tool(
        dir.path(),
        "mkfs.fat",
        &["-i", "0badc0de", "-C", "blank.img", "1440"],
    );
    dir
}

/// Runs `image-builder args` in `dir` without `SOURCE_DATE_EPOCH` (unless `epoch`).
fn run(dir: &Path, args: &[&str], epoch: Option<&str>) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_image-builder"));
    command
        .args(args)
        .current_dir(dir)
        .env_remove("SOURCE_DATE_EPOCH");
    if let Some(epoch) = epoch {
        command.env("SOURCE_DATE_EPOCH", epoch);
    }
    let output = command.output().expect("runs");
    format!(
        "exit: {}\n--- stderr\n{}--- stdout\n{}",
        output.status.code().expect("exited"),
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    )
}

#[test]
fn build_output() {
    let dir = workdir();
    let args = [
        "build",
        "--token",
        "token.pst",
        "--public",
        "pk.pem",
        "--out",
        "new.img",
    ];
    insta::assert_snapshot!(run(dir.path(), &args, None));
    let again = [
        "build",
        "--token",
        "token.pst",
        "--public",
        "pk.pem",
        "--out",
        "again.img",
    ];
    run(dir.path(), &again, None);
    let read = |name: &str| std::fs::read(dir.path().join(name)).expect("reads");
    assert_eq!(
        read("new.img"),
        read("again.img"),
        "reproducible through the CLI"
    );
    assert_eq!(
        read("new.img"),
        read("key.img"),
        "the CLI builds what the library builds"
    );
}

#[test]
fn build_with_source_date_epoch() {
    let dir = workdir();
    let args = [
        "build",
        "--token",
        "token.pst",
        "--label",
        "key-7",
        "--out",
        "new.img",
    ];
    insta::assert_snapshot!(run(dir.path(), &args, Some("1700000000")));
}

#[test]
fn inspect_output() {
    let dir = workdir();
    insta::assert_snapshot!(run(dir.path(), &["inspect", "key.img"], None));
}

#[test]
fn inspect_output_verified() {
    let dir = workdir();
    let args = ["inspect", "key.img", "--public", "pk.pem"];
    insta::assert_snapshot!(run(dir.path(), &args, None));
}

#[test]
fn ports_output() {
    let dir = workdir();
    crate::ports::fake_host(dir.path());
    let args = ["ports", "--sysfs", "sys", "--dev", "dev"];
    insta::assert_snapshot!(run(dir.path(), &args, None));
}

/// Every error: (snapshot name, arguments, SOURCE_DATE_EPOCH).
const ERRORS: &[(&str, &[&str], Option<&str>)] = &[
    (
        "build_missing_token",
        &["build", "--token", "missing.pst", "--out", "new.img"],
        None,
    ),
    (
        "build_garbled_token",
        &["build", "--token", "garbled.pst", "--out", "new.img"],
        None,
    ),
    (
        "build_empty_token",
        &["build", "--token", "empty.pst", "--out", "new.img"],
        None,
    ),
    (
        "build_wrong_issuer",
        &[
            "build",
            "--token",
            "token.pst",
            "--public",
            "other.pem",
            "--out",
            "new.img",
        ],
        None,
    ),
    (
        "build_missing_public",
        &[
            "build",
            "--token",
            "token.pst",
            "--public",
            "missing.pem",
            "--out",
            "new.img",
        ],
        None,
    ),
    (
        "build_too_small",
        &[
            "build",
            "--token",
            "token.pst",
            "--size",
            "4K",
            "--out",
            "new.img",
        ],
        None,
    ),
    (
        "build_partial_sector",
        &[
            "build",
            "--token",
            "token.pst",
            "--size",
            "1000000",
            "--out",
            "new.img",
        ],
        None,
    ),
    (
        "build_too_large",
        &[
            "build",
            "--token",
            "token.pst",
            "--size",
            "2G",
            "--out",
            "new.img",
        ],
        None,
    ),
    (
        "build_bad_size",
        &[
            "build",
            "--token",
            "token.pst",
            "--size",
            "1MB",
            "--out",
            "new.img",
        ],
        None,
    ),
    (
        "build_bad_label",
        &[
            "build",
            "--token",
            "token.pst",
            "--label",
            "A.B",
            "--out",
            "new.img",
        ],
        None,
    ),
    (
        "build_output_exists",
        &["build", "--token", "token.pst", "--out", "key.img"],
        None,
    ),
    (
        "build_bad_source_date_epoch",
        &["build", "--token", "token.pst", "--out", "new.img"],
        Some("yesterday"),
    ),
    ("inspect_missing_image", &["inspect", "missing.img"], None),
    ("inspect_not_fat", &["inspect", "not-fat.img"], None),
    ("inspect_no_token", &["inspect", "blank.img"], None),
    ("inspect_tampered", &["inspect", "tampered.img"], None),
    (
        "inspect_wrong_key",
        &["inspect", "key.img", "--public", "other.pem"],
        None,
    ),
    ("ports_not_loaded", &["ports", "--sysfs", "sys"], None),
];

#[test]
fn every_error_message() {
    let dir = workdir();
    for (name, args, epoch) in ERRORS {
        let output = run(dir.path(), args, *epoch);
        assert!(!output.starts_with("exit: 0"), "{name}: {output}");
        insta::with_settings!({ description => args.join(" ") }, {
            insta::assert_snapshot!(*name, output);
        });
    }
}
