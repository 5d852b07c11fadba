//! `authkey keygen`: a new issuer key pair.

use anyhow::{anyhow, Context as _};
use authkey::SecretKey;

use crate::cli::KeygenArgs;
use crate::exit_code::{Code, Failure, WithCode as _};

/// Writes a new key pair; refuses to replace either file unless `--force`.
pub(crate) fn run(args: &KeygenArgs) -> Result<(), Failure> {
    if !args.force {
        for path in [&args.secret, &args.public] {
            if path.symlink_metadata().is_ok() {
                return Err(anyhow!(
                    "{} already exists; use --force to replace it",
                    path.display()
                ))
                .code(Code::Other);
            }
        }
    }
    let secret = SecretKey::generate();
    let public = secret.public_key();
    secret
        .save_pem_file(&args.secret, args.force)
        .context("cannot save the private key")
        .code(Code::Other)?;
    public
        .save_pem_file(&args.public, args.force)
        .context("cannot save the public key")
        .code(Code::Other)?;
    println!("private key: {} (mode 0600)", args.secret.display());
    println!("public key:  {}", args.public.display());
    println!("kid:         {}", public.kid());
    Ok(())
}
