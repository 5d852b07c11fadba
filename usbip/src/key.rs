//! One key: an image, the identity of the device serving it, and how USB/IP describes
//! that device. Each connection gets a fresh device model of it.

use vusbkey_device::{Device, IdentityError, Speed};

use crate::exported::{DescriptorError, ExportedDevice};
use crate::identity::{DeviceIdentity, IdentityOptions};
use crate::image::{Disk, Image};
use crate::session::{Session, SessionError};

/// The bus number the exported devices are listed on.
const BUSNUM: u32 = 1;

/// A key that cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The identity options are invalid for this image's device.
    #[error("{image}: {reason}")]
    Identity {
        /// The image's name.
        image: String,
        /// Why.
        reason: IdentityError,
    },
    /// The device model did not describe itself.
    #[error("{image}: {source}")]
    Descriptor {
        /// The image's name.
        image: String,
        /// Why.
        source: DescriptorError,
    },
}

/// A key ready to be served.
#[derive(Debug)]
pub struct Key {
    /// The disk.
    pub image: Image,
    /// The device's USB identity.
    pub identity: DeviceIdentity,
    /// Its USB/IP description (bus id `1-N` for the N-th key).
    pub exported: ExportedDevice,
}

impl Key {
    /// The `index`-th key (from 0) of this run, serving `image` at `speed`.
    pub fn new(
        image: Image,
        options: &IdentityOptions,
        serial: Option<&str>,
        speed: Speed,
        index: u32,
    ) -> Result<Self, KeyError> {
        let identity =
            DeviceIdentity::new(options, &image, serial).map_err(|reason| KeyError::Identity {
                image: image.name().to_owned(),
                reason,
            })?;
        let exported =
            ExportedDevice::probe(identity.identity(), image.disk(), speed, BUSNUM, index + 1)
                .map_err(|source| KeyError::Descriptor {
                    image: image.name().to_owned(),
                    source,
                })?;
        Ok(Self {
            image,
            identity,
            exported,
        })
    }

    /// A freshly attached device for one connection.
    pub fn session(&self) -> Result<Session<'_, Disk<'_>>, SessionError> {
        let device = Device::new(
            self.identity.identity(),
            self.image.disk(),
            self.exported.speed,
        )
        .map_err(SessionError::Identity)?;
        Ok(Session::new(device, self.exported.devid()))
    }

    /// One line describing the key for the log.
    pub fn describe(&self) -> String {
        format!(
            "{} ({} bytes, sha256 {}), serial {}",
            self.image.name(),
            self.image.len(),
            self.image.sha256(),
            self.identity.serial()
        )
    }
}
