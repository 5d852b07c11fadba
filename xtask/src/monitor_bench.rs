//! The monitor's ingestion benchmark (host side, no VM): 50 simulated VM sockets each
//! write their reports back to back into a release `vusbkey-monitor`; measured are the
//! events stored per second and the p99 latency from a report's write to its
//! acknowledgement (the log line printed once its transaction committed).

use std::collections::HashMap;
use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::Context;
use uuid::Uuid;
use vusbkey_report::Report;

use crate::paths::Paths;
use crate::simulated_vms::HostMonitor;
use crate::vm::cargo_release;

/// Simulated VMs.
const VMS: u128 = 50;
/// Reports each VM writes per run.
const REPORTS: usize = 100;

/// `runs` runs; the samples by metric name: `monitor_events_s`, `monitor_p99_ms`.
pub(crate) fn run(paths: &Paths, runs: u32) -> anyhow::Result<Vec<(String, Vec<f64>)>> {
    let binary = cargo_release(paths, "vusbkey-monitor")?.join("vusbkey-monitor");
    let (mut rates, mut p99s) = (Vec::new(), Vec::new());
    for run in 0..runs {
        let (rate, p99) = one_run(paths, &binary, run)?;
        println!(
            "bench: monitor run {}: {rate:.0} events/s, p99 {p99:.1} ms",
            run + 1
        );
        rates.push(rate);
        p99s.push(p99);
    }
    Ok(vec![
        ("monitor_events_s".into(), rates),
        ("monitor_p99_ms".into(), p99s),
    ])
}

fn one_run(paths: &Paths, binary: &std::path::Path, run: u32) -> anyhow::Result<(f64, f64)> {
    let limits = "[limits]\nlines_per_sec = 1000000.0\nburst = 1000000\n";
    let mut monitor = HostMonitor::start(binary, &paths.target().join("bench/monitor"), limits)?;
    let mut channels = Vec::new();
    for i in 0..VMS {
        let vm = Uuid::from_u128(0x5655534b_0000_4000_8000_000000010000 + i);
        channels.push((vm, monitor.connect_vm(vm)?));
    }
    let kid = "ab".repeat(32);
    let writers: Vec<_> = channels
        .into_iter()
        .map(|(vm, mut channel)| {
            let kid = kid.clone();
            std::thread::spawn(move || -> std::io::Result<_> {
                let mut sent = Vec::with_capacity(REPORTS);
                for i in 0..REPORTS {
                    let jti = format!("r{run}-{vm}-{i}");
                    let line =
                        Report::accepted(&jti, "bench", 2_000_000_000, &kid, "/dev/sda").to_line();
                    let at = Instant::now();
                    channel.write_all(line.as_bytes())?;
                    sent.push((jti, at));
                }
                // Kept open until the end: a close would add `disconnected` events.
                Ok((sent, channel))
            })
        })
        .collect();
    let total = usize::try_from(VMS)? * REPORTS;
    let mut stored: HashMap<String, Instant> = HashMap::with_capacity(total);
    let deadline = Instant::now() + Duration::from_secs(60);
    while stored.len() < total {
        let left = deadline.saturating_duration_since(Instant::now());
        let (at, line) = monitor
            .next_line(left)
            .context("the monitor stopped acknowledging")?;
        if let Some(jti) = line
            .split(" jti=")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
        {
            stored.insert(jti.to_owned(), at);
        }
    }
    drop(monitor);
    let mut latencies = Vec::with_capacity(total);
    let mut first_write: Option<Instant> = None;
    for writer in writers {
        let (sent, _channel) = writer
            .join()
            .map_err(|_| anyhow::anyhow!("a writer panicked"))??;
        for (jti, at) in sent {
            first_write = Some(first_write.map_or(at, |first| first.min(at)));
            let done = stored
                .get(&jti)
                .with_context(|| format!("report {jti} never stored"))?;
            latencies.push(done.saturating_duration_since(at).as_secs_f64() * 1000.0);
        }
    }
    let last = stored.values().max().copied().context("nothing stored")?;
    let span = last.saturating_duration_since(first_write.context("nothing written")?);
    latencies.sort_by(f64::total_cmp);
    let p99 = latencies[(latencies.len() * 99).div_ceil(100) - 1];
    Ok((total as f64 / span.as_secs_f64(), p99))
}
