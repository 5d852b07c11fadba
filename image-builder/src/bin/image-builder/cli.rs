//! The command line, as clap structures.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use image_builder::Label;

use crate::args;

const EXIT_CODES: &str =
    "Exit codes: 0 success, 1 error (or an image failing inspection), 2 usage.";

/// The reproducible FAT image that carries a vusbkey token.
#[derive(Debug, Parser)]
#[command(version, after_help = EXIT_CODES)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Build an image holding a token (timestamps from its iat, or from
    /// SOURCE_DATE_EPOCH when set).
    #[command(after_help = EXIT_CODES)]
    Build(BuildArgs),
    /// List an image's files, check its manifest, show its token.
    #[command(after_help = EXIT_CODES)]
    Inspect(InspectArgs),
    /// List the ports of the loaded vusbkey.ko: each port's VM, token expiry and image
    /// SHA-256, and the disk it appears as (tab-separated; tokens read, not verified).
    #[command(after_help = EXIT_CODES)]
    Ports(PortsArgs),
}

/// `image-builder build`.
#[derive(Debug, Args)]
pub(crate) struct BuildArgs {
    /// The token file (from `authkey sign`).
    #[arg(long, value_name = "FILE")]
    pub(crate) token: PathBuf,
    /// The issuer's public key: put on the image; the token must verify under it.
    #[arg(long, value_name = "FILE")]
    pub(crate) public: Option<PathBuf>,
    /// The volume label.
    #[arg(long, value_name = "NAME", default_value = image_builder::DEFAULT_LABEL)]
    pub(crate) label: Label,
    /// The image size, e.g. 1MiB, 32M, 65536 (binary units; a multiple of 512 bytes);
    /// default: the smallest that holds the files.
    #[arg(long, value_name = "SIZE", value_parser = args::size)]
    pub(crate) size: Option<u64>,
    /// Replace an existing image.
    #[arg(long)]
    pub(crate) force: bool,
    /// Where to write the image.
    #[arg(long, value_name = "IMAGE")]
    pub(crate) out: PathBuf,
}

/// `image-builder inspect`.
#[derive(Debug, Args)]
pub(crate) struct InspectArgs {
    /// The image (any FAT volume).
    #[arg(value_name = "IMAGE")]
    pub(crate) image: PathBuf,
    /// Verify the token under this public key (now, for any VM).
    #[arg(long, value_name = "FILE")]
    pub(crate) public: Option<PathBuf>,
}

/// `image-builder ports`.
#[derive(Debug, Args)]
pub(crate) struct PortsArgs {
    /// Where sysfs is mounted.
    #[arg(long, value_name = "DIR", default_value = "/sys")]
    pub(crate) sysfs: PathBuf,
    /// Where the block devices are.
    #[arg(long, value_name = "DIR", default_value = "/dev")]
    pub(crate) dev: PathBuf,
}
