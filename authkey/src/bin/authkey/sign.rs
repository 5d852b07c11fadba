//! `authkey sign`: a token binding a VM for a period.

use std::fs::OpenOptions;
use std::io::Write as _;

use anyhow::{anyhow, Context as _};
use authkey::{ClaimsInput, SecretKey};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::cli::SignArgs;
use crate::exit_code::{Code, Failure, WithCode as _};

/// Signs a token and writes it, with a final newline, to `--out`.
pub(crate) fn run(args: &SignArgs) -> Result<(), Failure> {
    if !args.force && args.out.symlink_metadata().is_ok() {
        return Err(anyhow!(
            "{} already exists; use --force to replace it",
            args.out.display()
        ))
        .code(Code::Other);
    }
    let secret = SecretKey::load_pem_file(&args.secret)
        .context("cannot load the private key")
        .code(Code::Unreadable)?;
    let input = ClaimsInput {
        vm: args.vm,
        valid_for: args.valid_for,
        not_before: args.not_before,
        issued_at: OffsetDateTime::now_utc(),
        issuer: args.issuer.clone(),
        audience: args.audience.clone(),
    };
    let claims = input.to_claims().context("cannot sign").code(Code::Other)?;
    let token = authkey::sign(&secret, &claims)
        .context("cannot sign")
        .code(Code::Other)?;
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .create_new(!args.force)
        .open(&args.out)
        .and_then(|mut file| file.write_all(format!("{token}\n").as_bytes()))
        .with_context(|| format!("cannot write the token to {}", args.out.display()))
        .code(Code::Other)?;
    let show = |t: OffsetDateTime| t.format(&Rfc3339).unwrap_or_default();
    println!("token:  {}", args.out.display());
    println!("sub:    {}", claims.sub);
    println!("valid:  {} .. {}", show(claims.nbf), show(claims.exp));
    println!("kid:    {}", secret.public_key().kid());
    Ok(())
}
