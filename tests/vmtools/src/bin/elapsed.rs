//! `elapsed`: runs a command and prints its wall time with microsecond resolution
//! (busybox `time` and `/proc/uptime` only give hundredths of a second), or with `--from` the
//! time from a path's appearance, while the command runs, to its end.

use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Parser;

/// How often `--from`'s path is looked for.
const LOOK_INTERVAL: Duration = Duration::from_millis(1);

/// Runs COMMAND and prints `seconds=S exit=N` on stderr.
#[derive(Parser)]
struct Cli {
    /// Count from the moment this path exists (looked for every millisecond while COMMAND
    /// runs), not from COMMAND's start; an error if COMMAND ends before it exists.
    #[arg(long)]
    from: Option<PathBuf>,
    /// The command and its arguments.
    #[arg(required = true, trailing_var_arg = true)]
    command: Vec<String>,
}

fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    let (program, args) = cli.command.split_first().context("no command")?;
    let mut start = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .spawn()
        .with_context(|| format!("running {program}"))?;
    let status = match &cli.from {
        None => child.wait()?,
        Some(path) => {
            let mut seen = false;
            loop {
                if !seen && path.exists() {
                    start = Instant::now();
                    seen = true;
                }
                if let Some(status) = child.try_wait()? {
                    if !seen {
                        bail!("{program} ended before {} existed", path.display());
                    }
                    break status;
                }
                std::thread::sleep(LOOK_INTERVAL);
            }
        }
    };
    let seconds = start.elapsed().as_secs_f64();
    let code = status.code().unwrap_or(255);
    eprintln!("seconds={seconds:.6} exit={code}");
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(255)))
}
