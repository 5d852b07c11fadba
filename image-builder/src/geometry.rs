//! Which FAT layouts to try for an image size, in order of preference.

use fatfs::{FatType, FormatVolumeOptions};

use crate::{Label, SECTOR_SIZE};

const MIB: u64 = 1 << 20;

/// Format options for `size` bytes, best first. `fatfs` settles the FAT type from the
/// cluster count (and refuses layouts that fit none), so the first that formats is valid:
///
/// 1. the customary layout: FAT12 below 4 MiB, FAT16 below 512 MiB, FAT32 above, with
///    `fatfs`'s cluster size for that type and size;
/// 2. then cluster sizes from 512 bytes to 32 KiB, for sizes where (1) does not fit.
///
/// Below 4 MiB the root directory has 16 entries (one sector), keeping small images
/// small; above, the customary 512. `fatfs` needs at least 11 sectors.
pub(crate) fn layouts(size: u64, label: &Label, volume_id: u32) -> Vec<FormatVolumeOptions> {
    let (fat_type, root_entries) = if size < 4 * MIB {
        (FatType::Fat12, 16)
    } else if size < 512 * MIB {
        (FatType::Fat16, 512)
    } else {
        (FatType::Fat32, 512)
    };
    let total_sectors = u32::try_from(size / SECTOR_SIZE).unwrap_or(u32::MAX);
    let base = || {
        FormatVolumeOptions::new()
            .bytes_per_sector(SECTOR_SIZE as u16)
            .total_sectors(total_sectors)
            .max_root_dir_entries(root_entries)
            .volume_id(volume_id)
            .volume_label(*label.as_bytes())
    };
    let customary = base().fat_type(fat_type);
    let fallbacks = (9..=15).map(|shift| base().bytes_per_cluster(1 << shift));
    std::iter::once(customary).chain(fallbacks).collect()
}
