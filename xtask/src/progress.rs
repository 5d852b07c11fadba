//! Long-running commands: output goes to a log file, the terminal gets a heartbeat.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

/// How often a long step reports that it is still going.
const HEARTBEAT: Duration = Duration::from_secs(30);

/// Runs `command` to completion with stdout and stderr in `log`, printing a line every
/// [`HEARTBEAT`] with the elapsed time and the latest log line. On failure the error
/// carries the end of the log.
pub(crate) fn run_logged(what: &str, mut command: Command, log: &Path) -> anyhow::Result<()> {
    let file = File::create(log).with_context(|| format!("creating {}", log.display()))?;
    let mut child = command
        .stdout(Stdio::from(file.try_clone()?))
        .stderr(Stdio::from(file))
        .spawn()
        .with_context(|| format!("starting {what}"))?;
    let start = Instant::now();
    let (done_tx, done_rx) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let status = child.wait();
        let _ = done_tx.send(());
        status
    });
    while done_rx.recv_timeout(HEARTBEAT).is_err() {
        println!(
            "  ... {what}: {} elapsed, at: {}",
            elapsed(start),
            last_line(log).unwrap_or_default()
        );
    }
    let status = waiter.join().expect("waiter thread panicked")?;
    if !status.success() {
        bail!(
            "{what} failed ({status}); log: {}\n{}",
            log.display(),
            tail(log, 25)
        );
    }
    println!("  {what}: done in {}", elapsed(start));
    Ok(())
}

/// `1m05s`-style elapsed time.
pub(crate) fn elapsed(start: Instant) -> String {
    let secs = start.elapsed().as_secs();
    format!("{}m{:02}s", secs / 60, secs % 60)
}

fn last_line(log: &Path) -> Option<String> {
    let lines = BufReader::new(File::open(log).ok()?).lines();
    lines
        .map_while(Result::ok)
        .filter(|l| !l.trim().is_empty())
        .last()
}

/// The last `n` lines of a log file.
pub(crate) fn tail(log: &Path, n: usize) -> String {
    let Ok(file) = File::open(log) else {
        return String::new();
    };
    let lines: Vec<String> = BufReader::new(file).lines().map_while(Result::ok).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
