//! [`Config`]: `/etc/vusbkey/monitor.toml`, every key optional.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// Where the configuration is read from when `--config` is not given.
pub const DEFAULT_CONFIG_FILE: &str = "/etc/vusbkey/monitor.toml";

/// The monitor's configuration.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The directory of the VMs' sockets: `<uuid>.sock` (the agent's channel) and
    /// `<uuid>.qmp` (QEMU's monitor).
    pub socket_dir: PathBuf,
    /// The SQLite database.
    pub database: PathBuf,
    /// Where the dashboard and `/metrics` are served.
    pub listen: SocketAddr,
    /// How often the socket directory is scanned, in milliseconds.
    pub scan_interval_ms: u64,
    /// Bounds on guest input.
    pub limits: Limits,
    /// What the host does about refusals, silence and expiry.
    pub policy: HostPolicy,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            socket_dir: "/run/vusbkey".into(),
            database: "/var/lib/vusbkey/monitor.db".into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8477)),
            scan_interval_ms: 500,
            limits: Limits::default(),
            policy: HostPolicy::default(),
        }
    }
}

/// The `[limits]` table: what one guest may send.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// The longest line, newline included; longer ones are dropped.
    pub max_line_bytes: usize,
    /// Lines per second a guest may send over time (a token bucket's rate).
    pub lines_per_sec: f64,
    /// Lines a guest may send at once (the bucket's size).
    pub burst: u32,
    /// At most this many VMs at once; sockets beyond are left alone.
    pub max_vms: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_line_bytes: vusbkey_report::MAX_LINE,
            lines_per_sec: 1.0,
            burst: 20,
            max_vms: 1024,
        }
    }
}

/// What to do to a VM through its QMP socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Enforcement {
    /// Nothing (the alarm hook may still act, for instance with `virsh`).
    None,
    /// Pause it (QMP `stop`); `cont` resumes it.
    Stop,
    /// End it (QMP `quit`).
    Quit,
}

impl Enforcement {
    /// The QMP command, if any.
    pub fn qmp_command(self) -> Option<&'static str> {
        match self {
            Enforcement::None => None,
            Enforcement::Stop => Some("stop"),
            Enforcement::Quit => Some("quit"),
        }
    }
}

/// The `[policy]` table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HostPolicy {
    /// A VM whose channel connected and that gave no verdict within this many seconds is
    /// silent (agent removed, disabled or broken).
    pub verdict_deadline_secs: u64,
    /// Program and arguments run for each alarm, without a shell; the alarm's kind and
    /// the VM's UUID are appended, and `VUSBKEY_ALARM`, `VUSBKEY_VM`, `VUSBKEY_REASON`,
    /// `VUSBKEY_DETAIL` set in its environment.
    pub alarm_command: Option<Vec<String>>,
    /// What to do to a VM that reports a refusal.
    pub on_refused: Enforcement,
    /// The refusal reasons `on_refused` applies to; empty: all.
    pub refused_reasons: Vec<String>,
    /// What to do to a silent VM.
    pub on_silent: Enforcement,
    /// Warn (once a day) about accepted tokens that expire within this many days.
    pub expiry_warning_days: u64,
}

impl Default for HostPolicy {
    fn default() -> Self {
        Self {
            verdict_deadline_secs: 300,
            alarm_command: None,
            on_refused: Enforcement::None,
            refused_reasons: Vec::new(),
            on_silent: Enforcement::None,
            expiry_warning_days: 14,
        }
    }
}

impl HostPolicy {
    /// [`Self::verdict_deadline_secs`] as a duration.
    pub fn verdict_deadline(&self) -> Duration {
        Duration::from_secs(self.verdict_deadline_secs)
    }

    /// What to do about a refusal for `reason`.
    pub fn enforcement_for(&self, reason: &str) -> Enforcement {
        if self.refused_reasons.is_empty() || self.refused_reasons.iter().any(|r| r == reason) {
            self.on_refused
        } else {
            Enforcement::None
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
        source: std::io::Error,
    },
    /// The file is not valid.
    #[error("invalid configuration {}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        #[source]
        source: toml::de::Error,
    },
    /// A value is out of range.
    #[error("invalid configuration: {0}")]
    Invalid(&'static str),
}

impl Config {
    /// Reads `path`; when it does not exist and `required` is false, the defaults.
    pub fn load(path: &Path, required: bool) -> Result<Self, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
                return Ok(Self::default())
            }
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Checks the values that the types do not.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let limits = &self.limits;
        if limits.max_line_bytes < 64 || limits.max_line_bytes > 1 << 20 {
            return Err(ConfigError::Invalid(
                "limits.max_line_bytes must be 64..=1048576",
            ));
        }
        if !(limits.lines_per_sec > 0.0 && limits.lines_per_sec.is_finite()) || limits.burst == 0 {
            return Err(ConfigError::Invalid(
                "limits.lines_per_sec and limits.burst must be positive",
            ));
        }
        if self
            .policy
            .alarm_command
            .as_ref()
            .is_some_and(Vec::is_empty)
        {
            return Err(ConfigError::Invalid(
                "policy.alarm_command needs at least a program",
            ));
        }
        if self.scan_interval_ms == 0 {
            return Err(ConfigError::Invalid("scan_interval_ms must be positive"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_file_parses() {
        let config: Config = toml::from_str(
            r#"
            socket_dir = "/run/x"
            listen = "0.0.0.0:9000"
            [limits]
            lines_per_sec = 2.5
            [policy]
            alarm_command = ["/bin/alarm", "-v"]
            on_refused = "stop"
            refused_reasons = ["wrong-vm"]
            on_silent = "quit"
            "#,
        )
        .unwrap();
        config.validate().unwrap();
        assert_eq!(config.listen.port(), 9000);
        assert_eq!(config.policy.enforcement_for("wrong-vm"), Enforcement::Stop);
        assert_eq!(config.policy.enforcement_for("expired"), Enforcement::None);
        assert_eq!(config.policy.on_silent.qmp_command(), Some("quit"));
        assert_eq!(config.limits.burst, 20);
    }

    #[test]
    fn no_reasons_means_every_reason() {
        let policy = HostPolicy {
            on_refused: Enforcement::Quit,
            ..HostPolicy::default()
        };
        assert_eq!(policy.enforcement_for("anything"), Enforcement::Quit);
        assert_eq!(
            HostPolicy::default().enforcement_for("x"),
            Enforcement::None
        );
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(toml::from_str::<Config>("nonsense = 1").is_err());
        assert!(toml::from_str::<Config>("[policy]\non_refused = \"reboot\"").is_err());
        for text in [
            "[limits]\nmax_line_bytes = 10",
            "[limits]\nlines_per_sec = 0.0",
            "[limits]\nburst = 0",
            "[policy]\nalarm_command = []",
            "scan_interval_ms = 0",
        ] {
            let config: Config = toml::from_str(text).unwrap();
            assert!(config.validate().is_err(), "{text}");
        }
        Config::default().validate().unwrap();
    }
}
