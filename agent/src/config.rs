//! [`Config`]: `/etc/vusbkey/agent.toml`, every key optional, with defaults for a real guest.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::policy::{Action, Policy};

/// Where the configuration is read from when `--config` is not given.
pub const DEFAULT_CONFIG_FILE: &str = "/etc/vusbkey/agent.toml";

/// USB vendor id of the key disk: pid.codes, as `vusbkey.ko` presents it by default.
pub const DEFAULT_VENDOR_ID: u16 = 0x1209;

/// USB product id of the key disk, as `vusbkey.ko` presents it by default ("VU").
pub const DEFAULT_PRODUCT_ID: u16 = 0x0001;

/// FAT volume label of the key disk, as `image-builder` writes it by default.
pub const DEFAULT_LABEL: &str = "VUSBKEY";

/// The agent's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Directory of the trusted issuer public keys, `*.pem` (SPKI).
    pub trusted_dir: PathBuf,
    /// This VM's SMBIOS system UUID, as the kernel prints it.
    pub vm_uuid_file: PathBuf,
    /// Tolerated clock difference for `nbf` and `exp`, in seconds.
    pub skew_secs: u64,
    /// Which disk is the key disk, and how long to wait for it.
    pub device: DeviceConfig,
    /// Rollback protection.
    pub rollback: RollbackConfig,
    /// What to do when the token is refused.
    pub policy: Policy,
    /// The virtio-serial port the verdict is reported on, by name; no such port, no report.
    pub report_port: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            trusted_dir: "/etc/vusbkey/trusted".into(),
            vm_uuid_file: "/sys/class/dmi/id/product_uuid".into(),
            skew_secs: 300,
            device: DeviceConfig::default(),
            rollback: RollbackConfig::default(),
            policy: Policy::default(),
            report_port: vusbkey_report::PORT_NAME.to_owned(),
        }
    }
}

/// The `[device]` table: the key disk's USB identity and FAT label, and where to look.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeviceConfig {
    /// USB `idVendor`.
    pub vendor_id: u16,
    /// USB `idProduct`.
    pub product_id: u16,
    /// FAT volume label (compared ignoring ASCII case and trailing spaces).
    pub label: String,
    /// How long to wait for the disk to appear, in seconds (0: look once).
    pub timeout_secs: u64,
    /// Where sysfs is mounted.
    pub sysfs: PathBuf,
    /// Where the block device nodes are.
    pub dev_dir: PathBuf,
}

impl Default for DeviceConfig {
    fn default() -> Self {
        Self {
            vendor_id: DEFAULT_VENDOR_ID,
            product_id: DEFAULT_PRODUCT_ID,
            label: DEFAULT_LABEL.to_owned(),
            timeout_secs: 30,
            sysfs: "/sys".into(),
            dev_dir: "/dev".into(),
        }
    }
}

impl DeviceConfig {
    /// [`Self::timeout_secs`] as a duration.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }
}

/// The `[rollback]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RollbackConfig {
    /// Refuse a token issued before the newest one accepted so far.
    pub enabled: bool,
    /// Where the newest accepted `iat` is kept.
    pub state_file: PathBuf,
}

impl Default for RollbackConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            state_file: "/var/lib/vusbkey/state".into(),
        }
    }
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the configuration {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
    /// The file is not valid TOML for this configuration.
    #[error("invalid configuration {}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        #[source]
        source: Box<toml::de::Error>,
    },
    /// The policy includes `alarm` but no alarm command is configured.
    #[error("the policy includes alarm but no alarm command is configured")]
    NoAlarmCommand,
}

impl Config {
    /// Reads `path`. A missing file gives the defaults unless `required` (the file was
    /// named explicitly).
    pub fn load(path: &Path, required: bool) -> Result<Self, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text).map_err(|e| ConfigError::Parse {
                path: path.to_owned(),
                source: Box::new(e),
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound && !required => Ok(Self::default()),
            Err(source) => Err(ConfigError::Read {
                path: path.to_owned(),
                source,
            }),
        }
    }

    /// Checks what the types cannot: every action in the policy can be carried out.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let policy = &self.policy;
        if policy.actions.contains(&Action::Alarm) && policy.alarm_command.is_none() {
            return Err(ConfigError::NoAlarmCommand);
        }
        Ok(())
    }

    /// [`Self::skew_secs`] as a duration.
    pub fn skew(&self) -> Duration {
        Duration::from_secs(self.skew_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_the_defaults() {
        assert_eq!(toml::from_str::<Config>("").unwrap(), Config::default());
    }

    #[test]
    fn every_key_parses() {
        let config: Config = toml::from_str(
            r#"
            trusted_dir = "/k"
            vm_uuid_file = "/u"
            skew_secs = 5
            [device]
            vendor_id = 0x1234
            product_id = 0xabcd
            label = "KEY"
            timeout_secs = 1
            sysfs = "/s"
            dev_dir = "/d"
            [rollback]
            enabled = true
            state_file = "/st"
            [policy]
            actions = ["log", "alarm", "deny", "poweroff"]
            alarm_command = ["/bin/alarm", "-x"]
            poweroff_command = ["reboot", "-f"]
            "#,
        )
        .unwrap();
        assert_eq!(config.device.product_id, 0xabcd);
        assert!(config.rollback.enabled);
        assert_eq!(config.policy.actions.len(), 4);
        config.validate().unwrap();
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<Config>("trusted = \"/k\"").is_err());
        assert!(toml::from_str::<Config>("[policy]\nactions = [\"explode\"]").is_err());
        assert!(toml::from_str::<Config>("[policy]\npoweroff_command = []").is_err());
    }

    #[test]
    fn alarm_needs_a_command() {
        let config: Config = toml::from_str("[policy]\nactions = [\"alarm\"]").unwrap();
        assert!(matches!(
            config.validate(),
            Err(ConfigError::NoAlarmCommand)
        ));
    }
}
