//! The `vusbkey-agent` binary against a fake sysfs tree and a plain image file standing in
//! for the key disk: each verdict, its exit code and message, rollback and the policy.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use authkey::{sign, ClaimsInput, SecretKey};
use image_builder::BuildOptions;
use tempfile::TempDir;
use time::macros::datetime;
use time::OffsetDateTime;
use uuid::{uuid, Uuid};
use vusbkey_report::{Report, PORT_NAME};

/// This VM.
const VM: Uuid = uuid!("6a3b1f2e-0c4d-4e5f-8a9b-0123456789ab");
/// Where the USB device of the key disk sits in the fake sysfs.
const USB_DEVICE: &str = "devices/pci0000:00/0000:00:04.0/usb2/2-1";

fn issuer() -> SecretKey {
    SecretKey::from_seed(&[1; 32])
}

fn stranger() -> SecretKey {
    SecretKey::from_seed(&[2; 32])
}

/// A token from `key` for `vm`, valid from `nbf` for `days`, issued at `nbf`.
fn token(key: &SecretKey, vm: Uuid, nbf: OffsetDateTime, days: u64) -> String {
    let claims = ClaimsInput {
        not_before: Some(nbf),
        issued_at: nbf,
        issuer: "test-issuer".to_owned(),
        ..ClaimsInput::new(vm, Duration::from_secs(days * 86_400))
    }
    .to_claims()
    .unwrap();
    sign(key, &claims).unwrap()
}

/// A token for this VM, valid from 2024 to 2100, issued at `iat`.
fn good_token_issued(iat: OffsetDateTime) -> String {
    let days = ((datetime!(2100-01-01 0:00 UTC) - iat).whole_days()) as u64;
    token(&issuer(), VM, iat, days)
}

fn good_token() -> String {
    good_token_issued(datetime!(2024-01-01 0:00 UTC))
}

/// The key disk image that `image-builder` makes for `token`, labelled `label`.
fn image(label: &str, token: &str) -> Vec<u8> {
    image_builder::build(&BuildOptions {
        label: label.parse().unwrap(),
        ..BuildOptions::new(token)
    })
    .unwrap()
}

/// `image` with the bytes `from` (which occur once) replaced by `to`, of the same length.
fn altered(mut image: Vec<u8>, from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let at: Vec<_> = (0..image.len())
        .filter(|&i| image[i..].starts_with(from))
        .collect();
    assert_eq!(at.len(), 1, "{from:?} occurs once in the image");
    image[at[0]..at[0] + to.len()].copy_from_slice(to);
    image
}

/// A guest in a temporary directory: sysfs with a USB disk `sda` (1209:0001, mass
/// storage) and a virtio disk `vda`, `dev/`, trusted keys, this VM's UUID, `agent.toml`.
struct Guest {
    dir: TempDir,
}

impl Guest {
    fn new() -> Self {
        let guest = Self {
            dir: tempfile::tempdir().unwrap(),
        };
        let virtio = guest.path("sys/devices/pci0000:00/0000:00:05.0/virtio1/block/vda");
        fs::create_dir_all(&virtio).unwrap();
        fs::create_dir_all(guest.path("sys/block")).unwrap();
        symlink(&virtio, guest.path("sys/block/vda")).unwrap();
        fs::create_dir_all(guest.path("dev")).unwrap();
        fs::write(guest.path("dev/vda"), vec![0; 4096]).unwrap();
        fs::create_dir_all(guest.path("trusted")).unwrap();
        issuer()
            .public_key()
            .save_pem_file(&guest.path("trusted/issuer.pem"), false)
            .unwrap();
        // As the kernel prints it, upper case here: compared as a UUID, not as text.
        fs::write(
            guest.path("product_uuid"),
            format!("{}\n", VM.hyphenated().to_string().to_uppercase()),
        )
        .unwrap();
        guest.configure("");
        guest
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    /// Writes `agent.toml`: the paths into this guest, then `extra` (top-level keys first).
    fn configure(&self, extra: &str) {
        let root = self.dir.path().display();
        fs::write(
            self.path("agent.toml"),
            format!(
                "trusted_dir = \"{root}/trusted\"\n\
                 vm_uuid_file = \"{root}/product_uuid\"\n\
                 {extra}\n\
                 [device]\n\
                 timeout_secs = 0\n\
                 sysfs = \"{root}/sys\"\n\
                 dev_dir = \"{root}/dev\"\n\
                 [rollback]\n\
                 state_file = \"{root}/state/rollback\"\n"
            ),
        )
        .unwrap();
    }

    /// Plugs in a USB disk (1209:0001, mass storage) `sda` holding `image`: its sysfs
    /// device tree, `sys/block/sda`, and `dev/sda`.
    fn insert(&self, image: &[u8]) {
        let usb = self.path(&format!("sys/{USB_DEVICE}"));
        let disk = usb.join("2-1:1.0/host2/target2:0:0/2:0:0:0/block/sda");
        if !disk.exists() {
            fs::create_dir_all(&disk).unwrap();
            fs::write(usb.join("idVendor"), "1209\n").unwrap();
            fs::write(usb.join("idProduct"), "0001\n").unwrap();
            fs::write(usb.join("2-1:1.0/bInterfaceClass"), "08\n").unwrap();
            symlink(&disk, self.path("sys/block/sda")).unwrap();
        }
        fs::write(self.path("dev/sda"), image).unwrap();
    }

    fn insert_token(&self, token: &str) {
        self.insert(&image("VUSBKEY", token));
    }

    /// Runs the agent with `args`, and `--config agent.toml` unless they name another:
    /// exit code, stdout, stderr, with this guest's directory shown as `[GUEST]`.
    fn run(&self, args: &[&str]) -> Run {
        let mut command = Command::cargo_bin("vusbkey-agent").unwrap();
        if !args.contains(&"--config") {
            command.arg("--config").arg(self.path("agent.toml"));
        }
        let output = command.args(args).output().unwrap();
        let root = self.dir.path().display().to_string();
        let clean = |bytes: &[u8]| String::from_utf8_lossy(bytes).replace(&root, "[GUEST]");
        Run {
            code: output.status.code().unwrap(),
            stdout: clean(&output.stdout),
            stderr: clean(&output.stderr),
        }
    }
}

#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The exit code and output, for a snapshot.
    fn report(&self) -> String {
        format!(
            "exit: {}\nstdout: {}\nstderr: {}",
            self.code, self.stdout, self.stderr
        )
    }
}

macro_rules! assert_run_snapshot {
    ($name:expr, $run:expr) => {
        insta::with_settings!({filters => vec![(r"checked at \S+", "checked at [NOW]")]}, {
            insta::assert_snapshot!($name, $run.report());
        })
    };
}

#[test]
fn accepts_a_good_token_and_leaves_the_disk_unchanged() {
    let guest = Guest::new();
    let image = image("VUSBKEY", &good_token());
    guest.insert(&image);
    let run = guest.run(&[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_run_snapshot!("accepted", run);
    assert_eq!(fs::read(guest.path("dev/sda")).unwrap(), image);
}

/// A refusal for `reason` with `code` (the default policy includes `deny`), its output
/// matching the snapshot `snapshot`, or `reason` if that is empty.
fn assert_refused(guest: &Guest, args: &[&str], reason: &str, code: i32, snapshot: &str) {
    let run = guest.run(args);
    assert_eq!(run.code, code, "{run:?}");
    assert!(run.stdout.is_empty(), "{run:?}");
    assert!(
        run.stderr.starts_with(&format!(
            "vusbkey-agent: refused reason={reason} exit={code} "
        )),
        "{run:?}"
    );
    let snapshot = if snapshot.is_empty() {
        reason
    } else {
        snapshot
    };
    assert_run_snapshot!(snapshot, run);
}

#[test]
fn refuses_without_a_disk() {
    let guest = Guest::new();
    assert_refused(&guest, &[], "no-device", 10, "");
}

#[test]
fn refuses_a_disk_with_another_usb_identity_or_label() {
    let guest = Guest::new();
    guest.insert_token(&good_token());
    let run = guest.run(&["--product-id", "0x1111"]);
    assert_eq!(run.code, 10, "{run:?}");
    guest.insert(&image("OTHER", &good_token()));
    assert_refused(&guest, &[], "no-device", 10, "no-device-wrong-label");
}

#[test]
fn waits_for_the_disk_until_the_timeout() {
    let guest = Guest::new();
    let start = std::time::Instant::now();
    let run = guest.run(&["--timeout", "1"]);
    assert_eq!(run.code, 10, "{run:?}");
    assert!(start.elapsed() >= Duration::from_secs(1));
}

#[test]
fn finds_a_disk_plugged_in_while_it_waits() {
    let guest = Guest::new();
    let mut agent = std::process::Command::new(assert_cmd::cargo::cargo_bin("vusbkey-agent"))
        .arg("--config")
        .arg(guest.path("agent.toml"))
        .args(["--timeout", "30"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let plugged = Instant::now();
    guest.insert_token(&good_token());
    assert_eq!(agent.wait().unwrap().code(), Some(0));
    // Seen by a later scan (this sysfs is a directory: no uevent for it), not at the timeout.
    assert!(plugged.elapsed() < Duration::from_secs(10));
}

#[test]
fn refuses_a_disk_that_is_not_fat() {
    let guest = Guest::new();
    guest.insert(&vec![0; 64 * 1024]);
    assert_refused(&guest, &[], "unreadable-image", 11, "");
}

#[test]
fn refuses_a_disk_without_token() {
    let guest = Guest::new();
    // The token file's directory entry renamed (8.3 names, no long names).
    guest.insert(&altered(
        image("VUSBKEY", &good_token()),
        b"TOKEN   PST",
        b"OTHER   PST",
    ));
    assert_refused(&guest, &[], "no-token", 12, "");
}

#[test]
fn refuses_a_malformed_token() {
    let guest = Guest::new();
    guest.insert(&altered(
        image("VUSBKEY", &good_token()),
        b"v4.public.",
        b"v9.public.",
    ));
    assert_refused(&guest, &[], "malformed", 13, "");
}

#[test]
fn refuses_a_token_from_an_untrusted_key() {
    let guest = Guest::new();
    guest.insert_token(&token(
        &stranger(),
        VM,
        datetime!(2024-01-01 0:00 UTC),
        365 * 70,
    ));
    assert_refused(&guest, &[], "untrusted-key", 14, "");
}

#[test]
fn refuses_an_altered_token() {
    let guest = Guest::new();
    // A character inside the signature (the payload ends with it, before the footer),
    // changed in the image.
    let token = good_token();
    let footer_dot = token.rfind('.').unwrap();
    let original = &token[footer_dot - 30..footer_dot - 14];
    let mut changed = original.as_bytes().to_vec();
    changed[0] = if changed[0] == b'A' { b'B' } else { b'A' };
    guest.insert(&altered(
        image("VUSBKEY", &token),
        original.as_bytes(),
        &changed,
    ));
    assert_refused(&guest, &[], "bad-signature", 15, "");
}

#[test]
fn refuses_a_token_for_another_vm() {
    let guest = Guest::new();
    let other = uuid!("00000000-1111-4222-8333-444444444444");
    guest.insert_token(&token(
        &issuer(),
        other,
        datetime!(2024-01-01 0:00 UTC),
        365 * 70,
    ));
    assert_refused(&guest, &[], "wrong-vm", 16, "");
}

#[test]
fn refuses_a_token_not_valid_yet() {
    let guest = Guest::new();
    guest.insert_token(&token(&issuer(), VM, datetime!(2999-01-01 0:00 UTC), 1));
    assert_refused(&guest, &[], "not-yet-valid", 17, "");
}

#[test]
fn refuses_an_expired_token() {
    let guest = Guest::new();
    guest.insert_token(&token(&issuer(), VM, datetime!(2000-01-01 0:00 UTC), 1));
    assert_refused(&guest, &[], "expired", 18, "");
}

#[test]
fn skew_tolerates_a_recently_expired_token() {
    let guest = Guest::new();
    let yesterday =
        OffsetDateTime::now_utc() - time::Duration::days(1) - time::Duration::minutes(1);
    guest.insert_token(&token(&issuer(), VM, yesterday, 1));
    assert_eq!(guest.run(&["--skew", "0"]).code, 18);
    assert_eq!(guest.run(&["--skew", "600"]).code, 0);
}

#[test]
fn rollback_state_records_the_newest_token_and_refuses_older_ones() {
    let guest = Guest::new();
    let state = guest.path("state/rollback");
    let older = good_token_issued(datetime!(2024-01-01 0:00 UTC));
    let newer = good_token_issued(datetime!(2024-06-01 0:00 UTC));

    // Without rollback protection, no state.
    guest.insert_token(&newer);
    assert_eq!(guest.run(&[]).code, 0);
    assert!(!state.exists());

    guest.insert_token(&older);
    assert_eq!(guest.run(&["--rollback"]).code, 0);
    let recorded = fs::read_to_string(&state).unwrap();
    assert_eq!(recorded, "newest_iat = \"2024-01-01T00:00:00Z\"\n");

    guest.insert_token(&newer);
    assert_eq!(
        guest.run(&["--rollback"]).code,
        0,
        "the same or a newer token"
    );
    assert_eq!(guest.run(&["--rollback"]).code, 0, "the same token again");
    let recorded = fs::read_to_string(&state).unwrap();
    assert_eq!(recorded, "newest_iat = \"2024-06-01T00:00:00Z\"\n");

    guest.insert_token(&older);
    assert_refused(&guest, &["--rollback"], "rolled-back", 19, "");
    assert_eq!(fs::read_to_string(&state).unwrap(), recorded, "unchanged");
    assert_eq!(guest.run(&["--no-rollback"]).code, 0);

    fs::write(&state, "not a state").unwrap();
    assert_refused(&guest, &["--rollback"], "config-error", 3, "corrupt-state");
}

#[test]
fn configuration_errors_are_reported_before_waiting() {
    let guest = Guest::new();
    guest.insert_token(&good_token());
    let run = guest.run(&["--config", "/nonexistent/agent.toml"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert_refused(
        &guest,
        &["--trusted-dir", "/nonexistent"],
        "config-error",
        3,
        "",
    );
    fs::write(guest.path("product_uuid"), "not a uuid\n").unwrap();
    assert_refused(&guest, &[], "config-error", 3, "config-error-uuid");
}

#[test]
fn an_invalid_trusted_key_is_a_configuration_error() {
    let guest = Guest::new();
    guest.insert_token(&good_token());
    fs::write(guest.path("trusted/junk.pem"), "junk").unwrap();
    assert_refused(&guest, &[], "config-error", 3, "config-error-key");
}

#[test]
fn without_deny_a_refusal_exits_zero_but_is_logged() {
    let guest = Guest::new();
    let run = guest.run(&["--policy", "log"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run
        .stderr
        .starts_with("vusbkey-agent: refused reason=no-device exit=10 "));
    let run = guest.run(&["--policy", "deny"]);
    assert_eq!((run.code, run.stderr.as_str()), (10, ""));
}

#[test]
fn alarm_runs_with_the_reason() {
    let guest = Guest::new();
    let out = guest.path("alarm.out");
    guest.configure(&format!(
        "[policy]\n\
         actions = [\"alarm\", \"deny\"]\n\
         alarm_command = [\"/bin/sh\", \"-c\", \
         'echo \"$1 $VUSBKEY_REASON $VUSBKEY_EXIT_CODE $VUSBKEY_MESSAGE\" > {}', \"alarm\"]",
        out.display()
    ));
    guest.insert_token(&token(&issuer(), VM, datetime!(2000-01-01 0:00 UTC), 1));
    let run = guest.run(&[]);
    assert_eq!((run.code, run.stderr.as_str()), (18, ""), "{run:?}");
    assert_eq!(
        fs::read_to_string(&out).unwrap(),
        "expired expired 18 the token has expired\n"
    );
}

#[test]
fn alarm_without_a_command_is_a_configuration_error() {
    let guest = Guest::new();
    let run = guest.run(&["--policy", "alarm,deny"]);
    assert_eq!(run.code, 3, "{run:?}");
}

#[test]
fn a_failing_alarm_is_reported_and_the_verdict_stands() {
    let guest = Guest::new();
    let run = guest.run(&[
        "--policy",
        "alarm,deny",
        "--alarm-command",
        "/nonexistent/alarm",
    ]);
    assert_eq!(run.code, 10, "{run:?}");
    assert!(run
        .stderr
        .starts_with("vusbkey-agent: action-failed action=alarm command=/nonexistent/alarm "));
}

#[test]
fn poweroff_runs_the_poweroff_command() {
    let guest = Guest::new();
    let marker = guest.path("powered-off");
    let command = format!("touch {}", marker.display());
    let run = guest.run(&["--policy", "log,poweroff", "--poweroff-command", &command]);
    assert_eq!(run.code, 0, "no deny: {run:?}");
    assert!(marker.exists());
}

#[test]
fn help_documents_the_exit_codes() {
    let output = Command::cargo_bin("vusbkey-agent")
        .unwrap()
        .arg("--help")
        .output()
        .unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    let table = &help[help.find("Exit codes:").unwrap()..];
    insta::assert_snapshot!("exit-codes", table);
}

/// Gives the guest the monitor's virtio-serial port, as a guest without udev sees it:
/// `sys/class/virtio-ports/vport1p1/name` and `dev/vport1p1` (a plain file here).
fn add_port(guest: &Guest) -> PathBuf {
    let sysfs = guest.path("sys/class/virtio-ports/vport1p1");
    fs::create_dir_all(&sysfs).unwrap();
    fs::write(sysfs.join("name"), format!("{PORT_NAME}\n")).unwrap();
    let port = guest.path("dev/vport1p1");
    fs::write(&port, "").unwrap();
    port
}

/// The one report written on `port`.
fn reported(port: &Path) -> Report {
    let text = fs::read_to_string(port).unwrap();
    assert_eq!(text.lines().count(), 1, "{text:?}");
    assert!(text.ends_with('\n'));
    Report::parse(text.trim_end().as_bytes()).unwrap()
}

#[test]
fn an_acceptance_is_reported_on_the_port_without_the_token() {
    let guest = Guest::new();
    let port = add_port(&guest);
    let token = good_token();
    guest.insert_token(&token);
    let run = guest.run(&[]);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{run:?}");
    let Report::Accepted(accepted) = reported(&port) else {
        panic!("not an acceptance");
    };
    assert_eq!(accepted.kid, issuer().public_key().kid().to_string());
    assert_eq!(accepted.device, guest.path("dev/sda").display().to_string());
    assert_eq!(accepted.iss, "test-issuer");
    assert!(accepted.exp > OffsetDateTime::now_utc().unix_timestamp());
    assert!(!fs::read_to_string(&port).unwrap().contains(&token));
}

#[test]
fn a_refusal_is_reported_before_the_poweroff() {
    let guest = Guest::new();
    let port = add_port(&guest);
    let other = uuid!("00000000-1111-4222-8333-444444444444");
    guest.insert_token(&token(&issuer(), other, OffsetDateTime::now_utc(), 1));
    // The poweroff command sees the report already written; the alarm does not.
    let seen = guest.path("seen-at-poweroff");
    let command = format!("cp {} {}", port.display(), seen.display());
    let at_alarm = guest.path("seen-at-alarm");
    let alarm = guest.path("alarm.sh");
    fs::write(
        &alarm,
        format!("#!/bin/sh\ncp {} {}\n", port.display(), at_alarm.display()),
    )
    .unwrap();
    fs::set_permissions(&alarm, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let alarm = alarm.display().to_string();
    let run = guest.run(&[
        "--policy",
        "alarm,poweroff,deny",
        "--poweroff-command",
        &command,
        "--alarm-command",
        &alarm,
    ]);
    assert_eq!(run.code, 16, "{run:?}");
    assert_eq!(fs::read_to_string(&at_alarm).unwrap(), "");
    let Report::Refused(refused) = reported(&seen) else {
        panic!("not a refusal");
    };
    assert_eq!(
        (refused.reason.as_str(), refused.exit_code),
        ("wrong-vm", 16)
    );
    assert!(refused.detail.contains("wrong VM"), "{}", refused.detail);
}

#[test]
fn a_configuration_error_is_reported_too() {
    let guest = Guest::new();
    add_port(&guest);
    let root = guest.path("").display().to_string();
    let run = guest.run(&[
        "--config",
        "/nonexistent/agent.toml",
        "--sysfs",
        &format!("{root}/sys"),
        "--dev-dir",
        &format!("{root}/dev"),
    ]);
    assert_eq!(run.code, 3, "{run:?}");
    let Report::Refused(refused) = reported(&guest.path("dev/vport1p1")) else {
        panic!("not a refusal");
    };
    assert_eq!(refused.reason, "config-error");
}

#[test]
fn a_port_nobody_reads_fails_the_report_not_the_verdict() {
    let guest = Guest::new();
    add_port(&guest);
    let port = guest.path("dev/vport1p1");
    fs::remove_file(&port).unwrap();
    // A FIFO without a reader: opening it for writing without blocking fails (ENXIO).
    assert!(std::process::Command::new("mkfifo")
        .arg(&port)
        .status()
        .unwrap()
        .success());
    let run = guest.run(&[]);
    assert_eq!(run.code, 10, "{run:?}");
    assert!(
        run.stderr.contains("vusbkey-agent: report-failed port="),
        "{run:?}"
    );
}
