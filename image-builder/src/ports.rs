//! [`ports`]: the [`PortTable`] of a running vusbkey.ko, from sysfs and the disks.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use crate::{read_token, PortLine, PortSource, PortTable, PortsError, TokenSummary};

/// The module's platform device, below the sysfs root.
const DEVICE: &str = "devices/platform/vusbkey";
/// How many directories deep below a port's USB device its disk's `block/` directory is
/// looked for (it is 5: `B-N:1.0/hostH/targetH:0:0/H:0:0:0/block/`).
const MAX_DEPTH: usize = 8;

/// Lists the ports of the loaded vusbkey.ko from `sysfs` (normally `/sys`): for each
/// `devices/platform/vusbkey/ports/N/`, its image's SHA-256 (`image_sha256`) and, when it
/// is `connected` and the SCSI disk of its USB device (`usbB/B-N` below the platform
/// device) has appeared, that disk under `dev` (normally `/dev`) and what the token on it
/// claims (read, not verified).
pub fn ports(sysfs: &Path, dev: &Path) -> Result<PortTable, PortsError> {
    let device = sysfs.join(DEVICE);
    let dir = device.join("ports");
    if !dir.is_dir() {
        return Err(PortsError::NotLoaded(dir));
    }
    let mut numbers: Vec<u32> = subdirs(&dir)?
        .iter()
        .filter_map(|name| name.parse().ok())
        .collect();
    numbers.sort_unstable();
    let buses: Vec<(u32, PathBuf)> = subdirs(&device)?
        .iter()
        .filter_map(|name| Some((name.strip_prefix("usb")?.parse().ok()?, device.join(name))))
        .collect();
    let lines = numbers
        .into_iter()
        .map(|port| line(port, &dir.join(port.to_string()), &buses, dev))
        .collect::<Result<_, _>>()?;
    Ok(PortTable {
        source: PortSource::Disk,
        lines,
    })
}

/// The line of `port`, whose attributes are in `dir`.
fn line(
    port: u32,
    dir: &Path,
    buses: &[(u32, PathBuf)],
    dev: &Path,
) -> Result<PortLine, PortsError> {
    let sha256 = attribute(&dir.join("image_sha256"))?;
    let connected = dir.join("connected");
    let disk = match attribute(&connected)?.as_str() {
        "1" => disk_of(port, buses)?,
        "0" => None,
        text => {
            return Err(PortsError::NotConnectedFlag {
                path: connected,
                text: text.to_owned(),
            })
        }
    };
    let Some(name) = disk else {
        return Ok(PortLine {
            port,
            token: None,
            sha256,
            source: None,
        });
    };
    let disk = dev.join(name);
    let file = File::open(&disk).map_err(|source| PortsError::Io {
        path: disk.clone(),
        source,
    })?;
    let token = match read_token(file) {
        Ok(token) => token,
        Err(source) => return Err(PortsError::Token { port, disk, source }),
    };
    let token = match TokenSummary::of(&token) {
        Ok(token) => token,
        Err(source) => return Err(PortsError::Claims { port, disk, source }),
    };
    Ok(PortLine {
        port,
        token: Some(token),
        sha256,
        source: Some(disk),
    })
}

/// The name of the block device (`sdX`) of the USB device at root-hub port `port`, if it
/// has one yet.
fn disk_of(port: u32, buses: &[(u32, PathBuf)]) -> Result<Option<String>, PortsError> {
    for (bus, dir) in buses {
        let usb = dir.join(format!("{bus}-{port}"));
        if usb.is_dir() {
            return block_below(&usb, MAX_DEPTH);
        }
    }
    Ok(None)
}

/// The first entry of a `block/` directory at most `depth` directories below `dir`.
fn block_below(dir: &Path, depth: usize) -> Result<Option<String>, PortsError> {
    for name in subdirs(dir)? {
        let path = dir.join(&name);
        if name == "block" {
            return Ok(subdirs(&path)?.into_iter().next());
        }
        if depth > 0 {
            if let Some(found) = block_below(&path, depth - 1)? {
                return Ok(Some(found));
            }
        }
    }
    Ok(None)
}

/// The names of the directories in `dir` (not of links to them, which sysfs has plenty
/// of, some leading back up), sorted.
fn subdirs(dir: &Path) -> Result<Vec<String>, PortsError> {
    let error = |source| PortsError::Io {
        path: dir.to_owned(),
        source,
    };
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).map_err(error)? {
        let entry = entry.map_err(error)?;
        if entry.file_type().map_err(error)?.is_dir() {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    Ok(names)
}

/// A sysfs attribute's value, without the line ending.
fn attribute(path: &Path) -> Result<String, PortsError> {
    fs::read_to_string(path)
        .map(|text| text.trim_end().to_owned())
        .map_err(|source: io::Error| PortsError::Io {
            path: path.to_owned(),
            source,
        })
}
