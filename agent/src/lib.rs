//! `vusbkey-agent`: the guest side of vusbkey.
//!
//! Inside a VM, the agent finds the virtual USB key disk (by USB vendor/product id and FAT
//! label), reads the token from it read-only without mounting it, verifies it with
//! [`authkey`] against the trusted issuer keys, this VM's SMBIOS UUID and the clock, and
//! optionally refuses a token older than one already accepted. When any check fails, the
//! configured [`Policy`] logs, raises an alarm, powers off and/or denies (exits non-zero
//! so that units which `Requires=` the agent do not start).
//!
//! # Contents
//! - [`Config`] and its tables ([`DeviceConfig`], [`RollbackConfig`]): `agent.toml`.
//! - [`check`]: every check, in order, giving [`Accepted`] or a [`Refusal`].
//! - [`Reason`]: why a token is refused, with its exit code and message.
//! - [`Policy`], [`Action`], [`CommandLine`]: what happens on a refusal.
//! - [`find_port`], [`send`]: the verdict's report to the host monitor over virtio-serial
//!   (the format is [`vusbkey_report::Report`]).
//! - [`wait_for_key_disk`], [`KeyDisk`]: finding the key disk in sysfs, woken by the
//!   kernel's device events (`uevent`).
//! - [`KeyVolume`]: its FAT volume, label and token (read with [`image_builder`]).
//! - [`load_trusted_keys`]: the trusted issuer keys.
//! - [`read_vm_uuid`]: this VM's identity.
//! - [`RollbackState`]: the newest token accepted so far.

mod channel;
mod check;
mod config;
mod discovery;
mod policy;
mod rollback;
mod trust;
mod uevent;
mod verdict;
mod vm;
mod volume;

pub use channel::{find_port, send, SendError};
pub use check::check;
pub use config::{
    Config, ConfigError, DeviceConfig, RollbackConfig, DEFAULT_CONFIG_FILE, DEFAULT_LABEL,
    DEFAULT_PRODUCT_ID, DEFAULT_VENDOR_ID,
};
pub use discovery::{wait_for_key_disk, DiscoveryError, KeyDisk};
pub use policy::{Action, CommandLine, EmptyCommand, Policy, UnknownAction};
pub use rollback::{RollbackState, RolledBack, StateError};
pub use trust::{load_trusted_keys, TrustError};
pub use verdict::{Accepted, Reason, Refusal};
pub use vm::{read_vm_uuid, VmUuidError};
pub use volume::{KeyVolume, VolumeError};
