//! Linux's USB/IP virtual host controller (`vhci-hcd`) through its sysfs files
//! (`drivers/usb/usbip/vhci_sysfs.c`): the port table, `attach` and `detach`. The port
//! table is parsed apart from the file I/O.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use thiserror::Error;
use vusbkey_device::Speed;

/// The first vhci-hcd controller, which carries the `attach` and `detach` files for all.
pub const SYSFS_DIR: &str = "/sys/devices/platform/vhci_hcd.0";

/// `VDEV_ST_NULL` (`include/uapi/linux/usbip.h`): nothing is attached to the port.
const VDEV_ST_NULL: u32 = 4;
/// `VDEV_ST_USED`: attached and addressed by usbcore.
const VDEV_ST_USED: u32 = 6;

/// Which root hub of a controller a port is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hub {
    /// `hs`: the USB 2.0 hub (low, full and high speed devices).
    High,
    /// `ss`: the USB 3 hub.
    Super,
}

impl Hub {
    /// The hub a device of this speed connects to: vhci_sysfs.c `attach_store` puts a
    /// SuperSpeed device on the `ss` hub and any other on `hs`, whatever the port number
    /// says, so the free port must be looked up on the right hub.
    pub fn for_speed(speed: Speed) -> Self {
        match speed {
            Speed::High => Hub::High,
            Speed::Super => Hub::Super,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Hub::High => "high-speed (hs)",
            Hub::Super => "SuperSpeed (ss)",
        }
    }
}

/// One line of a `status` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    /// The hub the port is on.
    pub hub: Hub,
    /// The port number `attach` and `detach` take (counted across controllers).
    pub port: u32,
    /// `VDEV_ST_*`.
    pub state: u32,
    /// The local USB device (`usb` bus id such as `3-1`) once attached and addressed.
    pub local_busid: Option<String>,
}

impl Port {
    /// Whether nothing is attached.
    pub fn is_free(&self) -> bool {
        self.state == VDEV_ST_NULL
    }
}

/// What can go wrong with vhci-hcd.
#[derive(Debug, Error)]
pub enum VhciError {
    /// The module is not loaded and could not be loaded.
    #[error(
        "vhci-hcd is not available ({SYSFS_DIR} is missing) and `modprobe vhci-hcd` failed: {0}; \
         install the kernel's usbip modules (Debian: they ship in linux-image-*, \
         CONFIG_USBIP_VHCI_HCD) or load them by hand"
    )]
    NotLoaded(String),
    /// A `status` line that is not what vhci_sysfs.c prints.
    #[error("unexpected line in vhci-hcd's status: {0:?}")]
    Status(String),
    /// No free port on the hub a device needs.
    #[error("no free {} vhci-hcd port (all {total} in use); detach one, or load vhci-hcd with more (nports/num_controllers)", hub.name())]
    NoFreePort {
        /// The hub.
        hub: Hub,
        /// Its number of ports.
        total: usize,
    },
    /// A sysfs file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: io::Error,
    },
}

/// Parses one `status` file: a header line, then
/// `hub port sta spd dev sockfd local_busid` per port.
pub fn parse_status(text: &str) -> Result<Vec<Port>, VhciError> {
    let mut ports = Vec::new();
    for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let bad = || VhciError::Status(line.to_owned());
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [hub, port, state, _speed, _devid, _sockfd, busid] = fields[..] else {
            return Err(bad());
        };
        let hub = match hub {
            "hs" => Hub::High,
            "ss" => Hub::Super,
            _ => return Err(bad()),
        };
        let port = port.parse().map_err(|_| bad())?;
        let state = state.parse().map_err(|_| bad())?;
        let local_busid = (state == VDEV_ST_USED).then(|| busid.to_owned());
        ports.push(Port {
            hub,
            port,
            state,
            local_busid,
        });
    }
    Ok(ports)
}

/// The attached vhci-hcd controllers.
#[derive(Debug)]
pub struct Vhci {
    dir: PathBuf,
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> VhciError + '_ {
    move |source| VhciError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl Vhci {
    /// Opens vhci-hcd's sysfs directory, loading the module first if it is missing.
    pub fn open() -> Result<Self, VhciError> {
        let dir = PathBuf::from(SYSFS_DIR);
        if !dir.exists() {
            let outcome = Command::new("modprobe").arg("vhci-hcd").output();
            let why = match outcome {
                Ok(out) if out.status.success() => None,
                Ok(out) => Some(String::from_utf8_lossy(&out.stderr).trim().to_owned()),
                Err(e) => Some(format!("cannot run modprobe: {e}")),
            };
            if !dir.exists() {
                return Err(VhciError::NotLoaded(why.unwrap_or_else(|| {
                    "modprobe succeeded but the device did not appear".to_owned()
                })));
            }
        }
        Ok(Self { dir })
    }

    /// Every port of every controller (`status`, `status.1`, ...).
    pub fn ports(&self) -> Result<Vec<Port>, VhciError> {
        let mut ports = Vec::new();
        for n in 0.. {
            let name = if n == 0 {
                "status".to_owned()
            } else {
                format!("status.{n}")
            };
            let path = self.dir.join(name);
            match fs::read_to_string(&path) {
                Ok(text) => ports.extend(parse_status(&text)?),
                Err(e) if e.kind() == io::ErrorKind::NotFound && n > 0 => break,
                Err(e) => return Err(io_error(&path)(e)),
            }
        }
        Ok(ports)
    }

    /// The free ports of `hub`, lowest first.
    pub fn free_ports(&self, hub: Hub) -> Result<Vec<u32>, VhciError> {
        let ports = self.ports()?;
        let free: Vec<u32> = ports
            .iter()
            .filter(|p| p.hub == hub && p.is_free())
            .map(|p| p.port)
            .collect();
        if free.is_empty() {
            let total = ports.iter().filter(|p| p.hub == hub).count();
            return Err(VhciError::NoFreePort { hub, total });
        }
        Ok(free)
    }

    /// Hands the stream socket `fd` to vhci-hcd as the connection of a device on `port`
    /// (`attach_store`: "port sockfd devid speed"). The kernel takes its own reference.
    pub fn attach(&self, port: u32, fd: i32, devid: u32, speed: u32) -> Result<(), io::Error> {
        fs::write(
            self.dir.join("attach"),
            format!("{port} {fd} {devid} {speed}"),
        )
    }

    /// Disconnects the device on `port` (`detach_store`).
    pub fn detach(&self, port: u32) -> Result<(), VhciError> {
        let path = self.dir.join("detach");
        fs::write(&path, port.to_string()).map_err(io_error(&path))
    }

    /// The local USB bus id of the device on `port`, once usbcore has addressed it.
    pub fn local_busid(&self, port: u32) -> Result<Option<String>, VhciError> {
        Ok(self
            .ports()?
            .into_iter()
            .find(|p| p.port == port)
            .and_then(|p| p.local_busid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `status` file as Linux 6.1 prints it, with one device attached on port 1.
    const STATUS: &str = "hub port sta spd dev      sockfd local_busid\n\
        hs  0000 004 000 00000000 000000 0-0\n\
        hs  0001 006 003 00010002 000004 3-2\n\
        ss  0008 004 000 00000000 000000 0-0\n";

    #[test]
    fn status_is_parsed() {
        let ports = parse_status(STATUS).unwrap();
        assert_eq!(ports.len(), 3);
        assert_eq!(
            ports[1],
            Port {
                hub: Hub::High,
                port: 1,
                state: VDEV_ST_USED,
                local_busid: Some("3-2".into())
            }
        );
        assert!(ports[0].is_free() && !ports[1].is_free());
        assert_eq!(ports[2].hub, Hub::Super);
        assert_eq!(ports[2].port, 8);
    }

    #[test]
    fn odd_status_lines_are_errors() {
        let text = "hub port sta spd dev      sockfd local_busid\nxs 0 4 0 0 0 0-0\n";
        assert!(matches!(parse_status(text), Err(VhciError::Status(_))));
        let text = "header\nhs 0 4\n";
        assert!(matches!(parse_status(text), Err(VhciError::Status(_))));
    }
}
