//! The dashboard check of `cargo xtask test`: a real `vusbkey-monitor` fed through
//! simulated VM sockets (an accepted VM, a refused copy, a silent VM), its pages loaded
//! by headless Chromium; the DOM must show those VMs, verdicts and alarms. The
//! screenshot goes to `target/dashboard/dashboard.png`.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use uuid::Uuid;
use vusbkey_report::Report;

use crate::paths::Paths;
use crate::results::Check;
use crate::simulated_vms::HostMonitor;

/// The browser (Debian package `chromium`, installed by `cargo xtask setup`).
const CHROMIUM: &str = "/usr/bin/chromium";
/// The longest one browser run may take.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(120);

const ACCEPTED: Uuid = Uuid::from_u128(0x5655534b_0000_4000_8000_0000000000a1);
const REFUSED: Uuid = Uuid::from_u128(0x5655534b_0000_4000_8000_0000000000b2);
const SILENT: Uuid = Uuid::from_u128(0x5655534b_0000_4000_8000_0000000000c3);

/// Runs the check.
pub(crate) fn check(paths: &Paths) -> Check {
    Check::host("dashboard-chromium", run(paths))
}

fn run(paths: &Paths) -> anyhow::Result<String> {
    let dir = paths.target().join("dashboard");
    let policy = "[policy]\nverdict_deadline_secs = 2\n";
    // The debug build `cargo test` made: building it again in release would take minutes.
    let status = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "-p", "vusbkey-monitor"])
        .current_dir(&paths.root)
        .status()?;
    if !status.success() {
        bail!("building vusbkey-monitor failed");
    }
    let binary = paths.target().join("debug/vusbkey-monitor");
    let mut monitor = HostMonitor::start(&binary, &dir.join("monitor"), policy)?;
    let wait = Duration::from_secs(30);

    let mut accepted = monitor.connect_vm(ACCEPTED)?;
    let exp = 1_900_000_000; // 2030-03-17
    let report = Report::accepted(
        "demo-token-1",
        "vusbkey-demo",
        exp,
        &"fd".repeat(32),
        "/dev/sda",
    );
    accepted.write_all(report.to_line().as_bytes())?;
    let mut refused = monitor.connect_vm(REFUSED)?;
    let report = Report::refused("wrong-vm", 16, "wrong VM: the token is for another VM");
    refused.write_all(report.to_line().as_bytes())?;
    let _silent = monitor.connect_vm(SILENT)?;
    monitor.wait_for(wait, |l| {
        l.contains(&format!("vm={ACCEPTED} kind=accepted"))
    })?;
    monitor.wait_for(wait, |l| l.contains(&format!("vm={REFUSED} kind=refused")))?;
    monitor.wait_for(wait, |l| l.contains(&format!("vm={SILENT} kind=silent")))?;

    let url = format!("http://{}/", monitor.address);
    let screenshot = dir.join("dashboard.png");
    let _ = std::fs::remove_file(&screenshot);
    let profile = dir.join("chromium-profile");
    browser(
        &profile,
        &[
            format!("--screenshot={}", screenshot.display()),
            "--window-size=1400,900".into(),
            url.clone(),
        ],
    )?;
    if !screenshot.exists() {
        bail!("chromium wrote no screenshot at {}", screenshot.display());
    }
    let index = browser(&profile, &["--dump-dom".into(), url.clone()])?;
    let events = browser(&profile, &["--dump-dom".into(), format!("{url}events")])?;

    let vms = section(&index, "<table id=\"vms\"", "</table>")?;
    let alarms = section(&index, "<table id=\"alarms\"", "</table>")?;
    let row = |table: &str, vm: Uuid| -> anyhow::Result<String> {
        let at = table
            .find(&vm.to_string())
            .with_context(|| format!("no row for VM {vm}"))?;
        let end = table[at..].find("</tr>").map_or(table.len(), |e| at + e);
        Ok(text(&table[at..end]))
    };
    let expect = |what: &str, got: &str, wanted: &[&str]| -> anyhow::Result<()> {
        for word in wanted {
            if !got.contains(word) {
                bail!("{what} lacks {word:?}: {got:?}");
            }
        }
        Ok(())
    };
    expect(
        "the accepted VM's row",
        &row(&vms, ACCEPTED)?,
        &["connected", "accepted", "2030-03-17", "fdfdfdfdfdfdfdfd"],
    )?;
    expect(
        "the refused VM's row",
        &row(&vms, REFUSED)?,
        &["refused", "wrong-vm"],
    )?;
    expect("the silent VM's row", &row(&vms, SILENT)?, &["no verdict"])?;
    expect(
        "the refused VM's alarm",
        &row(&alarms, REFUSED)?,
        &["refused", "wrong-vm"],
    )?;
    expect(
        "the silent VM's alarm",
        &row(&alarms, SILENT)?,
        &["silent", "no verdict within 2 s"],
    )?;
    if alarms.contains(&ACCEPTED.to_string()) {
        bail!("the accepted VM has an alarm: {}", text(&alarms));
    }
    let log = section(&events, "<table id=\"events\"", "</table>")?;
    expect(
        "the event log",
        &text(&log),
        &[
            "demo-token-1",
            "wrong VM: the token is for another VM",
            "silent",
            "connected",
        ],
    )?;
    let bytes = std::fs::metadata(&screenshot)?.len();
    Ok(format!(
        "3 VMs, 2 alarms seen by chromium; screenshot {} ({bytes} bytes)",
        screenshot.display()
    ))
}

/// Runs headless Chromium with `args`; its stdout.
fn browser(profile: &std::path::Path, args: &[String]) -> anyhow::Result<String> {
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting chromium (run `cargo xtask setup`)")?;
    let mut stdout = child.stdout.take().context("chromium stdout")?;
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut out);
        out
    });
    let deadline = Instant::now() + BROWSER_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!("chromium did not finish within {BROWSER_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = reader.join().unwrap_or_default();
    if !status.success() {
        bail!("chromium {status}");
    }
    Ok(out)
}

/// The part of `html` from `start` to the next `end`.
fn section(html: &str, start: &str, end: &str) -> anyhow::Result<String> {
    let from = html
        .find(start)
        .with_context(|| format!("the page has no {start}"))?;
    let to = html[from..].find(end).map_or(html.len(), |e| from + e);
    Ok(html[from..to].to_owned())
}

/// The text of some HTML: tags become spaces, entities are left as they are.
fn text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_drops_tags() {
        assert_eq!(text("<tr><td>a <b>b</b></td><td>c</td></tr>"), "a b c");
        assert_eq!(
            section("x<t id=1>y</t>z", "<t", "</t>").unwrap(),
            "<t id=1>y"
        );
    }
}
