//! `vusbkey-agent`: checks this VM's vusbkey token and applies the policy; see `--help`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use vusbkey_agent::{
    check, find_port, send, Action, CommandLine, Config, Policy, Reason, Refusal,
    DEFAULT_CONFIG_FILE,
};
use vusbkey_report::Report;

/// Verifies this VM's vusbkey token, read from the virtual USB key disk, and applies the
/// failure policy.
///
/// Prints one `vusbkey-agent: accepted ...` line on stdout and exits 0 when the token is
/// genuine, for this VM and in date. Otherwise carries out the policy: `log` prints one
/// `vusbkey-agent: refused reason=... exit=... message=... detail=...` line on stderr,
/// `alarm` runs the alarm command, `poweroff` runs the poweroff command, `deny` exits with
/// the reason's code (without `deny`, the exit code is 0). Either way the verdict is
/// reported as one JSON line on the virtio-serial port named by --report-port, if the VM
/// has it. Flags override the configuration file.
#[derive(Debug, Parser)]
#[command(version, after_help = Reason::exit_code_table())]
struct Cli {
    /// Configuration file (TOML) [default: /etc/vusbkey/agent.toml, used only if it
    /// exists].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Directory of the trusted issuer public keys (*.pem) [config: trusted_dir; default:
    /// /etc/vusbkey/trusted].
    #[arg(long, value_name = "DIR")]
    trusted_dir: Option<PathBuf>,
    /// File holding this VM's UUID [config: vm_uuid_file; default:
    /// /sys/class/dmi/id/product_uuid].
    #[arg(long, value_name = "FILE")]
    vm_uuid_file: Option<PathBuf>,
    /// Tolerated clock difference for nbf/exp, in seconds [config: skew_secs; default: 300].
    #[arg(long, value_name = "SECS")]
    skew: Option<u64>,
    /// USB idVendor of the key disk, hexadecimal [config: device.vendor_id; default: 1209].
    #[arg(long, value_name = "HEX", value_parser = parse_usb_id)]
    vendor_id: Option<u16>,
    /// USB idProduct of the key disk, hexadecimal [config: device.product_id; default:
    /// 0001].
    #[arg(long, value_name = "HEX", value_parser = parse_usb_id)]
    product_id: Option<u16>,
    /// FAT volume label of the key disk [config: device.label; default: VUSBKEY].
    #[arg(long, value_name = "LABEL")]
    label: Option<String>,
    /// How long to wait for the key disk, in seconds; 0 looks once [config:
    /// device.timeout_secs; default: 30].
    #[arg(long, value_name = "SECS")]
    timeout: Option<u64>,
    /// Where sysfs is mounted [config: device.sysfs; default: /sys].
    #[arg(long, value_name = "DIR")]
    sysfs: Option<PathBuf>,
    /// Where the disk device nodes are [config: device.dev_dir; default: /dev].
    #[arg(long, value_name = "DIR")]
    dev_dir: Option<PathBuf>,
    /// Refuse tokens older than the newest accepted one [config: rollback.enabled; default:
    /// off].
    #[arg(long, overrides_with = "no_rollback")]
    rollback: bool,
    /// Turn rollback protection off.
    #[arg(long)]
    no_rollback: bool,
    /// The rollback state file [config: rollback.state_file; default:
    /// /var/lib/vusbkey/state].
    #[arg(long, value_name = "FILE")]
    state_file: Option<PathBuf>,
    /// Actions on refusal, comma-separated: log, alarm, deny, poweroff [config:
    /// policy.actions; default: log,deny].
    #[arg(long, value_name = "ACTIONS", value_delimiter = ',')]
    policy: Option<Vec<Action>>,
    /// Alarm command, words separated by spaces, no quoting; the reason is appended
    /// [config: policy.alarm_command; default: none].
    #[arg(long, value_name = "COMMAND")]
    alarm_command: Option<CommandLine>,
    /// Poweroff command, words separated by spaces, no quoting [config:
    /// policy.poweroff_command; default: systemctl poweroff].
    #[arg(long, value_name = "COMMAND")]
    poweroff_command: Option<CommandLine>,
    /// Name of the virtio-serial port to report the verdict on; no such port, no report
    /// [config: report_port; default: org.vusbkey.agent.0].
    #[arg(long, value_name = "NAME")]
    report_port: Option<String>,
}

impl Cli {
    /// `config` with the flags given applied over it.
    fn apply(&self, mut config: Config) -> Config {
        let device = &mut config.device;
        set(&mut config.trusted_dir, &self.trusted_dir);
        set(&mut config.vm_uuid_file, &self.vm_uuid_file);
        set(&mut config.skew_secs, &self.skew);
        set(&mut device.vendor_id, &self.vendor_id);
        set(&mut device.product_id, &self.product_id);
        set(&mut device.label, &self.label);
        set(&mut device.timeout_secs, &self.timeout);
        set(&mut device.sysfs, &self.sysfs);
        set(&mut device.dev_dir, &self.dev_dir);
        if self.rollback || self.no_rollback {
            config.rollback.enabled = self.rollback;
        }
        set(&mut config.rollback.state_file, &self.state_file);
        set(&mut config.policy.actions, &self.policy);
        if self.alarm_command.is_some() {
            config.policy.alarm_command.clone_from(&self.alarm_command);
        }
        set(&mut config.policy.poweroff_command, &self.poweroff_command);
        set(&mut config.report_port, &self.report_port);
        config
    }

    /// The configuration: the file (required only if named), the flags, validated.
    fn config(&self) -> Result<Config, Refusal> {
        let config = match &self.config {
            Some(path) => Config::load(path, true),
            None => Config::load(Path::new(DEFAULT_CONFIG_FILE), false),
        };
        let config = config
            .map(|config| self.apply(config))
            .map_err(|e| Refusal::new(Reason::Config, &e))?;
        config
            .validate()
            .map_err(|e| Refusal::new(Reason::Config, &e))?;
        Ok(config)
    }

    /// The policy for a configuration error: the flags over the defaults, if they make a
    /// valid policy, else the default (log, deny).
    fn fallback_policy(&self) -> Policy {
        let config = self.apply(Config::default());
        match config.validate() {
            Ok(()) => config.policy,
            Err(_) => Policy::default(),
        }
    }
}

fn set<T: Clone>(field: &mut T, flag: &Option<T>) {
    if let Some(value) = flag {
        field.clone_from(value);
    }
}

/// `0x1209` or `1209`.
fn parse_usb_id(text: &str) -> Result<u16, String> {
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    u16::from_str_radix(digits, 16).map_err(|e| format!("not a 16-bit hexadecimal id: {e}"))
}

/// Reports to the host monitor, if the VM has the port; a failure is said on stderr and
/// changes nothing else.
fn report(config: &Config, report: &Report) {
    let device = &config.device;
    let Some(port) = find_port(&device.sysfs, &device.dev_dir, &config.report_port) else {
        return;
    };
    if let Err(e) = send(&port, report) {
        eprintln!(
            "vusbkey-agent: report-failed port={:?} error={:?}",
            e.port.display().to_string(),
            e.source.to_string()
        );
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match cli.config() {
        Ok(config) => config,
        Err(refusal) => {
            let defaults = cli.apply(Config::default());
            let send = || report(&defaults, &refusal.report());
            return ExitCode::from(cli.fallback_policy().enforce(&refusal, send));
        }
    };
    match check(&config) {
        Ok(accepted) => {
            println!("{accepted}");
            report(&config, &accepted.report());
            ExitCode::SUCCESS
        }
        Err(refusal) => {
            let send = || report(&config, &refusal.report());
            ExitCode::from(config.policy.enforce(&refusal, send))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usb_ids_are_hexadecimal() {
        assert_eq!(parse_usb_id("0x1209"), Ok(0x1209));
        assert_eq!(parse_usb_id("5655"), Ok(0x5655));
        assert!(parse_usb_id("0x12345").is_err());
        assert!(parse_usb_id("vu").is_err());
    }

    #[test]
    fn flags_override_the_file() {
        let cli = Cli::parse_from([
            "vusbkey-agent",
            "--product-id",
            "0xabcd",
            "--policy",
            "log,alarm",
            "--alarm-command",
            "/bin/true -x",
            "--rollback",
        ]);
        let config = cli.apply(Config::default());
        assert_eq!(config.device.product_id, 0xabcd);
        assert_eq!(config.policy.actions, [Action::Log, Action::Alarm]);
        assert!(config.rollback.enabled);
        config.validate().unwrap();
        assert!(!cli.apply(config).device.label.is_empty());
    }

    #[test]
    fn help_shows_the_real_defaults() {
        let help = <Cli as clap::CommandFactory>::command()
            .render_long_help()
            .to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let defaults = Config::default();
        for default in [
            format!("default: {}", defaults.trusted_dir.display()),
            format!("default: {}", defaults.vm_uuid_file.display()),
            format!("default: {}", defaults.skew_secs),
            format!("default: {:04x}", defaults.device.vendor_id),
            format!("default: {:04x}", defaults.device.product_id),
            format!("default: {}", defaults.device.label),
            format!("default: {}", defaults.device.timeout_secs),
            format!("default: {}", defaults.device.sysfs.display()),
            format!("default: {}", defaults.device.dev_dir.display()),
            format!("default: {}", defaults.rollback.state_file.display()),
            format!("default: {}", defaults.report_port),
        ] {
            assert!(help.contains(&default), "--help lacks {default:?}");
        }
        assert!(!defaults.rollback.enabled);
        assert_eq!(defaults.policy, Policy::default());
    }

    #[test]
    fn cli_is_consistent() {
        <Cli as clap::CommandFactory>::command().debug_assert();
    }
}
