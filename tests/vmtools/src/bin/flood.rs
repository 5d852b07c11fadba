//! `flood`: a hostile guest's agent channel: writes garbage to a virtio-serial port as
//! fast as the host takes it (lines far too long, malformed JSON, binary noise, valid
//! reports beyond any rate limit), for the e2e check that one flooding guest does not
//! delay another guest's report.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// Writes garbage to PORT until SECONDS have passed, then prints `flood bytes=N`.
#[derive(Parser)]
struct Cli {
    /// The port's device node (`/dev/vportNpM`).
    port: PathBuf,
    /// How long to flood.
    #[arg(long, default_value_t = 600)]
    seconds: u64,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut port = OpenOptions::new()
        .write(true)
        .open(&cli.port)
        .with_context(|| format!("opening {}", cli.port.display()))?;
    let mut rng = SmallRng::seed_from_u64(0x5655_534b);
    let mut noise = vec![0u8; 65536];
    rng.fill(&mut noise[..]);
    let long = vec![b'{'; 65536];
    let chunks: [&[u8]; 5] = [
        &long,
        b"\n{\"event\":\"accepted\",\"jti\":\n",
        &noise,
        b"\n{\"event\":\"refused\",\"reason\":\"flood\",\"exit_code\":1,\"detail\":\"\"}\n",
        b"{\"event\":\"accepted\",\"vm\":\"00000000-0000-0000-0000-000000000000\"}\n",
    ];
    let end = Instant::now() + Duration::from_secs(cli.seconds);
    let mut bytes = 0u64;
    for chunk in chunks.iter().cycle() {
        if Instant::now() >= end {
            break;
        }
        port.write_all(chunk).context("writing")?;
        bytes += chunk.len() as u64;
    }
    println!("flood bytes={bytes}");
    Ok(())
}
