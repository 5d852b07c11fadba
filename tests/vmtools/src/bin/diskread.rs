//! `diskread`: read throughput of a block device with O_DIRECT, sequential or random,
//! printed as one `key=value` line for the benchmark VM to collect.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::{Parser, ValueEnum};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use vusbkey_vmtools::direct::{AlignedBuf, DirectDisk, ALIGN};

/// Measures how fast a block device reads, bypassing the page cache.
#[derive(Parser)]
struct Cli {
    /// The block device (or file) to read.
    device: PathBuf,
    /// Access pattern.
    #[arg(long, value_enum, default_value_t = Pattern::Sequential)]
    pattern: Pattern,
    /// Bytes per read (a multiple of 4096).
    #[arg(long, default_value_t = 1 << 20)]
    block: usize,
    /// Random pattern: how long to read, in seconds.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Read through the page cache (for files on tmpfs, the memory-copy ceiling).
    #[arg(long)]
    buffered: bool,
    /// Random pattern: seed of the offsets.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// How reads are placed.
#[derive(Clone, Copy, ValueEnum)]
enum Pattern {
    /// The whole device once, front to back.
    Sequential,
    /// Uniformly random aligned offsets, for a fixed time.
    Random,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let disk = DirectDisk::open(&cli.device, cli.buffered)
        .with_context(|| format!("opening {}", cli.device.display()))?;
    let mut buf = AlignedBuf::new(cli.block)?;
    let buf = buf.as_mut_slice();
    let block = cli.block as u64;
    if disk.size() < block {
        bail!("{} is smaller than one read", cli.device.display());
    }
    let start = Instant::now();
    let (mut reads, mut bytes) = (0u64, 0u64);
    match cli.pattern {
        Pattern::Sequential => {
            while bytes < disk.size() {
                let n = disk.read_at(buf, bytes)?;
                if n == 0 {
                    break;
                }
                reads += 1;
                bytes += n as u64;
            }
        }
        Pattern::Random => {
            let mut rng = SmallRng::seed_from_u64(cli.seed);
            let slots = (disk.size() - block) / ALIGN as u64 + 1;
            let limit = Duration::from_secs(cli.seconds);
            while start.elapsed() < limit {
                let offset = rng.gen_range(0..slots) * ALIGN as u64;
                bytes += disk.read_at(buf, offset)? as u64;
                reads += 1;
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "reads={reads} bytes={bytes} seconds={secs:.3} mib_per_s={:.2} reads_per_s={:.1}",
        bytes as f64 / secs / (1 << 20) as f64,
        reads as f64 / secs
    );
    Ok(())
}
