//! [`PortsError`]: why the ports of a running vusbkey.ko could not be listed.

use std::io;
use std::path::PathBuf;

use authkey::TokenError;

use crate::ReadError;

/// Why [`crate::ports`] could not list the ports, or could not read the token on a port's
/// disk ([`crate::Ports::unreadable`]).
#[derive(Debug, thiserror::Error)]
pub enum PortsError {
    /// The module's `ports` directory does not exist.
    #[error("no vusbkey module loaded (no {})", .0.display())]
    NotLoaded(PathBuf),
    /// A file or directory could not be read.
    #[error("cannot read {}", path.display())]
    Io {
        /// What could not be read.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A `connected` attribute holds something other than `0` or `1`.
    #[error("{} holds {text:?}, not 0 or 1", path.display())]
    NotConnectedFlag {
        /// The attribute.
        path: PathBuf,
        /// What it holds.
        text: String,
    },
    /// A port's disk holds no readable token.
    #[error("port {port}: no token can be read from {}", disk.display())]
    Token {
        /// The port.
        port: u32,
        /// Its disk.
        disk: PathBuf,
        /// Why.
        #[source]
        source: ReadError,
    },
    /// A port's disk holds a token whose claims do not decode.
    #[error("port {port}: the token on {} is malformed", disk.display())]
    Claims {
        /// The port.
        port: u32,
        /// Its disk.
        disk: PathBuf,
        /// Why.
        #[source]
        source: TokenError,
    },
}
