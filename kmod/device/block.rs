//! The read-only disk behind the logical unit.

/// Read access to the read-only disk.
///
/// There is deliberately no write method: WRITE commands are refused by the SCSI layer
/// (DATA PROTECT) and never reach the disk.
pub trait BlockDevice {
    /// Bytes per logical block (the image uses 512).
    fn block_size(&self) -> u32;
    /// Number of logical blocks.
    fn block_count(&self) -> u64;
    /// Copies the disk bytes `[offset, offset + dst.len())` into `dst`. Called with the
    /// final destination (the transfer buffer / each scatter-gather segment): no
    /// intermediate buffer.
    fn read(&self, offset: u64, dst: &mut [u8]) -> Result<(), ReadError>;
}

/// The disk could not be read (reported to the host as MEDIUM ERROR / UNRECOVERED READ
/// ERROR).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadError;
