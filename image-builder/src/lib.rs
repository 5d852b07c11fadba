//! `image-builder`: the small, reproducible FAT volume that carries a vusbkey token.
//!
//! The volume has three files in its root directory (8.3 names, no long names):
//!
//! | file | contents |
//! | --- | --- |
//! | `TOKEN.PST` | the PASETO token, one line |
//! | `ISSUER.PEM` | the issuer's public key (SPKI PEM), if given |
//! | `MANIFEST.TXT` | `sha256sum` lines (`<hex>  <name>`) for the files above |
//!
//! Reproducible: the same inputs give the same bytes. Every timestamp is the token's
//! `iat` (or an explicit [`BuildOptions::timestamp`], e.g. from `SOURCE_DATE_EPOCH`),
//! clamped to the FAT range 1980..2107; the volume id is the first four bytes of the
//! SHA-256 of `MANIFEST.TXT`; the label defaults to [`DEFAULT_LABEL`]. By default the
//! image is the smallest FAT12 volume that holds the files.
//!
//! # Contents
//! - [`build`], [`minimum_size`], [`BuildOptions`], [`BuildError`]: make an image.
//! - [`read_token`], [`ReadError`]: the token from any FAT volume (read-only access).
//! - [`inspect`], [`Inspection`], [`FileInfo`], [`ManifestCheck`]: what an image holds.
//! - [`Label`]: a validated volume label.
//! - [`PortTable`], [`PortLine`], [`PortSource`], [`TokenSummary`]: which key each port of
//!   vusbkey.ko carries, as text; [`ports`], [`PortsError`]: that table for the loaded
//!   module, from sysfs and its disks.

mod build_error;
mod builder;
mod contents;
mod fixed_time;
mod geometry;
mod inspect;
mod label;
mod label_entry;
mod manifest;
mod options;
mod port_table;
mod ports;
mod ports_error;
mod read;
mod read_only;
mod token_summary;

pub use build_error::BuildError;
pub use builder::{build, minimum_size};
pub use inspect::{inspect, FileInfo, Inspection, ManifestCheck};
pub use label::{Label, LabelError};
pub use options::BuildOptions;
pub use port_table::{PortLine, PortSource, PortTable};
pub use ports::{ports, Ports};
pub use ports_error::PortsError;
pub use read::{read_token, ReadError};
pub use token_summary::TokenSummary;

/// The token file.
pub const TOKEN_FILE: &str = "TOKEN.PST";

/// The issuer public key file.
pub const ISSUER_FILE: &str = "ISSUER.PEM";

/// The manifest file.
pub const MANIFEST_FILE: &str = "MANIFEST.TXT";

/// The volume label when none is given.
pub const DEFAULT_LABEL: &str = "VUSBKEY";

/// Bytes per sector; image sizes are multiples of it.
pub const SECTOR_SIZE: u64 = 512;

/// The largest image built (the image is compiled into a kernel module).
pub const MAX_SIZE: u64 = 1 << 30;
