//! Reading a token from a file or standard input.

use std::io::Read as _;
use std::path::Path;

use anyhow::{anyhow, Context as _};

use crate::exit_code::{Code, Failure, WithCode as _};

/// The token text in `path` (`-` = standard input), without surrounding whitespace.
pub(crate) fn read(path: &Path) -> Result<String, Failure> {
    let mut bytes = Vec::new();
    let read = if path == Path::new("-") {
        std::io::stdin().read_to_end(&mut bytes).map(drop)
    } else {
        std::fs::read(path).map(|b| bytes = b)
    };
    read.with_context(|| format!("cannot read token {}", path.display()))
        .code(Code::Unreadable)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| anyhow!("malformed token: {} is not text", path.display()))
        .code(Code::Malformed)?;
    Ok(text.trim_ascii().to_owned())
}
