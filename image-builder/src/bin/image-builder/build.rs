//! `image-builder build`.

use std::fs::OpenOptions;
use std::io::{Cursor, Write as _};

use anyhow::{bail, Context as _};
use authkey::PublicKey;
use image_builder::BuildOptions;
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

use crate::cli::BuildArgs;
use crate::report;

/// Builds the image and writes it to `--out`, then reports what it holds.
pub(crate) fn run(args: &BuildArgs) -> anyhow::Result<()> {
    if !args.force && args.out.symlink_metadata().is_ok() {
        bail!(
            "{} already exists; use --force to replace it",
            args.out.display()
        );
    }
    let token = std::fs::read_to_string(&args.token)
        .with_context(|| format!("cannot read the token {}", args.token.display()))?;
    let issuer = args
        .public
        .as_deref()
        .map(PublicKey::load_pem_file)
        .transpose()
        .context("cannot load the issuer public key")?;
    let options = BuildOptions {
        token,
        issuer,
        label: args.label,
        size: args.size,
        timestamp: source_date_epoch()?,
    };
    let image = image_builder::build(&options).context("cannot build the image")?;
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .create_new(!args.force)
        .open(&args.out)
        .and_then(|mut file| file.write_all(&image))
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    println!("image:     {}", args.out.display());
    println!("sha256:    {}", hex::encode(Sha256::digest(&image)));
    let inspection =
        image_builder::inspect(Cursor::new(&image)).context("cannot re-read the image")?;
    report::print(&inspection);
    Ok(())
}

/// `SOURCE_DATE_EPOCH` (seconds since 1970, UTC), if set: the reproducible-builds
/// convention for a build's timestamp.
fn source_date_epoch() -> anyhow::Result<Option<OffsetDateTime>> {
    let Some(value) = std::env::var_os("SOURCE_DATE_EPOCH") else {
        return Ok(None);
    };
    let text = value.to_string_lossy();
    let seconds: i64 = text
        .parse()
        .with_context(|| format!("SOURCE_DATE_EPOCH {text:?} is not a number of seconds"))?;
    OffsetDateTime::from_unix_timestamp(seconds)
        .map(Some)
        .with_context(|| format!("SOURCE_DATE_EPOCH {seconds} is out of range"))
}
