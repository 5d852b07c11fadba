//! [`wait_for_key_disk`]: finds the key disk in sysfs by its USB identity and FAT label.
//!
//! Every whole disk in `<sysfs>/block` is resolved to its device path, which is walked up
//! to the USB interface (`bInterfaceClass` 08, mass storage) and the USB device (`idVendor`,
//! `idProduct`). A disk that matches is opened read-only as `<dev_dir>/<name>` and its FAT
//! label compared. Until the timeout, the scan is repeated: at once when the kernel reports
//! a device event ([`Uevents`]), and at least every [`POLL_INTERVAL`].

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::config::DeviceConfig;
use crate::uevent::Uevents;
use crate::volume::{KeyVolume, VolumeError};

/// How often sysfs is scanned while waiting, at the least: without uevents (or when one
/// was missed), the most a disk waits to be seen.
const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// USB interface class of mass storage.
const MASS_STORAGE_CLASS: u8 = 0x08;

/// The key disk, opened.
#[derive(Debug)]
pub struct KeyDisk {
    /// Its device node.
    pub path: PathBuf,
    /// Its FAT volume.
    pub volume: KeyVolume,
}

/// Why no key disk was found.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    /// Nothing matched the USB identity and the label.
    #[error("no USB mass-storage disk {vendor:04x}:{product:04x} labelled {label:?} under {} within {timeout_secs}s{}", block_dir.display(), Seen(.seen))]
    NotFound {
        /// The expected `idVendor`.
        vendor: u16,
        /// The expected `idProduct`.
        product: u16,
        /// The expected label.
        label: String,
        /// Where disks were looked for.
        block_dir: PathBuf,
        /// How long the agent waited, in seconds.
        timeout_secs: u64,
        /// What was seen that did not match, in the last scan.
        seen: Vec<String>,
    },
    /// A disk with the USB identity never became readable as a FAT volume.
    #[error(transparent)]
    Unreadable(VolumeError),
}

struct Seen<'a>(&'a [String]);

impl fmt::Display for Seen<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.0.is_empty() {
            write!(f, " (seen: {})", self.0.join("; "))?;
        }
        Ok(())
    }
}

/// Scans for the key disk until it is found or `config.timeout()` has passed (at least
/// one scan).
pub fn wait_for_key_disk(config: &DeviceConfig) -> Result<KeyDisk, DiscoveryError> {
    let start = Instant::now();
    // Subscribed before the first scan, so that a disk added after it wakes the wait.
    let uevents = Uevents::subscribe().ok();
    loop {
        let misses = match scan(config) {
            Ok(disk) => return Ok(disk),
            Err(misses) => misses,
        };
        let waited = start.elapsed();
        if waited >= config.timeout() {
            return Err(give_up(config, misses));
        }
        let pause = POLL_INTERVAL.min(config.timeout() - waited);
        match &uevents {
            // Should the wait itself fail, the pause keeps the polling pace.
            Some(uevents) if uevents.wait(pause).is_ok() => {}
            _ => std::thread::sleep(pause),
        }
    }
}

/// A disk that was looked at and is not the key disk.
enum Miss {
    /// Not usable for this reason (unlistable sysfs, another label).
    Other(String),
    /// The right USB identity, but the volume cannot be read.
    Unreadable(VolumeError),
}

fn give_up(config: &DeviceConfig, misses: Vec<Miss>) -> DiscoveryError {
    let mut seen = Vec::new();
    for miss in misses {
        match miss {
            Miss::Unreadable(error) => return DiscoveryError::Unreadable(error),
            Miss::Other(text) => seen.push(text),
        }
    }
    DiscoveryError::NotFound {
        vendor: config.vendor_id,
        product: config.product_id,
        label: config.label.clone(),
        block_dir: config.sysfs.join("block"),
        timeout_secs: config.timeout_secs,
        seen,
    }
}

/// One scan: the key disk, or why each candidate is not it.
fn scan(config: &DeviceConfig) -> Result<KeyDisk, Vec<Miss>> {
    let block_dir = config.sysfs.join("block");
    let mut names: Vec<_> = match std::fs::read_dir(&block_dir) {
        Ok(entries) => entries.filter_map(|e| Some(e.ok()?.file_name())).collect(),
        Err(e) => {
            let text = format!("cannot list {}: {e}", block_dir.display());
            return Err(vec![Miss::Other(text)]);
        }
    };
    names.sort();
    let sysfs = config
        .sysfs
        .canonicalize()
        .unwrap_or_else(|_| config.sysfs.clone());
    let mut misses = Vec::new();
    for name in names {
        let Some((vendor, product)) = usb_mass_storage_identity(&block_dir.join(&name), &sysfs)
        else {
            continue;
        };
        if (vendor, product) != (config.vendor_id, config.product_id) {
            continue;
        }
        let path = config.dev_dir.join(&name);
        match KeyVolume::open(&path) {
            Ok(volume) if labels_match(volume.label(), &config.label) => {
                return Ok(KeyDisk { path, volume })
            }
            Ok(volume) => misses.push(Miss::Other(format!(
                "{} is {vendor:04x}:{product:04x} labelled {:?}",
                path.display(),
                volume.label()
            ))),
            Err(e) => misses.push(Miss::Unreadable(e)),
        }
    }
    Err(misses)
}

/// FAT labels are stored upper case and space padded.
fn labels_match(found: &str, expected: &str) -> bool {
    found.trim_end().eq_ignore_ascii_case(expected.trim_end())
}

/// The `(idVendor, idProduct)` of the USB device behind a `<sysfs>/block/<name>` entry, if
/// the disk hangs off a USB mass-storage interface; the walk up stops at `sysfs`.
fn usb_mass_storage_identity(block_entry: &Path, sysfs: &Path) -> Option<(u16, u16)> {
    let device = block_entry.canonicalize().ok()?;
    let mut interface_class = None;
    for dir in device.ancestors().take_while(|dir| dir.starts_with(sysfs)) {
        if interface_class.is_none() {
            interface_class = read_hex(&dir.join("bInterfaceClass"));
        }
        if let (Some(vendor), Some(product)) = (
            read_hex(&dir.join("idVendor")),
            read_hex(&dir.join("idProduct")),
        ) {
            let class: u8 = interface_class?.try_into().ok()?;
            return (class == MASS_STORAGE_CLASS).then_some((vendor, product));
        }
    }
    None
}

/// A sysfs attribute holding a hexadecimal number, e.g. `1209\n`.
fn read_hex(path: &Path) -> Option<u16> {
    u16::from_str_radix(std::fs::read_to_string(path).ok()?.trim(), 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_compare_like_fat() {
        assert!(labels_match("VUSBKEY    ", "VUSBKEY"));
        assert!(labels_match("vusbkey", "VUSBKEY"));
        assert!(!labels_match("VUSBKEY2", "VUSBKEY"));
    }
}
