//! [`read_token`]: the token from any FAT volume, read-only.

use std::io::{self, Read, Seek, SeekFrom};

use fatfs::{FileSystem, FsOptions};

use crate::read_only::ReadOnly;
use crate::TOKEN_FILE;

/// Why no token could be read from a volume.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Not a FAT volume `fatfs` can mount.
    #[error("not a FAT volume")]
    NotFat(#[source] io::Error),
    /// Reading failed.
    #[error("cannot read the volume")]
    Io(#[source] io::Error),
    /// No `TOKEN.PST` in the root directory.
    #[error("no {} in the root directory", TOKEN_FILE)]
    NoToken,
    /// `TOKEN.PST` is larger than any token.
    #[error("{} is larger than {max} bytes, too large for a token", TOKEN_FILE)]
    TooLarge {
        /// The limit.
        max: usize,
    },
    /// `TOKEN.PST` is not UTF-8 text.
    #[error("{} is not text", TOKEN_FILE)]
    NotText,
    /// `TOKEN.PST` is empty or blank.
    #[error("{} is empty", TOKEN_FILE)]
    Empty,
}

/// Longest `TOKEN.PST` read: the longest token and a line ending.
const MAX_TOKEN_FILE: usize = authkey::paseto::MAX_TOKEN_LEN + 2;

/// Reads `TOKEN.PST` (any case) from the root directory of the FAT volume in `reader`,
/// never writing to it, and returns it without surrounding whitespace. The token is not
/// checked: that is [`authkey::verify`]'s job.
pub fn read_token(reader: impl Read + Seek) -> Result<String, ReadError> {
    let fs = mount(reader)?;
    read_token_from(&fs)
}

/// Mounts the volume in `reader` read-only.
pub(crate) fn mount<R: Read + Seek>(reader: R) -> Result<FileSystem<ReadOnly<R>>, ReadError> {
    let mut disk = ReadOnly(reader);
    disk.seek(SeekFrom::Start(0)).map_err(ReadError::Io)?;
    FileSystem::new(disk, FsOptions::new()).map_err(ReadError::NotFat)
}

/// Reads `TOKEN.PST` from a mounted volume.
pub(crate) fn read_token_from<R: Read + Seek>(
    fs: &FileSystem<ReadOnly<R>>,
) -> Result<String, ReadError> {
    let file = fs
        .root_dir()
        .open_file(TOKEN_FILE)
        .map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => ReadError::NoToken,
            _ => ReadError::Io(e),
        })?;
    let mut bytes = Vec::new();
    file.take(MAX_TOKEN_FILE as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() > MAX_TOKEN_FILE {
        return Err(ReadError::TooLarge {
            max: MAX_TOKEN_FILE,
        });
    }
    let text = String::from_utf8(bytes).map_err(|_| ReadError::NotText)?;
    match text.trim() {
        "" => Err(ReadError::Empty),
        token => Ok(token.to_owned()),
    }
}
