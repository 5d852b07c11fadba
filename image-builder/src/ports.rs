//! [`ports`]: the [`PortTable`] of a running vusbkey.ko, from sysfs and the disks, with the
//! disks whose token could not be read ([`Ports`]).

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use crate::{read_token, PortLine, PortSource, PortTable, PortsError, TokenSummary};

/// The module's platform device, below the sysfs root.
const DEVICE: &str = "devices/platform/vusbkey";
/// How many directories deep below a port's USB device its disk's `block/` directory is
/// looked for (it is 5: `B-N:1.0/hostH/targetH:0:0/H:0:0:0/block/`).
const MAX_DEPTH: usize = 8;

/// The ports of a running vusbkey.ko.
#[derive(Debug)]
pub struct Ports {
    /// A line per port; a disk whose token could not be read shows no VM and expiry.
    pub table: PortTable,
    /// Why those disks' tokens could not be read ([`PortsError::Io`], [`PortsError::Token`]
    /// or [`PortsError::Claims`]): one unreadable disk does not hide the other ports.
    pub unreadable: Vec<PortsError>,
}

/// Lists the ports of the loaded vusbkey.ko from `sysfs` (normally `/sys`): for each
/// `devices/platform/vusbkey/ports/N/`, its image's SHA-256 (`image_sha256`) and, when it
/// is `connected`, its USB device's bus id (`B-N`, from `usbB/B-N` below the platform
/// device) and, once the device's SCSI disk has appeared, that disk under `dev` (normally
/// `/dev`) and what the token on it claims (read, not verified).
pub fn ports(sysfs: &Path, dev: &Path) -> Result<Ports, PortsError> {
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
    let mut unreadable = Vec::new();
    let lines = numbers
        .into_iter()
        .map(|port| {
            line(
                port,
                &dir.join(port.to_string()),
                &buses,
                dev,
                &mut unreadable,
            )
        })
        .collect::<Result<_, _>>()?;
    Ok(Ports {
        table: PortTable {
            source: PortSource::Disk,
            lines,
        },
        unreadable,
    })
}

/// The line of `port`, whose attributes are in `dir`; why its disk's token could not be
/// read goes to `unreadable`.
fn line(
    port: u32,
    dir: &Path,
    buses: &[(u32, PathBuf)],
    dev: &Path,
    unreadable: &mut Vec<PortsError>,
) -> Result<PortLine, PortsError> {
    let sha256 = attribute(&dir.join("image_sha256"))?;
    let connected = dir.join("connected");
    let usb = match attribute(&connected)?.as_str() {
        "1" => usb_device_of(port, buses),
        "0" => None,
        text => {
            return Err(PortsError::NotConnectedFlag {
                path: connected,
                text: text.to_owned(),
            })
        }
    };
    let disk = match &usb {
        Some((_, dir)) => block_below(dir, MAX_DEPTH)?.map(|name| dev.join(name)),
        None => None,
    };
    let token = disk.as_ref().and_then(|disk| {
        token_on(port, disk)
            .map_err(|error| unreadable.push(error))
            .ok()
    });
    Ok(PortLine {
        port,
        usb: usb.map(|(busid, _)| busid),
        token,
        sha256,
        source: disk,
    })
}

/// What the token on `disk`, port `port`'s, claims.
fn token_on(port: u32, disk: &Path) -> Result<TokenSummary, PortsError> {
    let file = File::open(disk).map_err(|source| PortsError::Io {
        path: disk.to_owned(),
        source,
    })?;
    let disk = disk.to_owned();
    let token = read_token(file).map_err(|source| PortsError::Token {
        port,
        disk: disk.clone(),
        source,
    })?;
    TokenSummary::of(&token).map_err(|source| PortsError::Claims { port, disk, source })
}

/// The bus id (`B-N`) and sysfs directory of the USB device at root-hub port `port`, if
/// usbcore has enumerated it.
fn usb_device_of(port: u32, buses: &[(u32, PathBuf)]) -> Option<(String, PathBuf)> {
    buses.iter().find_map(|(bus, dir)| {
        let busid = format!("{bus}-{port}");
        let usb = dir.join(&busid);
        usb.is_dir().then_some((busid, usb))
    })
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
