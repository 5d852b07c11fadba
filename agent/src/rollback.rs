//! [`RollbackState`]: the newest `iat` accepted on this VM, so that an older token is refused.

use std::fs::{self, File};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The state file: `newest_iat = "<RFC 3339>"`, replaced atomically.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollbackState {
    path: PathBuf,
    newest: Option<OffsetDateTime>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateFile {
    #[serde(with = "time::serde::rfc3339")]
    newest_iat: OffsetDateTime,
}

/// Why the state file cannot be used (rollback protection then fails closed).
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The file exists but could not be read.
    #[error("cannot read the rollback state {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
    /// The file holds something else than a state.
    #[error("the rollback state {} is corrupt", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        #[source]
        source: Box<toml::de::Error>,
    },
    /// The new state could not be written.
    #[error("cannot write the rollback state {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
}

/// A token older than the newest one accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the token was issued at {iat}, before the token issued at {newest} accepted earlier (state {})", path.display())]
pub struct RolledBack {
    /// The token's `iat`, RFC 3339.
    pub iat: String,
    /// The newest accepted `iat`, RFC 3339.
    pub newest: String,
    /// The state file.
    pub path: PathBuf,
}

impl RollbackState {
    /// Reads the state in `path`; a missing file means no token was accepted yet.
    pub fn load(path: &Path) -> Result<Self, StateError> {
        let newest = match fs::read_to_string(path) {
            Ok(text) => {
                let file: StateFile = toml::from_str(&text).map_err(|e| StateError::Corrupt {
                    path: path.to_owned(),
                    source: Box::new(e),
                })?;
                Some(file.newest_iat)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(StateError::Read {
                    path: path.to_owned(),
                    source,
                })
            }
        };
        Ok(Self {
            path: path.to_owned(),
            newest,
        })
    }

    /// The newest `iat` accepted so far.
    pub fn newest(&self) -> Option<OffsetDateTime> {
        self.newest
    }

    /// Refuses `iat` if it is older than the newest accepted one (an equal `iat`, the same
    /// token at the next boot, passes).
    pub fn check(&self, iat: OffsetDateTime) -> Result<(), RolledBack> {
        match self.newest {
            Some(newest) if iat < newest => Err(RolledBack {
                iat: rfc3339(iat),
                newest: rfc3339(newest),
                path: self.path.clone(),
            }),
            _ => Ok(()),
        }
    }

    /// Records an accepted `iat` if it is newer than the state: writes a temporary file
    /// beside the state, syncs it, renames it over the state and syncs the directory.
    pub fn record(&mut self, iat: OffsetDateTime) -> Result<(), StateError> {
        if self.newest.is_some_and(|newest| newest >= iat) {
            return Ok(());
        }
        toml::to_string(&StateFile { newest_iat: iat })
            .map_err(io::Error::other)
            .and_then(|text| self.replace(text.as_bytes()))
            .map_err(|source| StateError::Write {
                path: self.path.clone(),
                source,
            })?;
        self.newest = Some(iat);
        Ok(())
    }

    fn replace(&self, contents: &[u8]) -> io::Result<()> {
        let dir = match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        fs::create_dir_all(dir)?;
        let mut name = self.path.file_name().unwrap_or_default().to_owned();
        name.push(format!(".tmp.{}", std::process::id()));
        let temporary = dir.join(name);
        let result = (|| {
            let mut file = File::create(&temporary)?;
            file.write_all(contents)?;
            file.sync_all()?;
            fs::rename(&temporary, &self.path)?;
            File::open(dir)?.sync_all()
        })();
        if result.is_err() {
            let _ = fs::remove_file(&temporary);
        }
        result
    }
}

fn rfc3339(time: OffsetDateTime) -> String {
    time.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| time.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn missing_state_accepts_then_remembers_the_newest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/state");
        let mut state = RollbackState::load(&path).unwrap();
        assert_eq!(state.newest(), None);
        let t1 = datetime!(2025-01-01 0:00 UTC);
        let t2 = datetime!(2025-06-01 0:00 UTC);
        state.check(t2).unwrap();
        state.record(t2).unwrap();
        state.record(t1).unwrap();
        let reloaded = RollbackState::load(&path).unwrap();
        assert_eq!(reloaded.newest(), Some(t2));
        reloaded.check(t2).unwrap();
        assert!(reloaded.check(t1).is_err());
        let names: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["state"], "no temporary file is left behind");
    }

    #[test]
    fn corrupt_state_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state");
        fs::write(&path, "garbage").unwrap();
        assert!(matches!(
            RollbackState::load(&path),
            Err(StateError::Corrupt { .. })
        ));
    }
}
