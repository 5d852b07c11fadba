//! `vusbkey-monitor`: the host daemon, and the operator's commands on its database and
//! the VMs' QMP sockets; see `--help`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use uuid::Uuid;
use vusbkey_monitor::{
    daemon, event_table, qmp, qmp_socket, Config, EventFilter, Queries, DEFAULT_CONFIG_FILE,
};

/// The host's view of its VMs' vusbkey agents: collects their verdicts from the VMs'
/// virtio-serial sockets, stores them, raises alarms, enforces through QMP, and serves a
/// dashboard and Prometheus metrics.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    /// Configuration file (TOML) [default: /etc/vusbkey/monitor.toml, used only if it
    /// exists].
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Directory of the VMs' sockets, `<uuid>.sock` and `<uuid>.qmp` [config:
    /// socket_dir; default: /run/vusbkey].
    #[arg(long, global = true, value_name = "DIR")]
    socket_dir: Option<PathBuf>,
    /// The SQLite database [config: database; default: /var/lib/vusbkey/monitor.db].
    #[arg(long, global = true, value_name = "FILE")]
    database: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the monitor (the default).
    Run {
        /// Address of the dashboard and /metrics [config: listen; default:
        /// 127.0.0.1:8477].
        #[arg(long, value_name = "ADDR")]
        listen: Option<SocketAddr>,
    },
    /// Print the event log, newest last.
    Events {
        /// Only this VM.
        #[arg(long)]
        vm: Option<Uuid>,
        /// Only this kind (accepted, refused, silent, enforced, ...).
        #[arg(long)]
        kind: Option<String>,
        /// At most this many (the newest).
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Run one QMP command on a VM (query-status, stop, cont, quit, device_del, ...) and
    /// print QEMU's answer.
    Qmp {
        /// The VM.
        vm: Uuid,
        /// The command.
        command: String,
        /// The command's arguments, a JSON object (`'{"id": "key"}'`).
        #[arg(long, value_parser = parse_arguments)]
        arguments: Option<serde_json::Value>,
    },
}

impl Cli {
    fn config(&self, listen: Option<SocketAddr>) -> Result<Config, String> {
        let mut config = match &self.config {
            Some(path) => Config::load(path, true),
            None => Config::load(Path::new(DEFAULT_CONFIG_FILE), false),
        }
        .map_err(|e| chain(&e))?;
        if let Some(dir) = &self.socket_dir {
            config.socket_dir.clone_from(dir);
        }
        if let Some(database) = &self.database {
            config.database.clone_from(database);
        }
        if let Some(listen) = listen {
            config.listen = listen;
        }
        config.validate().map_err(|e| chain(&e))?;
        Ok(config)
    }
}

fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn run(cli: &Cli) -> Result<(), String> {
    let command = cli
        .command
        .as_ref()
        .unwrap_or(&Command::Run { listen: None });
    let runtime = tokio::runtime::Runtime::new().map_err(|e| chain(&e))?;
    match command {
        Command::Run { listen } => {
            let config = cli.config(*listen)?;
            runtime.block_on(daemon::run(config)).map_err(|e| chain(&e))
        }
        Command::Events { vm, kind, limit } => {
            let config = cli.config(None)?;
            let queries = Queries::open(&config.database).map_err(|e| chain(&e))?;
            let filter = EventFilter {
                vm: vm.map(|vm| vm.hyphenated().to_string()),
                kind: kind.clone(),
                reason: None,
                limit: Some(*limit),
            };
            let mut rows = queries.events(&filter).map_err(|e| chain(&e))?;
            rows.reverse();
            print!("{}", event_table(&rows));
            Ok(())
        }
        Command::Qmp {
            vm,
            command,
            arguments,
        } => {
            let config = cli.config(None)?;
            let socket = qmp_socket(&config.socket_dir, *vm);
            let reply = runtime
                .block_on(qmp::execute(&socket, command, arguments.as_ref()))
                .map_err(|e| chain(&e))?;
            println!("{reply}");
            Ok(())
        }
    }
}

/// `--arguments`: a JSON object.
fn parse_arguments(text: &str) -> Result<serde_json::Value, String> {
    match serde_json::from_str(text) {
        Ok(value @ serde_json::Value::Object(_)) => Ok(value),
        Ok(_) => Err("QMP arguments are a JSON object, such as '{\"id\": \"key\"}'".into()),
        Err(e) => Err(format!("not JSON: {e}")),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vusbkey-monitor: error: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_is_consistent() {
        <Cli as clap::CommandFactory>::command().debug_assert();
    }
}
