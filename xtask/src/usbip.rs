//! `cargo xtask usbip`: builds `vusbkey-usbip` (release) with a key image compiled in, so
//! that one file is the key, as one `vusbkey.ko` is.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};
use sha2::{Digest, Sha256};

use crate::paths::Paths;

/// Builds `vusbkey-usbip` carrying `image` into `target/usbip/<variant>/vusbkey-usbip`
/// (with `image.sha256` beside it) and returns the binary's path.
pub(crate) fn build(paths: &Paths, image: &Path, variant: &str) -> anyhow::Result<PathBuf> {
    let image = image
        .canonicalize()
        .with_context(|| format!("reading the image {}", image.display()))?;
    let bytes = std::fs::read(&image)?;
    // The same rule the binary applies at run time, checked before a build is spent on it.
    if bytes.is_empty() || !bytes.len().is_multiple_of(512) {
        bail!(
            "{}: {} bytes is not a non-empty whole number of 512-byte blocks",
            image.display(),
            bytes.len()
        );
    }
    let sha256 = hex::encode(Sha256::digest(&bytes));
    println!(
        "usbip: building vusbkey-usbip (release) with {} compiled in",
        image.display()
    );
    let status = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--release", "-p", "vusbkey-usbip"])
        .args(["--features", "embedded-image"])
        .env("VUSBKEY_USBIP_IMAGE", &image)
        .current_dir(&paths.root)
        .status()?;
    if !status.success() {
        bail!("building vusbkey-usbip failed");
    }
    let dir = paths.target().join("usbip").join(variant);
    std::fs::create_dir_all(&dir)?;
    let binary = dir.join("vusbkey-usbip");
    std::fs::copy(paths.target().join("release/vusbkey-usbip"), &binary)?;
    std::fs::write(dir.join("image.sha256"), &sha256)?;
    println!(
        "usbip: {} carrying {} ({} bytes, sha256 {sha256})",
        binary.display(),
        image.display(),
        bytes.len()
    );
    Ok(binary)
}
