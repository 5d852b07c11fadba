//! The manifest: `sha256sum` lines, `<64 hex digits>  <name>`, one per file.

use sha2::{Digest as _, Sha256};

/// The manifest text for `(name, contents)` pairs, in the given order.
pub(crate) fn render(files: &[(&str, &[u8])]) -> String {
    files
        .iter()
        .map(|(name, contents)| format!("{}  {name}\n", hex::encode(Sha256::digest(contents))))
        .collect()
}

/// The `(hex digest, name)` pairs of a manifest, or the first line that is not one.
pub(crate) fn parse(text: &str) -> Result<Vec<(String, String)>, String> {
    text.lines()
        .map(|line| {
            let (digest, name) = line.split_once("  ").ok_or_else(|| line.to_owned())?;
            let hex_digest = digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit());
            if hex_digest && !name.is_empty() {
                Ok((digest.to_ascii_lowercase(), name.to_owned()))
            } else {
                Err(line.to_owned())
            }
        })
        .collect()
}
