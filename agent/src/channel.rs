//! The agent's channel to the host monitor: the virtio-serial port named
//! [`vusbkey_report::PORT_NAME`], found through sysfs; no port, no report, no error.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use vusbkey_report::Report;

/// How long a report may wait for the host side to read it (the port blocks while no
/// monitor is connected): the verdict is never held up longer than this.
const SEND_TIMEOUT: Duration = Duration::from_secs(3);

/// The port's device node: `<dev_dir>/virtio-ports/<name>` (udev's link) if it exists,
/// else `<dev_dir>/vportNpM` for the `<sysfs>/class/virtio-ports/vportNpM` whose `name` is
/// `name` (a guest without udev). `None` when the VM has no such port.
pub fn find_port(sysfs: &Path, dev_dir: &Path, name: &str) -> Option<PathBuf> {
    let link = dev_dir.join("virtio-ports").join(name);
    if link.exists() {
        return Some(link);
    }
    let ports = std::fs::read_dir(sysfs.join("class/virtio-ports")).ok()?;
    ports.flatten().find_map(|port| {
        let found = std::fs::read_to_string(port.path().join("name")).ok()?;
        (found.trim_end() == name).then(|| dev_dir.join(port.file_name()))
    })
}

/// The report could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the report to {}", port.display())]
pub struct SendError {
    /// The port's device node.
    pub port: PathBuf,
    /// What the OS said.
    #[source]
    pub source: io::Error,
}

/// Writes `report` as one line to `port`, waiting at most [`SEND_TIMEOUT`] for the host
/// to take it.
pub fn send(port: &Path, report: &Report) -> Result<(), SendError> {
    let error = |source| SendError {
        port: port.to_path_buf(),
        source,
    };
    let mut file = OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(port)
        .map_err(error)?;
    let line = report.to_line();
    let mut rest = line.as_bytes();
    let deadline = Instant::now() + SEND_TIMEOUT;
    while !rest.is_empty() {
        match file.write(rest) {
            Ok(0) => return Err(error(io::ErrorKind::WriteZero.into())),
            Ok(n) => rest = &rest[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(error(e)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_port_is_found_by_name_in_sysfs() {
        let dir = tempfile::tempdir().unwrap();
        let (sys, dev) = (dir.path().join("sys"), dir.path().join("dev"));
        assert_eq!(find_port(&sys, &dev, "org.vusbkey.agent.0"), None);
        for (port, name) in [
            ("vport0p1", "org.qemu.guest_agent.0"),
            ("vport0p2", "org.vusbkey.agent.0"),
        ] {
            let entry = sys.join("class/virtio-ports").join(port);
            std::fs::create_dir_all(&entry).unwrap();
            std::fs::write(entry.join("name"), format!("{name}\n")).unwrap();
        }
        assert_eq!(
            find_port(&sys, &dev, "org.vusbkey.agent.0"),
            Some(dev.join("vport0p2"))
        );
        std::fs::create_dir_all(dev.join("virtio-ports")).unwrap();
        std::fs::write(dev.join("virtio-ports/org.vusbkey.agent.0"), "").unwrap();
        assert_eq!(
            find_port(&sys, &dev, "org.vusbkey.agent.0"),
            Some(dev.join("virtio-ports/org.vusbkey.agent.0"))
        );
    }

    #[test]
    fn a_report_is_one_line() {
        let dir = tempfile::tempdir().unwrap();
        let port = dir.path().join("port");
        std::fs::write(&port, "").unwrap();
        let report = Report::refused("no-device", 10, "none");
        send(&port, &report).unwrap();
        assert_eq!(std::fs::read_to_string(&port).unwrap(), report.to_line());
        assert!(send(&dir.path().join("absent"), &report).is_err());
    }
}
