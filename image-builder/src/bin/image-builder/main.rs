//! `image-builder`: builds and inspects the vusbkey FAT image, and lists the keys of the
//! loaded vusbkey.ko, a thin shell over the [`image_builder`] library.
//!
//! Exit codes: 0 success, 1 error (including an image that fails inspection), 2 usage.

mod args;
mod build;
mod cli;
mod inspect;
mod ports;
mod report;

use std::process::ExitCode;

use clap::Parser as _;

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Build(args) => build::run(&args),
        Command::Inspect(args) => inspect::run(&args),
        Command::Ports(args) => ports::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("image-builder: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
