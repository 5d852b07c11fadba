//! The `authkey` CLI: a session, and a snapshot of every error message with its exit code.

use std::path::Path;

use assert_cmd::Command;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use tempfile::TempDir;

use crate::fixtures;

/// A directory with keys and tokens; commands run in it, with relative paths.
fn workdir() -> TempDir {
    let dir = TempDir::new().expect("temp dir");
    let path = |name| dir.path().join(name);
    fixtures::issuer()
        .save_pem_file(&path("sk.pem"), false)
        .expect("saves");
    fixtures::issuer()
        .public_key()
        .save_pem_file(&path("pk.pem"), false)
        .expect("saves");
    fixtures::other_issuer()
        .public_key()
        .save_pem_file(&path("other.pem"), false)
        .expect("saves");
    let mut identity_spki = hex::decode("302a300506032b6570032100").expect("hex");
    identity_spki.push(1);
    identity_spki.extend([0; 31]);
    let weak = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        STANDARD.encode(identity_spki)
    );
    std::fs::write(path("weak.pem"), weak).expect("writes");
    std::fs::write(path("garbage.pem"), "not a key\n").expect("writes");
    let token = fixtures::token();
    std::fs::write(path("token.pst"), format!("{token}\n")).expect("writes");
    let mut forged = token.into_bytes();
    forged[200] = if forged[200] == b'A' { b'B' } else { b'A' };
    std::fs::write(path("forged.pst"), forged).expect("writes");
    std::fs::write(path("garbage.pst"), "v4.public.garbage\n").expect("writes");
    std::fs::write(path("binary.pst"), [0xff, 0xfe, 0x00]).expect("writes");
    dir
}

/// Runs `authkey args` in `dir`: exit code, standard error, standard output.
fn run(dir: &Path, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_authkey"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("runs");
    format!(
        "exit: {}\n--- stderr\n{}--- stdout\n{}",
        output.status.code().expect("exited"),
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    )
}

const AT: &str = "2025-01-15T12:00:00Z";
const VM: &str = "6c3a2b5e-1b2c-4d5e-8f90-a1b2c3d4e5f6";

#[test]
fn keygen_sign_verify_session() {
    let dir = TempDir::new().expect("temp dir");
    let keygen = run(
        dir.path(),
        &["keygen", "--secret", "k.pem", "--public", "p.pem"],
    );
    assert!(keygen.starts_with("exit: 0"), "{keygen}");
    let sign = run(
        dir.path(),
        &[
            "sign",
            "--secret",
            "k.pem",
            "--vm",
            VM,
            "--valid-for",
            "1h",
            "--out",
            "t.pst",
        ],
    );
    assert!(sign.starts_with("exit: 0"), "{sign}");
    let verify = run(
        dir.path(),
        &["verify", "--public", "p.pem", "--vm", VM, "t.pst"],
    );
    assert!(verify.starts_with("exit: 0"), "{verify}");
    assert!(verify.contains(&format!("\"sub\": \"vm:{VM}\"")));
    let stdin_verify = Command::new(env!("CARGO_BIN_EXE_authkey"))
        .args(["verify", "--public", "p.pem", "-"])
        .current_dir(dir.path())
        .pipe_stdin(dir.path().join("t.pst"))
        .expect("stdin file")
        .output()
        .expect("runs");
    assert!(stdin_verify.status.success());
    let forced = run(
        dir.path(),
        &[
            "keygen", "--secret", "k.pem", "--public", "p.pem", "--force",
        ],
    );
    assert!(forced.starts_with("exit: 0"), "{forced}");
    let rotated = run(dir.path(), &["verify", "--public", "p.pem", "t.pst"]);
    assert!(
        rotated.starts_with("exit: 5"),
        "new key, old token: {rotated}"
    );
}

#[test]
fn verified_output() {
    let dir = workdir();
    let args = [
        "verify",
        "--public",
        "other.pem",
        "--public",
        "pk.pem",
        "--vm",
        VM,
        "--at",
        AT,
        "token.pst",
    ];
    insta::assert_snapshot!(run(dir.path(), &args));
}

#[test]
fn inspect_output_warns() {
    let dir = workdir();
    insta::assert_snapshot!(run(dir.path(), &["inspect", "token.pst"]));
}

/// Every error: (snapshot name, arguments).
const ERRORS: &[(&str, &[&str])] = &[
    (
        "keygen_exists",
        &["keygen", "--secret", "sk.pem", "--public", "new.pem"],
    ),
    (
        "sign_missing_secret",
        &[
            "sign",
            "--secret",
            "missing.pem",
            "--vm",
            VM,
            "--valid-for",
            "1d",
            "--out",
            "t.pst",
        ],
    ),
    (
        "sign_garbled_secret",
        &[
            "sign",
            "--secret",
            "garbage.pem",
            "--vm",
            VM,
            "--valid-for",
            "1d",
            "--out",
            "t.pst",
        ],
    ),
    (
        "sign_public_as_secret",
        &[
            "sign",
            "--secret",
            "pk.pem",
            "--vm",
            VM,
            "--valid-for",
            "1d",
            "--out",
            "t.pst",
        ],
    ),
    (
        "sign_output_exists",
        &[
            "sign",
            "--secret",
            "sk.pem",
            "--vm",
            VM,
            "--valid-for",
            "1d",
            "--out",
            "token.pst",
        ],
    ),
    (
        "sign_bad_duration",
        &[
            "sign",
            "--secret",
            "sk.pem",
            "--vm",
            VM,
            "--valid-for",
            "soon",
            "--out",
            "t.pst",
        ],
    ),
    (
        "sign_bad_vm",
        &[
            "sign",
            "--secret",
            "sk.pem",
            "--vm",
            "my-vm",
            "--valid-for",
            "1d",
            "--out",
            "t.pst",
        ],
    ),
    (
        "sign_zero_validity",
        &[
            "sign",
            "--secret",
            "sk.pem",
            "--vm",
            VM,
            "--valid-for",
            "0s",
            "--out",
            "t.pst",
        ],
    ),
    (
        "verify_missing_token",
        &["verify", "--public", "pk.pem", "missing.pst"],
    ),
    (
        "verify_missing_public",
        &["verify", "--public", "missing.pem", "token.pst"],
    ),
    (
        "verify_garbled_public",
        &["verify", "--public", "garbage.pem", "token.pst"],
    ),
    (
        "verify_weak_public",
        &["verify", "--public", "weak.pem", "token.pst"],
    ),
    (
        "verify_binary_token",
        &["verify", "--public", "pk.pem", "binary.pst"],
    ),
    (
        "verify_malformed",
        &["verify", "--public", "pk.pem", "garbage.pst"],
    ),
    (
        "verify_unknown_key",
        &["verify", "--public", "other.pem", "--at", AT, "token.pst"],
    ),
    (
        "verify_bad_signature",
        &["verify", "--public", "pk.pem", "--at", AT, "forged.pst"],
    ),
    (
        "verify_wrong_vm",
        &[
            "verify",
            "--public",
            "pk.pem",
            "--vm",
            "0badc0de-0000-4000-8000-000000000001",
            "--at",
            AT,
            "token.pst",
        ],
    ),
    (
        "verify_not_yet_valid",
        &[
            "verify",
            "--public",
            "pk.pem",
            "--at",
            "2024-12-31T23:00:00Z",
            "--skew",
            "30m",
            "token.pst",
        ],
    ),
    (
        "verify_expired",
        &[
            "verify",
            "--public",
            "pk.pem",
            "--at",
            "2025-03-01T00:00:00Z",
            "token.pst",
        ],
    ),
    (
        "verify_bad_time",
        &[
            "verify",
            "--public",
            "pk.pem",
            "--at",
            "yesterday",
            "token.pst",
        ],
    ),
    ("inspect_missing", &["inspect", "missing.pst"]),
    ("inspect_malformed", &["inspect", "garbage.pst"]),
];

#[test]
fn every_error_message_and_exit_code() {
    let dir = workdir();
    for (name, args) in ERRORS {
        let output = run(dir.path(), args);
        insta::with_settings!({ description => args.join(" ") }, {
            insta::assert_snapshot!(*name, output);
        });
    }
}

#[test]
fn help_lists_the_exit_codes() {
    let help = run(Path::new("."), &["verify", "--help"]);
    assert!(
        help.contains("6  bad signature") && help.contains("9  expired"),
        "{help}"
    );
}
