//! The command line, as clap structures.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::args;

/// The exit code table, shown after every `--help`.
const EXIT_CODES: &str = include_str!("exit_codes.txt");

/// Ed25519 keys and PASETO v4.public tokens for vusbkey.
#[derive(Debug, Parser)]
#[command(version, after_help = EXIT_CODES)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Generate an issuer key pair: PKCS#8 v1 PEM (mode 0600) and SPKI PEM.
    #[command(after_help = EXIT_CODES)]
    Keygen(KeygenArgs),
    /// Sign a token binding a VM for a period.
    #[command(after_help = EXIT_CODES)]
    Sign(SignArgs),
    /// Verify a token against trusted keys and print its claims.
    #[command(after_help = EXIT_CODES)]
    Verify(VerifyArgs),
    /// Show a token's claims WITHOUT verifying anything.
    #[command(after_help = EXIT_CODES)]
    Inspect(InspectArgs),
}

/// `authkey keygen`.
#[derive(Debug, Args)]
pub(crate) struct KeygenArgs {
    /// Where to write the private key.
    #[arg(long, value_name = "FILE")]
    pub(crate) secret: PathBuf,
    /// Where to write the public key.
    #[arg(long, value_name = "FILE")]
    pub(crate) public: PathBuf,
    /// Replace existing files.
    #[arg(long)]
    pub(crate) force: bool,
}

/// `authkey sign`.
#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    /// The issuer's private key (PKCS#8 PEM).
    #[arg(long, value_name = "FILE")]
    pub(crate) secret: PathBuf,
    /// The VM's SMBIOS UUID.
    #[arg(long, value_name = "UUID")]
    pub(crate) vm: Uuid,
    /// How long the token is valid from its start, e.g. 30d or 12h.
    #[arg(long, value_name = "DURATION", value_parser = args::duration)]
    pub(crate) valid_for: Duration,
    /// Start of validity (RFC 3339); default now.
    #[arg(long, value_name = "TIME", value_parser = args::time)]
    pub(crate) not_before: Option<OffsetDateTime>,
    /// The `iss` claim.
    #[arg(long, value_name = "NAME", default_value = authkey::DEFAULT_ISSUER)]
    pub(crate) issuer: String,
    /// The `aud` claim.
    #[arg(long, value_name = "NAME", default_value = authkey::DEFAULT_AUDIENCE)]
    pub(crate) audience: String,
    /// Where to write the token.
    #[arg(long, value_name = "FILE")]
    pub(crate) out: PathBuf,
    /// Replace an existing output file.
    #[arg(long)]
    pub(crate) force: bool,
}

/// `authkey verify`.
#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// A trusted public key (SPKI PEM); repeat for several (key rotation). The token's
    /// key id picks one.
    #[arg(long = "public", value_name = "FILE", required = true)]
    pub(crate) public: Vec<PathBuf>,
    /// The VM the token must be bound to; without it any VM is accepted.
    #[arg(long, value_name = "UUID")]
    pub(crate) vm: Option<Uuid>,
    /// Check validity at this time (RFC 3339) instead of now.
    #[arg(long, value_name = "TIME", value_parser = args::time)]
    pub(crate) at: Option<OffsetDateTime>,
    /// Tolerated clock difference for nbf and exp.
    #[arg(long, value_name = "DURATION", value_parser = args::duration, default_value = "0s")]
    pub(crate) skew: Duration,
    /// The token file (`-` for standard input); surrounding whitespace is ignored.
    #[arg(value_name = "TOKEN")]
    pub(crate) token: PathBuf,
}

/// `authkey inspect`.
#[derive(Debug, Args)]
pub(crate) struct InspectArgs {
    /// The token file (`-` for standard input); surrounding whitespace is ignored.
    #[arg(value_name = "TOKEN")]
    pub(crate) token: PathBuf,
}
