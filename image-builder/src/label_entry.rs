//! The volume-label entry of the root directory, which `fatfs` does not write.
//!
//! FAT keeps the label twice: in the boot sector (written by `fatfs`) and as the first
//! root directory entry with the volume-id attribute, which is where Windows and
//! `blkid` read it from. `mkfs.fat` writes both; so do we.

use std::io;

use fatfs::DateTime;

use crate::Label;

/// Attribute of a volume-label directory entry.
const ATTR_VOLUME_ID: u8 = 0x08;

/// Writes the label entry into the first slot of the root directory of the freshly
/// formatted volume in `disk`, stamped with `time`.
pub(crate) fn write(disk: &mut [u8], label: &Label, time: DateTime) -> io::Result<()> {
    let offset = root_dir_offset(disk)?;
    let entry = disk
        .get_mut(offset..offset + 32)
        .ok_or_else(|| io::Error::other("root directory outside the volume"))?;
    let (date, clock) = (encode_date(time), encode_time(time));
    entry.fill(0);
    entry[..11].copy_from_slice(label.as_bytes());
    entry[11] = ATTR_VOLUME_ID;
    entry[14..16].copy_from_slice(&clock.to_le_bytes()); // created
    entry[16..18].copy_from_slice(&date.to_le_bytes());
    entry[18..20].copy_from_slice(&date.to_le_bytes()); // accessed
    entry[22..24].copy_from_slice(&clock.to_le_bytes()); // modified
    entry[24..26].copy_from_slice(&date.to_le_bytes());
    Ok(())
}

/// Byte offset of the root directory, from the boot sector's BIOS parameter block.
fn root_dir_offset(disk: &[u8]) -> io::Result<usize> {
    let field = |at: usize, len: usize| -> io::Result<usize> {
        let bytes = disk
            .get(at..at + len)
            .ok_or_else(|| io::Error::other("truncated boot sector"))?;
        Ok(bytes.iter().rev().fold(0, |n, &b| n << 8 | usize::from(b)))
    };
    let bytes_per_sector = field(11, 2)?;
    let reserved = field(14, 2)?;
    let fats = field(16, 1)?;
    let sector = if field(17, 2)? != 0 {
        // FAT12/16: a fixed region right after the FATs.
        reserved + fats * field(22, 2)?
    } else {
        // FAT32: the root directory's first cluster (data clusters are numbered from 2).
        let first_data_sector = reserved + fats * field(36, 4)?;
        first_data_sector + field(44, 4)?.saturating_sub(2) * field(13, 1)?
    };
    Ok(sector * bytes_per_sector)
}

fn encode_date(t: DateTime) -> u16 {
    (t.date.year.saturating_sub(1980) << 9) | (t.date.month << 5) | t.date.day
}

fn encode_time(t: DateTime) -> u16 {
    (t.time.hour << 11) | (t.time.min << 5) | (t.time.sec / 2)
}
