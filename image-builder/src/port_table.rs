//! [`PortTable`]: which key each port carries, as tab-separated text (the `vusbkey.ports`
//! manifest `cargo xtask kmod` writes, `image-builder ports`, and the manifest
//! `vusbkey-usbip attach` keeps).

use std::fmt;
use std::path::PathBuf;

use time::format_description::well_known::Rfc3339;
use time::UtcOffset;

use crate::TokenSummary;

/// What the table says of each port: a header line, `port`, `usb`, `vm`, `expires`,
/// `sha256` and `image` or `disk` ([`PortSource`]), then a line per port: its number, the
/// USB bus id of its device on the host (`B-P`), the token's VM UUID, its expiry as RFC 3339
/// in UTC, the image's SHA-256 and the image or disk. Fields are separated by tabs, lines
/// end in `\n`, and `-` stands for what is not known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortTable {
    /// What the last column names.
    pub source: PortSource,
    /// The ports, port 1 first.
    pub lines: Vec<PortLine>,
}

/// What the last column of a [`PortTable`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortSource {
    /// `image`: the image file the port's key was built from (a module's manifest) or is
    /// served from (`vusbkey-usbip`'s).
    Image,
    /// `disk`: the block device the port's key appears as (a running host).
    Disk,
}

/// One port of a [`PortTable`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortLine {
    /// The port: vusbkey.ko's root-hub port (from 1), or vhci-hcd's port (from 0, as
    /// `usbip port` numbers them).
    pub port: u32,
    /// The bus id of the port's USB device on the host, `B-P` (QEMU's `usb-host,hostbus=B,
    /// hostport=P`), once it is enumerated; not known when the module is built.
    pub usb: Option<String>,
    /// What the key's token claims, if known (`-` in both columns otherwise).
    pub token: Option<TokenSummary>,
    /// The SHA-256 of the port's image, lowercase hex.
    pub sha256: String,
    /// The image file, or the disk, if known.
    pub source: Option<PathBuf>,
}

impl fmt::Display for PortTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match self.source {
            PortSource::Image => "image",
            PortSource::Disk => "disk",
        };
        writeln!(f, "port\tusb\tvm\texpires\tsha256\t{source}")?;
        for line in &self.lines {
            let (vm, expires) = match &line.token {
                Some(token) => (token.vm.hyphenated().to_string(), utc(token)),
                None => ("-".to_owned(), "-".to_owned()),
            };
            let source = match &line.source {
                Some(path) => path.display().to_string(),
                None => "-".to_owned(),
            };
            let usb = line.usb.as_deref().unwrap_or("-");
            writeln!(
                f,
                "{}\t{usb}\t{vm}\t{expires}\t{}\t{source}",
                line.port, line.sha256
            )?;
        }
        Ok(())
    }
}

/// The token's expiry as RFC 3339 in UTC (`2099-01-01T00:00:00Z`).
fn utc(token: &TokenSummary) -> String {
    let expires = token.expires.to_offset(UtcOffset::UTC);
    // Decoded claims hold years 0..=9999, which RFC 3339 can express.
    expires
        .format(&Rfc3339)
        .unwrap_or_else(|_| expires.to_string())
}
