//! `image-builder inspect`.

use std::fs::File;

use anyhow::{anyhow, bail, Context as _};
use authkey::{PublicKey, UnverifiedToken, VerifyOptions};
use time::OffsetDateTime;

use crate::cli::InspectArgs;
use crate::report;

/// Reports the image; fails if the manifest or the token is not right.
pub(crate) fn run(args: &InspectArgs) -> anyhow::Result<()> {
    let trusted = args
        .public
        .as_deref()
        .map(PublicKey::load_pem_file)
        .transpose()
        .context("cannot load the public key")?;
    let file =
        File::open(&args.image).with_context(|| format!("cannot open {}", args.image.display()))?;
    let inspection = image_builder::inspect(file)
        .with_context(|| format!("cannot inspect {}", args.image.display()))?;
    let manifest_ok = report::print(&inspection);
    let token_problem = match &inspection.token {
        Err(e) => {
            println!("token:     NONE ({e})");
            Some(anyhow!("no usable token: {e}"))
        }
        Ok(token) => match UnverifiedToken::parse(token) {
            Err(e) => {
                let e = anyhow::Error::from(e).context("the token is garbled");
                println!("token:     GARBLED ({e:#})");
                Some(e)
            }
            Ok(parsed) => {
                let problem = show_verdict(token, trusted.as_ref());
                println!("kid:       {}", parsed.kid());
                println!("{}", parsed.claims().to_pretty_json()?);
                problem
            }
        },
    };
    if !manifest_ok {
        bail!("the manifest is missing or does not match the files");
    }
    if let Some(problem) = token_problem {
        return Err(problem);
    }
    Ok(())
}

/// Prints whether the token verifies (now, any VM) under `trusted`, if given; returns
/// the verification failure.
fn show_verdict(token: &str, trusted: Option<&PublicKey>) -> Option<anyhow::Error> {
    let Some(key) = trusted else {
        println!("token:     UNVERIFIED (give --public to verify it)");
        return None;
    };
    let options = VerifyOptions::at(OffsetDateTime::now_utc());
    match authkey::verify(token, std::slice::from_ref(key), &options) {
        Ok(_) => {
            println!("token:     VERIFIED now");
            None
        }
        Err(e) => {
            println!("token:     REJECTED ({e})");
            Some(anyhow::Error::from(e).context("the token does not verify"))
        }
    }
}
