//! Where things live: the source tree, the build cache and the build outputs.

use std::path::{Path, PathBuf};

use anyhow::Context;

/// Directories used by every step.
#[derive(Clone)]
pub(crate) struct Paths {
    /// The workspace root (the git checkout).
    pub(crate) root: PathBuf,
    /// Builds kept outside the git tree: `$XDG_CACHE_HOME/vusbkey` or `~/.cache/vusbkey`.
    pub(crate) cache: PathBuf,
}

impl Paths {
    /// Finds the workspace root from this crate's location and the cache from the environment.
    pub(crate) fn discover() -> anyhow::Result<Self> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .context("xtask is not inside the workspace")?
            .to_path_buf();
        let cache = match std::env::var_os("XDG_CACHE_HOME") {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => PathBuf::from(std::env::var_os("HOME").context("HOME is not set")?).join(".cache"),
        }
        .join("vusbkey");
        Ok(Self { root, cache })
    }

    /// Build outputs inside the workspace (`target/`).
    pub(crate) fn target(&self) -> PathBuf {
        self.root.join("target")
    }
}
