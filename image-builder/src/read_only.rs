//! [`ReadOnly`]: a reader that `fatfs` can mount but never write to.

use std::io::{self, Read, Seek, SeekFrom, Write};

/// Wraps a reader for `fatfs`, which wants `Write` even to read: every write fails, so
/// mounting cannot change the volume (not even its dirty flag on unmount).
#[derive(Debug)]
pub(crate) struct ReadOnly<R>(pub(crate) R);

impl<R: Read> Read for ReadOnly<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl<R: Seek> Seek for ReadOnly<R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.0.seek(pos)
    }
}

impl<R> Write for ReadOnly<R> {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "the volume is opened read-only",
        ))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
