//! `elapsed`: runs a command and prints its wall time with microsecond resolution
//! (busybox `time` and `/proc/uptime` only give hundredths of a second).

use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::Context;
use clap::Parser;

/// Runs COMMAND and prints `seconds=S exit=N` on stderr.
#[derive(Parser)]
struct Cli {
    /// The command and its arguments.
    #[arg(required = true, trailing_var_arg = true)]
    command: Vec<String>,
}

fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    let (program, args) = cli.command.split_first().context("no command")?;
    let start = Instant::now();
    let status = Command::new(program)
        .args(args)
        .status()
        .with_context(|| format!("running {program}"))?;
    let seconds = start.elapsed().as_secs_f64();
    let code = status.code().unwrap_or(255);
    eprintln!("seconds={seconds:.6} exit={code}");
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(255)))
}
