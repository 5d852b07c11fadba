//! `authkey`: keys, tokens and verification for vusbkey, a thin shell over the
//! [`authkey`] library.
//!
//! Commands: `keygen`, `sign`, `verify`, `inspect` (see `authkey --help`).
//!
//! ```text
#![doc = include_str!("exit_codes.txt")]
//! ```

mod args;
mod cli;
mod exit_code;
mod inspect;
mod keygen;
mod sign;
mod token_file;
mod verify;

use std::process::ExitCode;

use clap::Parser as _;

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Keygen(args) => keygen::run(&args),
        Command::Sign(args) => sign::run(&args),
        Command::Verify(args) => verify::run(&args),
        Command::Inspect(args) => inspect::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("authkey: error: {:#}", failure.error);
            ExitCode::from(failure.code as u8)
        }
    }
}
