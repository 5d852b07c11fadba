//! `cargo xtask bench`: how fast vusbkey is next to Linux's reference (dummy_hcd +
//! g_mass_storage ro=1) and the memory-copy ceiling, measured in one VM run on the
//! release kernel; the same for vusbkey-usbip in one VM run on Debian 12's kernel; plus token verification, image building (criterion) and the monitor's
//! ingestion rate on the host.
//! Prints a markdown table and writes it with the raw numbers under `target/bench/`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context};
use serde_json::json;
use xshell::Shell;

use crate::kernel::Flavour;
use crate::line::Line;
use crate::paths::Paths;
use crate::results::{Metric, Share};
use crate::suite::Suite;
use crate::vm::{self, Boot};
use crate::vm_kernel::VmKernel;
use crate::{bench_usbip, keydisk, kmod, monitor_bench, profile};

/// perf (Debian's `linux-perf`), for bench.sh's profiles of where the time goes.
const PERF: &str = "/usr/bin/perf";
/// The size of the benchmark image (built by image-builder).
const IMAGE_SIZE: u64 = 256 << 20;
/// The images of the module with a port per VM, read one at a time and all at once.
const PORT_VMS: [(uuid::Uuid, u64); 3] = [
    (keydisk::VM_UUID, 64 << 20),
    (keydisk::OTHER_UUID, 64 << 20),
    (keydisk::THIRD_UUID, 64 << 20),
];

/// Host-side benchmarks: (package, bench target, criterion id, metric name, unit divisor from ns).
const CRITERION: &[(&str, &str, &str, &str, f64)] = &[
    ("authkey", "verify", "token_verify", "token_verify_us", 1e3),
    (
        "image-builder",
        "build",
        "image_build_1mib",
        "image_build_1mib_ms",
        1e6,
    ),
];

/// Runs the benchmarks; `runs` repetitions of each VM measurement, the module's VM on `cpus`
/// of the two vCPUs QEMU gives it (`nr_cpus=`).
pub(crate) fn run(paths: &Paths, runs: u32, cpus: u32, kvm: bool) -> anyhow::Result<()> {
    let dir = paths.target().join("bench");
    std::fs::create_dir_all(&dir)?;
    let keys = keydisk::make(paths)?;
    let image = dir.join("image.img");
    std::fs::write(&image, keys.image_of_size(IMAGE_SIZE)?)?;
    let small = kmod::build(paths, Line::V6_12, Flavour::Release, &[&keys.image], "demo")?;
    let large = kmod::build(paths, Line::V6_12, Flavour::Release, &[&image], "bench")?;
    let port_images = keydisk::images_for(paths, "bench-port", &PORT_VMS)?;
    let ports = kmod::build(
        paths,
        Line::V6_12,
        Flavour::Release,
        &port_images,
        "bench-ports",
    )?;

    let sh = Shell::new()?;
    let initramfs = vm::base_initramfs(paths, &small.kernel, &dir.join("initramfs"))?;
    let suite = Suite::load(paths, "bench")?;
    initramfs.add_file(&suite.path, &suite.guest_path(), 0o644)?;
    initramfs.add_file(&small.ko, "vusbkey/vusbkey.ko", 0o644)?;
    initramfs.add_file(&large.ko, "vusbkey/bench/vusbkey.ko", 0o644)?;
    initramfs.add_file(&ports.ko, "vusbkey/bench/ports/vusbkey.ko", 0o644)?;
    initramfs.add_file(&image, "vusbkey/bench/image.img", 0o644)?;
    vm::add_agent(paths, &keys, &initramfs)?;
    initramfs.add_program(&sh, Path::new(PERF))?;
    let initrd = dir.join("initramfs.cpio.gz");
    initramfs.pack(&sh, &initrd)?;

    let boot = Boot {
        kernel: small.kernel.bzimage(),
        initrd,
        append: format!("vusbkey.suite=bench vusbkey.bench_runs={runs} nr_cpus={cpus}"),
        log: dir.join("bench.log"),
        memory_mib: 3072,
        uuid: Some(keydisk::VM_UUID),
        timeout: suite.timeout,
        vm_kernel: VmKernel::Project(Line::V6_12, Flavour::Release),
    };
    let report = boot.run("bench", kvm)?;
    let usbip = bench_usbip::run(paths, &image, runs, kvm)?;
    let mut samples = samples(&report.metrics);
    samples.extend(self::samples(&usbip.metrics));
    for (package, target, id, name, divisor) in CRITERION {
        let ns = criterion(paths, package, target, id)?;
        samples.insert((*name).to_owned(), vec![ns / divisor]);
    }
    samples.extend(monitor_bench::run(paths, runs)?);
    let table = table(&samples, runs, cpus, &report.profile);
    println!("\n{table}");
    std::fs::write(dir.join("results.md"), &table)?;
    std::fs::write(
        dir.join("results.json"),
        serde_json::to_string_pretty(&json_report(&samples, runs, cpus, &report.profile))?,
    )?;
    println!("bench: results in {}", dir.display());
    for (report, log) in [
        (&report, &boot.log),
        (&usbip, &dir.join("usbip/bench-usbip.log")),
    ] {
        let failed = report.checks.iter().filter(|c| !c.passed).count();
        if failed > 0 {
            bail!(
                "a benchmark VM reported {failed} failed check(s); see {}",
                log.display()
            );
        }
    }
    Ok(())
}

/// Samples by metric name.
type Samples = BTreeMap<String, Vec<f64>>;

fn samples(metrics: &[Metric]) -> Samples {
    let mut samples = Samples::new();
    for metric in metrics {
        samples
            .entry(metric.name.clone())
            .or_default()
            .push(metric.value);
    }
    samples
}

/// (min, median, max) of a metric.
fn stats(samples: &Samples, name: &str) -> Option<(f64, f64, f64)> {
    let mut values = samples.get(name)?.clone();
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    Some((
        values[0],
        values[values.len() / 2],
        values[values.len() - 1],
    ))
}

fn median(samples: &Samples, name: &str) -> Option<f64> {
    stats(samples, name).map(|(_, median, _)| median)
}

/// Ratio of two medians.
fn ratio(samples: &Samples, numerator: &str, denominator: &str) -> Option<f64> {
    Some(median(samples, numerator)? / median(samples, denominator)?)
}

/// A ratio (or a median) the project's targets are stated in: name, value, target, whether
/// met.
type Ratio = (&'static str, Option<f64>, String, Option<bool>);

/// `value >= min`.
fn at_least(name: &'static str, value: Option<f64>, min: f64) -> Ratio {
    (name, value, format!(">= {min}"), value.map(|v| v >= min))
}

/// `value <= max`.
fn at_most(name: &'static str, value: Option<f64>, max: f64) -> Ratio {
    (name, value, format!("<= {max}"), value.map(|v| v <= max))
}

/// `value < limit`.
fn below(name: &'static str, value: Option<f64>, limit: f64) -> Ratio {
    (name, value, format!("< {limit}"), value.map(|v| v < limit))
}

/// A ratio shown for what it tells about the others, without a target of its own.
fn shown(name: &'static str, value: Option<f64>) -> Ratio {
    (name, value, "(none)".to_owned(), None)
}

/// The ratios of issue 15's targets (at the default speed, and again at SuperSpeed), the
/// insmod time, the agent's verdict, the ports' aggregate and vusbkey-usbip's.
fn ratios(samples: &Samples) -> Vec<Ratio> {
    let r = |numerator, denominator| ratio(samples, numerator, denominator);
    vec![
        at_least(
            "seq_read_ratio_vs_reference",
            r("seq_mib_s.vusbkey", "seq_mib_s.reference"),
            60.0,
        ),
        at_least(
            "seq_read_ratio_vs_ceiling",
            r("seq_mib_s.vusbkey", "seq_mib_s.ceiling"),
            0.8,
        ),
        at_least(
            "rand_read_ratio_vs_reference",
            r("rand_iops.vusbkey", "rand_iops.reference"),
            60.0,
        ),
        at_least(
            "seq_read_ratio_vs_reference_super",
            r("seq_mib_s.vusbkey_super", "seq_mib_s.reference"),
            60.0,
        ),
        at_least(
            "seq_read_ratio_vs_ceiling_super",
            r("seq_mib_s.vusbkey_super", "seq_mib_s.ceiling"),
            0.8,
        ),
        at_least(
            "rand_read_ratio_vs_reference_super",
            r("rand_iops.vusbkey_super", "rand_iops.reference"),
            60.0,
        ),
        // The most any device that copies each byte once could reach: a sequential target
        // against the reference above this one is out of reach.
        shown(
            "seq_ceiling_ratio_vs_reference",
            r("seq_mib_s.ceiling", "seq_mib_s.reference"),
        ),
        shown(
            "rand_ceiling_ratio_vs_reference",
            r("rand_iops.ceiling", "rand_iops.reference"),
        ),
        shown(
            "seq_read_ratio_vs_reference_unpinned",
            r("seq_mib_s.vusbkey_unpinned", "seq_mib_s.reference_unpinned"),
        ),
        shown(
            "rand_read_ratio_vs_reference_unpinned",
            r("rand_iops.vusbkey_unpinned", "rand_iops.reference_unpinned"),
        ),
        at_most(
            "insmod_time_ratio_vs_reference",
            r("insmod_s.vusbkey", "insmod_s.reference"),
            1.0,
        ),
        below("agent_verdict_s", median(samples, "agent_s.vusbkey"), 0.05),
        at_least(
            "multi_port_seq_read_ratio_vs_single",
            r("seq_mib_s.three_ports", "seq_mib_s.one_port"),
            0.9,
        ),
        at_least(
            "usbip_seq_read_ratio_vs_reference",
            r("seq_mib_s.usbip", "seq_mib_s.usbip_reference"),
            5.0,
        ),
        at_least(
            "usbip_rand_read_ratio_vs_reference",
            r("rand_iops.usbip", "rand_iops.usbip_reference"),
            5.0,
        ),
    ]
}

/// What each metric is, for the table: name, description, unit.
const ROWS: &[(&str, &str, &str)] = &[
    (
        "seq_mib_s.vusbkey",
        "sequential read, vusbkey (O_DIRECT, 1 MiB; reader and storage threads on CPU 0)",
        "MiB/s",
    ),
    (
        "seq_mib_s.reference",
        "sequential read, dummy_hcd + g_mass_storage (on CPU 0)",
        "MiB/s",
    ),
    (
        "seq_mib_s.ceiling",
        "sequential read, same image in tmpfs (ceiling)",
        "MiB/s",
    ),
    (
        "rand_iops.vusbkey",
        "random 4 KiB reads, vusbkey (O_DIRECT, on CPU 0)",
        "reads/s",
    ),
    (
        "rand_iops.ceiling",
        "random 4 KiB reads, same image in tmpfs (ceiling)",
        "reads/s",
    ),
    (
        "seq_mib_s.vusbkey_unpinned",
        "sequential read, vusbkey, threads where the scheduler puts them",
        "MiB/s",
    ),
    (
        "seq_mib_s.reference_unpinned",
        "sequential read, reference, threads where the scheduler puts them",
        "MiB/s",
    ),
    (
        "rand_iops.vusbkey_unpinned",
        "random 4 KiB reads, vusbkey, threads where the scheduler puts them",
        "reads/s",
    ),
    (
        "rand_iops.reference_unpinned",
        "random 4 KiB reads, reference, threads where the scheduler puts them",
        "reads/s",
    ),
    (
        "seq_mib_s.vusbkey_super",
        "sequential read, vusbkey at SuperSpeed (speed=super)",
        "MiB/s",
    ),
    (
        "rand_iops.vusbkey_super",
        "random 4 KiB reads, vusbkey at SuperSpeed (speed=super)",
        "reads/s",
    ),
    (
        "rand_iops.reference",
        "random 4 KiB reads, dummy_hcd + g_mass_storage (on CPU 0)",
        "reads/s",
    ),
    (
        "insmod_s.vusbkey",
        "insmod to block device, vusbkey (demo image)",
        "s",
    ),
    (
        "insmod_s.vusbkey_large",
        "insmod to block device, vusbkey (256 MiB image)",
        "s",
    ),
    (
        "insmod_s.reference",
        "insmod g_mass_storage to block device",
        "s",
    ),
    (
        "agent_s.vusbkey_waiting",
        "agent: disk appears to verdict, the agent waiting for it (as at a guest's boot)",
        "s",
    ),
    (
        "agent_s.vusbkey",
        "agent: started with the disk present, to verdict",
        "s",
    ),
    (
        "agent_s.vusbkey_fixed_addresses",
        "agent: device present to verdict, no ASLR (TCG keeps its code translations)",
        "s",
    ),
    (
        "profile_samples.seq",
        "perf samples, 4 sequential passes of vusbkey (profile below)",
        "samples",
    ),
    (
        "profile_samples.rand",
        "perf samples, 5 s of random 4 KiB reads of vusbkey (profile below)",
        "samples",
    ),
    (
        "seq_mib_s.one_port",
        "sequential read, one port of a 3-port module alone (64 MiB image)",
        "MiB/s",
    ),
    (
        "seq_mib_s.three_ports",
        "sequential read, all 3 ports at once, aggregate",
        "MiB/s",
    ),
    (
        "seq_mib_s.usbip",
        "sequential read, vusbkey-usbip on Debian 12's kernel (O_DIRECT, 1 MiB)",
        "MiB/s",
    ),
    (
        "seq_mib_s.usbip_reference",
        "sequential read, configfs f_mass_storage on the same kernel",
        "MiB/s",
    ),
    (
        "rand_iops.usbip",
        "random 4 KiB reads, vusbkey-usbip (O_DIRECT)",
        "reads/s",
    ),
    (
        "rand_iops.usbip_reference",
        "random 4 KiB reads, configfs f_mass_storage on the same kernel",
        "reads/s",
    ),
    (
        "token_verify_us",
        "token verification (host, criterion median)",
        "µs",
    ),
    (
        "image_build_1mib_ms",
        "1 MiB image build (host, criterion median)",
        "ms",
    ),
    (
        "monitor_events_s",
        "monitor ingestion, 50 VM sockets writing at once (host)",
        "events/s",
    ),
    (
        "monitor_p99_ms",
        "monitor: p99 write-to-stored latency under that load (host)",
        "ms",
    ),
];

fn table(samples: &Samples, runs: u32, cpus: u32, profile: &[Share]) -> String {
    let mut out = format!(
        "## vusbkey benchmark ({runs} runs per VM measurement, one VM with {cpus} CPU(s), release kernel, TCG)\n\n\
         | measurement | unit | min | median | max |\n| --- | --- | ---: | ---: | ---: |\n"
    );
    for (name, what, unit) in ROWS {
        let cells = stats(samples, name).map_or_else(
            || "n/a | n/a | n/a".to_owned(),
            |(min, median, max)| format!("{min:.3} | {median:.3} | {max:.3}"),
        );
        let _ = writeln!(out, "| {what} | {unit} | {cells} |");
    }
    out.push_str("\n| ratio (of medians) | value | target | met |\n| --- | ---: | --- | --- |\n");
    for (name, value, target, met) in ratios(samples) {
        let value = value.map_or("n/a".to_owned(), |v| format!("{v:.3}"));
        let met = met.map_or("n/a", |m| if m { "yes" } else { "**no**" });
        let _ = writeln!(out, "| {name} | {value} | {target} | {met} |");
    }
    out.push_str(&profile::markdown(profile));
    out
}

fn json_report(samples: &Samples, runs: u32, cpus: u32, profile: &[Share]) -> serde_json::Value {
    let metrics: serde_json::Map<String, serde_json::Value> = samples
        .iter()
        .map(|(name, values)| {
            let (min, median, max) = stats(samples, name).unwrap_or_default();
            (
                name.clone(),
                json!({ "min": min, "median": median, "max": max, "samples": values }),
            )
        })
        .collect();
    let mut report = json!({ "runs": runs, "cpus": cpus, "metrics": metrics, "profile": profile::json(profile) });
    for (name, value, target, met) in ratios(samples) {
        report[name] = json!(value);
        report[format!("{name}_target")] = json!(target);
        report[format!("{name}_met")] = json!(met);
    }
    report
}

/// Runs one criterion benchmark and returns its median in nanoseconds.
fn criterion(paths: &Paths, package: &str, target: &str, id: &str) -> anyhow::Result<f64> {
    println!("bench: criterion {package}/{target} (host)");
    let status = Command::new(env!("CARGO"))
        .args(["bench", "--quiet", "-p", package, "--bench", target, "--"])
        .args(["--warm-up-time", "1", "--measurement-time", "3", "--noplot"])
        .current_dir(&paths.root)
        .status()?;
    if !status.success() {
        bail!("cargo bench -p {package} --bench {target} failed");
    }
    let estimates = paths
        .target()
        .join("criterion")
        .join(id)
        .join("new/estimates.json");
    median_ns(&estimates)
}

fn median_ns(estimates: &Path) -> anyhow::Result<f64> {
    let text = std::fs::read_to_string(estimates)
        .with_context(|| format!("reading {}", estimates.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text)?;
    value["median"]["point_estimate"]
        .as_f64()
        .with_context(|| format!("no median in {}", estimates.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_set() -> Samples {
        let mut samples = Samples::new();
        samples.insert("seq_mib_s.vusbkey".into(), vec![300.0, 100.0, 200.0]);
        samples.insert("seq_mib_s.reference".into(), vec![2.0, 1.0, 4.0]);
        samples.insert("seq_mib_s.ceiling".into(), vec![1000.0]);
        samples
    }

    #[test]
    fn stats_are_min_median_max() {
        assert_eq!(
            stats(&sample_set(), "seq_mib_s.vusbkey"),
            Some((100.0, 200.0, 300.0))
        );
        assert_eq!(stats(&sample_set(), "missing"), None);
    }

    #[test]
    fn ratios_use_medians_and_say_whether_targets_are_met() {
        let ratios = ratios(&sample_set());
        assert_eq!(
            ratios[0],
            (
                "seq_read_ratio_vs_reference",
                Some(100.0),
                ">= 60".to_owned(),
                Some(true)
            )
        );
        assert_eq!(
            ratios[1],
            (
                "seq_read_ratio_vs_ceiling",
                Some(0.2),
                ">= 0.8".to_owned(),
                Some(false)
            )
        );
        assert_eq!(ratios[2].1, None);
        let ceiling = ratios
            .iter()
            .find(|r| r.0 == "seq_ceiling_ratio_vs_reference")
            .unwrap();
        assert_eq!((ceiling.1, ceiling.3), (Some(500.0), None));
        let json = json_report(&sample_set(), 3, 2, &[]);
        assert_eq!(json["seq_read_ratio_vs_reference"], json!(100.0));
        assert_eq!(json["seq_read_ratio_vs_ceiling_met"], json!(false));
    }
}
