//! O_DIRECT reads of a block device: an aligned buffer and positioned reads that bypass
//! the page cache, so every read goes to the device.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;

/// Alignment O_DIRECT needs for buffers, offsets and lengths on these disks.
pub const ALIGN: usize = 4096;

/// A heap buffer aligned to [`ALIGN`]: the aligned part of a slightly larger vector.
pub struct AlignedBuf {
    storage: Vec<u8>,
    offset: usize,
    len: usize,
}

impl AlignedBuf {
    /// A zeroed buffer of `len` bytes (a multiple of [`ALIGN`], not zero).
    pub fn new(len: usize) -> io::Result<Self> {
        if len == 0 || !len.is_multiple_of(ALIGN) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "length must be a non-zero multiple of 4096",
            ));
        }
        let storage = vec![0; len + ALIGN];
        let offset = storage.as_ptr().align_offset(ALIGN);
        Ok(Self {
            storage,
            offset,
            len,
        })
    }

    /// The aligned buffer.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.storage[self.offset..self.offset + self.len]
    }
}

/// A block device opened read-only, normally with O_DIRECT.
pub struct DirectDisk {
    file: File,
    size: u64,
}

impl DirectDisk {
    /// Opens `path` read-only, bypassing the page cache unless `buffered` (for files on
    /// a filesystem without O_DIRECT).
    pub fn open(path: &Path, buffered: bool) -> io::Result<Self> {
        let flags = if buffered { 0 } else { libc::O_DIRECT };
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(flags)
            .open(path)?;
        let size = device_size(&file)?;
        Ok(Self { file, size })
    }

    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Reads `buf.len()` bytes at `offset` (both aligned); returns the bytes read.
    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        self.file.read_at(buf, offset)
    }
}

/// The size of a block device (or a regular file).
fn device_size(file: &File) -> io::Result<u64> {
    use std::io::{Seek, SeekFrom};
    let mut handle = file;
    let size = handle.seek(SeekFrom::End(0))?;
    handle.seek(SeekFrom::Start(0))?;
    Ok(size)
}
