//! [`inspect`]: what an image holds, and whether its manifest is right.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};

use sha2::{Digest as _, Sha256};

use crate::read::{mount, read_token_from};
use crate::{manifest, ReadError, MANIFEST_FILE};

/// What an image holds.
#[derive(Debug)]
pub struct Inspection {
    /// Size of the volume in bytes.
    pub size: u64,
    /// `FAT12`, `FAT16` or `FAT32`.
    pub fat_type: &'static str,
    /// The label in the boot sector, without padding.
    pub label: String,
    /// The volume id (serial number).
    pub volume_id: u32,
    /// The files of the root directory, in directory order.
    pub files: Vec<FileInfo>,
    /// The manifest check.
    pub manifest: ManifestCheck,
    /// The token, or why it could not be read.
    pub token: Result<String, ReadError>,
}

/// A file in the root directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    /// Its 8.3 name.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its modification time, `YYYY-MM-DD HH:MM:SS` (FAT times have no time zone).
    pub modified: String,
    /// Its SHA-256, hex.
    pub sha256: String,
}

/// The outcome of checking `MANIFEST.TXT` against the files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestCheck {
    /// There is no manifest.
    Missing,
    /// This line of the manifest is not `<sha256>  <name>`.
    Unreadable(String),
    /// Checked: each problem found, none if every file matches.
    Checked {
        /// How many files the manifest lists.
        listed: usize,
        /// Mismatching, missing and unlisted files.
        problems: Vec<String>,
    },
}

/// Lists the root directory of the FAT volume in `reader` (read-only), checks the
/// manifest, and reads the token.
pub fn inspect(mut reader: impl Read + Seek) -> Result<Inspection, ReadError> {
    let size = reader.seek(SeekFrom::End(0)).map_err(ReadError::Io)?;
    let fs = mount(reader)?;
    let mut files = Vec::new();
    let mut digests = BTreeMap::new();
    let mut manifest_text = None;
    for entry in fs.root_dir().iter() {
        let entry = entry.map_err(ReadError::Io)?;
        if !entry.is_file() {
            continue;
        }
        let mut bytes = Vec::new();
        entry
            .to_file()
            .read_to_end(&mut bytes)
            .map_err(ReadError::Io)?;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let name = String::from_utf8_lossy(entry.short_file_name_as_bytes()).into_owned();
        if name.eq_ignore_ascii_case(MANIFEST_FILE) {
            manifest_text = Some(String::from_utf8_lossy(&bytes).into_owned());
        } else {
            digests.insert(name.to_ascii_uppercase(), sha256.clone());
        }
        let m = entry.modified();
        files.push(FileInfo {
            name,
            size: entry.len(),
            modified: format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                m.date.year, m.date.month, m.date.day, m.time.hour, m.time.min, m.time.sec
            ),
            sha256,
        });
    }
    let manifest = match manifest_text {
        None => ManifestCheck::Missing,
        Some(text) => check(&text, digests),
    };
    Ok(Inspection {
        size,
        fat_type: match fs.fat_type() {
            fatfs::FatType::Fat12 => "FAT12",
            fatfs::FatType::Fat16 => "FAT16",
            fatfs::FatType::Fat32 => "FAT32",
        },
        label: String::from_utf8_lossy(fs.volume_label_as_bytes())
            .trim_end()
            .to_owned(),
        volume_id: fs.volume_id(),
        files,
        manifest,
        token: read_token_from(&fs),
    })
}

fn check(text: &str, mut digests: BTreeMap<String, String>) -> ManifestCheck {
    let listed = match manifest::parse(text) {
        Ok(listed) => listed,
        Err(line) => return ManifestCheck::Unreadable(line),
    };
    let mut problems = Vec::new();
    for (digest, name) in &listed {
        match digests.remove(&name.to_ascii_uppercase()) {
            None => problems.push(format!("{name}: listed but missing")),
            Some(actual) if actual != *digest => problems.push(format!("{name}: SHA-256 mismatch")),
            Some(_) => {}
        }
    }
    problems.extend(
        digests
            .keys()
            .map(|name| format!("{name}: not in the manifest")),
    );
    ManifestCheck::Checked {
        listed: listed.len(),
        problems,
    }
}
