//! [`Manifest`]: which VM's key is on which vhci-hcd port, kept in a file while `attach`
//! runs: the port table of `vusbkey.ko`'s `vusbkey.ports` (image-builder's [`PortTable`]),
//! with vhci-hcd's port numbers and each device's local bus id (QEMU's `hostbus` and
//! `hostport`).

use std::fs;
use std::io::{self, Cursor};
use std::path::{Path, PathBuf};

use image_builder::{PortLine, PortSource, PortTable, TokenSummary};

use crate::key::Key;

/// Where `attach` keeps its manifest unless told otherwise.
pub const DEFAULT_PATH: &str = "/run/vusbkey-usbip/ports";

/// A key's place on vhci-hcd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// vhci-hcd's port (as `usbip port` numbers them).
    pub port: u32,
    /// The device's local bus id (`B-P`), once usbcore has addressed it.
    pub usb: Option<String>,
}

/// The manifest file of one `attach` run.
#[derive(Debug)]
pub struct Manifest {
    path: PathBuf,
}

impl Manifest {
    /// The manifest at `path` (written by [`Manifest::write`]).
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Replaces the file with `table`: written beside it and renamed over it, so a reader
    /// sees the old table or the new one, never half of one. Creates its directory.
    pub fn write(&self, table: &PortTable) -> io::Result<()> {
        if let Some(dir) = self.path.parent() {
            fs::create_dir_all(dir)?;
        }
        let mut partial = self.path.clone().into_os_string();
        partial.push(".new");
        fs::write(&partial, table.to_string())?;
        fs::rename(&partial, &self.path)
    }

    /// Removes the file (when `attach` stops: no key is attached any more).
    pub fn remove(&self) -> io::Result<()> {
        match fs::remove_file(&self.path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

/// What `key`'s token claims (read, not verified), or why that is unknown.
pub fn token_of(key: &Key) -> Result<TokenSummary, String> {
    let token = image_builder::read_token(Cursor::new(key.image.bytes()))
        .map_err(|e| format!("no token can be read from it: {e}"))?;
    TokenSummary::of(&token).map_err(|e| format!("its token's claims do not decode: {e}"))
}

/// The table of the keys placed on vhci-hcd, by port: `keys[i]`, whose token claims
/// `tokens[i]`, is at `placements[i]` (`None` while it is not attached).
pub fn table(
    keys: &[Key],
    tokens: &[Option<TokenSummary>],
    placements: &[Option<Placement>],
) -> PortTable {
    let mut lines: Vec<PortLine> = keys
        .iter()
        .zip(tokens)
        .zip(placements)
        .filter_map(|((key, token), placement)| {
            let placement = placement.as_ref()?;
            Some(PortLine {
                port: placement.port,
                usb: placement.usb.clone(),
                token: token.clone(),
                sha256: key.image.sha256().to_owned(),
                source: Some(PathBuf::from(key.image.name())),
            })
        })
        .collect();
    lines.sort_by_key(|line| line.port);
    PortTable {
        source: PortSource::Image,
        lines,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use std::time::Duration;

    use authkey::{ClaimsInput, SecretKey};
    use uuid::Uuid;
    use vusbkey_device::Speed;

    use super::*;
    use crate::identity::IdentityOptions;
    use crate::image::Image;

    /// A key named `name` whose image is a FAT volume with a token for VM `...-<vm>`, valid
    /// for a day from now, or no FAT volume at all (`vm` 0).
    fn key(name: &str, vm: u64) -> Key {
        let bytes = if vm == 0 {
            vec![0; 64 << 10]
        } else {
            let uuid = Uuid::from_u64_pair(0x6c3a_2b5e_1b2c_4d5e, 0x8f90_0000_0000_0000 | vm);
            let claims = ClaimsInput::new(uuid, Duration::from_secs(86400))
                .to_claims()
                .unwrap();
            let token = authkey::sign(&SecretKey::from_seed(&[0x11; 32]), &claims).unwrap();
            image_builder::build(&image_builder::BuildOptions::new(token)).unwrap()
        };
        let image = Image::new(name.to_owned(), Arc::from(bytes)).unwrap();
        Key::new(image, &IdentityOptions::default(), None, Speed::Super, 0).unwrap()
    }

    #[test]
    fn the_table_lists_attached_keys_by_port_with_their_tokens_claims() {
        let keys = [key("a.img", 1), key("b.img", 2), key("c.img", 0)];
        let tokens: Vec<_> = keys.iter().map(|k| token_of(k).ok()).collect();
        assert!(tokens[2].is_none());
        assert!(token_of(&keys[2])
            .unwrap_err()
            .starts_with("no token can be read"));
        let placements = [
            Some(Placement {
                port: 9,
                usb: Some("4-2".to_owned()),
            }),
            // Between two connections: not listed.
            None,
            Some(Placement { port: 8, usb: None }),
        ];
        let text = table(&keys, &tokens, &placements).to_string();
        let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
        assert_eq!(
            lines[0],
            ["port", "usb", "vm", "expires", "sha256", "image"]
        );
        assert_eq!(
            lines[1],
            ["8", "-", "-", "-", keys[2].image.sha256(), "c.img"]
        );
        assert_eq!(
            lines[2][..3],
            ["9", "4-2", "6c3a2b5e-1b2c-4d5e-8f90-000000000001"]
        );
        assert_eq!(tokens[0].as_ref().unwrap().vm.to_string(), lines[2][2]);
        assert!(lines[2][3].ends_with('Z'), "{}", lines[2][3]);
        assert_eq!(lines[2][4..], [keys[0].image.sha256(), "a.img"]);
        assert_eq!(lines.len(), 3);
    }

    #[test]
    fn the_file_is_replaced_whole_and_removed_at_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = Manifest::new(dir.path().join("run/vusbkey-usbip/ports"));
        let keys = [key("a.img", 1)];
        let tokens = [token_of(&keys[0]).ok()];
        let placed = [Some(Placement { port: 8, usb: None })];
        manifest.write(&table(&keys, &tokens, &placed)).unwrap();
        manifest.write(&table(&keys, &tokens, &[None])).unwrap();
        assert_eq!(
            fs::read_to_string(manifest.path()).unwrap(),
            "port\tusb\tvm\texpires\tsha256\timage\n"
        );
        let names: Vec<_> = fs::read_dir(manifest.path().parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["ports"]);
        manifest.remove().unwrap();
        assert!(!manifest.path().exists());
        // Already gone is not an error.
        manifest.remove().unwrap();
    }
}
