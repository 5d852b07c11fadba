//! `authkey verify`: check a token against trusted keys, print its claims.

use anyhow::Context as _;
use authkey::{PublicKey, VerifyError, VerifyOptions};
use time::OffsetDateTime;

use crate::cli::VerifyArgs;
use crate::exit_code::{Code, Failure, WithCode as _};
use crate::token_file;

/// Verifies the token; prints the claims on success, maps each failure to its code.
pub(crate) fn run(args: &VerifyArgs) -> Result<(), Failure> {
    let trusted = args
        .public
        .iter()
        .map(|path| PublicKey::load_pem_file(path).context("cannot load a trusted public key"))
        .collect::<Result<Vec<_>, _>>()
        .code(Code::Unreadable)?;
    let token = token_file::read(&args.token)?;
    let options = VerifyOptions {
        vm: args.vm,
        at: args.at.unwrap_or_else(OffsetDateTime::now_utc),
        skew: args.skew,
    };
    let claims = authkey::verify(&token, &trusted, &options).map_err(|e| {
        let code = match e {
            VerifyError::Malformed(_) => Code::Malformed,
            VerifyError::UnknownKey { .. } => Code::UnknownKey,
            VerifyError::BadSignature { .. } => Code::BadSignature,
            VerifyError::WrongVm { .. } => Code::WrongVm,
            VerifyError::NotYetValid { .. } => Code::NotYetValid,
            VerifyError::Expired { .. } => Code::Expired,
        };
        Failure {
            code,
            error: e.into(),
        }
    })?;
    let json = claims.to_pretty_json().code(Code::Other)?;
    println!("VERIFIED");
    println!("{json}");
    Ok(())
}
