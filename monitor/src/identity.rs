//! A VM's identity: the name of the socket it spoke on, which the host chose when it
//! started the VM (`<uuid>.sock`); never anything the guest says.

use std::path::{Path, PathBuf};

use uuid::Uuid;

/// The VM whose agent channel `path` is: `<dir>/<uuid>.sock`, the UUID in any case.
/// `None` for anything else in the directory.
pub fn channel_vm(path: &Path) -> Option<Uuid> {
    if path.extension()? != "sock" {
        return None;
    }
    let stem = path.file_stem()?.to_str()?;
    // Hyphenated only: one VM, one name.
    (stem.len() == 36).then(|| Uuid::parse_str(stem).ok())?
}

/// The VM's QMP socket: `<dir>/<uuid>.qmp`.
pub fn qmp_socket(dir: &Path, vm: Uuid) -> PathBuf {
    dir.join(format!("{}.qmp", vm.hyphenated()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_uuid_sockets_are_channels() {
        let vm = Uuid::parse_str("5655534b-0000-4000-8000-000000000001").unwrap();
        assert_eq!(
            channel_vm(Path::new(
                "/run/vusbkey/5655534b-0000-4000-8000-000000000001.sock"
            )),
            Some(vm)
        );
        assert_eq!(
            channel_vm(Path::new("5655534B-0000-4000-8000-000000000001.sock")),
            Some(vm)
        );
        for other in [
            "/run/vusbkey/5655534b-0000-4000-8000-000000000001.qmp",
            "/run/vusbkey/5655534b000040008000000000000001.sock",
            "/run/vusbkey/monitor.sock",
            "/run/vusbkey/.sock",
            "/run/vusbkey/5655534b-0000-4000-8000-000000000001",
        ] {
            assert_eq!(channel_vm(Path::new(other)), None, "{other}");
        }
        assert_eq!(
            qmp_socket(Path::new("/run/vusbkey"), vm),
            Path::new("/run/vusbkey/5655534b-0000-4000-8000-000000000001.qmp")
        );
    }
}
