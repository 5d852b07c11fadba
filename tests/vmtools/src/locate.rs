//! Which usbdevfs node to open: a `VID:PID` looked up in sysfs, or a path given as is.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

/// How the device was named on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeviceSpec {
    /// `vvvv:pppp`, hexadecimal vendor and product id.
    Id {
        /// `idVendor`.
        vendor: u16,
        /// `idProduct`.
        product: u16,
    },
    /// A usbdevfs node such as `/dev/bus/usb/001/002`.
    Path(PathBuf),
}

impl FromStr for DeviceSpec {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> anyhow::Result<Self> {
        if s.starts_with('/') {
            return Ok(Self::Path(PathBuf::from(s)));
        }
        let Some((vendor, product)) = s.split_once(':') else {
            bail!("expected VID:PID in hex or a /dev/bus/usb path, got {s:?}");
        };
        Ok(Self::Id {
            vendor: u16::from_str_radix(vendor, 16).context("vendor id")?,
            product: u16::from_str_radix(product, 16).context("product id")?,
        })
    }
}

/// The node of the first device matching `spec`, waiting up to `wait` for it to appear.
pub fn find(spec: &DeviceSpec, wait: Duration) -> anyhow::Result<PathBuf> {
    let deadline = Instant::now() + wait;
    loop {
        let found = match spec {
            DeviceSpec::Path(path) => path.exists().then(|| path.clone()),
            DeviceSpec::Id { vendor, product } => {
                by_id(Path::new("/sys/bus/usb/devices"), *vendor, *product)?
            }
        };
        if let Some(path) = found {
            return Ok(path);
        }
        if Instant::now() >= deadline {
            bail!("no USB device {spec:?} after {wait:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Scans the sysfs USB devices for `vendor:product`; the node is `/dev/bus/usb/BBB/DDD`.
fn by_id(sysfs: &Path, vendor: u16, product: u16) -> anyhow::Result<Option<PathBuf>> {
    let read_hex = |dir: &Path, name: &str| -> Option<u16> {
        let text = std::fs::read_to_string(dir.join(name)).ok()?;
        u16::from_str_radix(text.trim(), 16).ok()
    };
    let read_dec = |dir: &Path, name: &str| -> Option<u32> {
        std::fs::read_to_string(dir.join(name))
            .ok()?
            .trim()
            .parse()
            .ok()
    };
    let Ok(entries) = std::fs::read_dir(sysfs) else {
        return Ok(None);
    };
    for entry in entries {
        let dir = entry?.path();
        if read_hex(&dir, "idVendor") != Some(vendor)
            || read_hex(&dir, "idProduct") != Some(product)
        {
            continue;
        }
        if let (Some(bus), Some(dev)) = (read_dec(&dir, "busnum"), read_dec(&dir, "devnum")) {
            let node = PathBuf::from(format!("/dev/bus/usb/{bus:03}/{dev:03}"));
            if node.exists() {
                return Ok(Some(node));
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ids_and_paths() {
        assert_eq!(
            "1209:0001".parse::<DeviceSpec>().unwrap(),
            DeviceSpec::Id {
                vendor: 0x1209,
                product: 1
            }
        );
        assert_eq!(
            "/dev/bus/usb/001/002".parse::<DeviceSpec>().unwrap(),
            DeviceSpec::Path("/dev/bus/usb/001/002".into())
        );
        assert!("1209".parse::<DeviceSpec>().is_err());
        assert!("zz:01".parse::<DeviceSpec>().is_err());
    }
}
