//! `authkey inspect`: show a token's claims, verifying NOTHING.

use anyhow::Context as _;
use authkey::UnverifiedToken;

use crate::cli::InspectArgs;
use crate::exit_code::{Code, Failure, WithCode as _};
use crate::token_file;

const WARNING: &str =
    "UNVERIFIED: signature, key, VM and validity NOT checked; do not trust these claims \
     (use `authkey verify`)";

/// Prints the claims and key id under a warning, on both standard output and error.
pub(crate) fn run(args: &InspectArgs) -> Result<(), Failure> {
    let token = token_file::read(&args.token)?;
    let parsed = UnverifiedToken::parse(&token)
        .context("malformed token")
        .code(Code::Malformed)?;
    let json = parsed.claims().to_pretty_json().code(Code::Other)?;
    eprintln!("authkey: WARNING: {WARNING}");
    println!("{WARNING}");
    println!("kid: {}", parsed.kid());
    println!("{json}");
    Ok(())
}
