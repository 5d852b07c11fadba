//! [`watch`]: the socket directory, scanned for VMs' channel sockets (`<uuid>.sock`); one
//! task per connected VM.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UnixStream;

use crate::config::Config;
use crate::counters::Counters;
use crate::identity::channel_vm;
use crate::ingest::{ingest, Channel};
use crate::policy::Enforcer;
use crate::writer::Writer;

/// Scans `config.socket_dir` every `scan_interval_ms`, connecting to each channel socket
/// whose VM is not connected yet (up to `limits.max_vms`). Runs until the task is
/// dropped. A socket that refuses the connection (a VM gone, its socket left behind) is
/// reported once and retried.
pub async fn watch(
    config: Arc<Config>,
    writer: Writer,
    enforcer: Enforcer,
    counters: Arc<Counters>,
) {
    let interval = Duration::from_millis(config.scan_interval_ms);
    let mut refused: HashSet<PathBuf> = HashSet::new();
    let mut dir_error = false;
    loop {
        match std::fs::read_dir(&config.socket_dir) {
            Ok(entries) => {
                dir_error = false;
                for path in entries.flatten().map(|e| e.path()) {
                    let Some(vm) = channel_vm(&path) else {
                        continue;
                    };
                    if counters.is_connected(vm) {
                        continue;
                    }
                    let stream = match UnixStream::connect(&path).await {
                        Ok(stream) => stream,
                        Err(e) => {
                            if refused.insert(path.clone()) {
                                eprintln!(
                                    "vusbkey-monitor: connect-failed socket={:?} error={:?}",
                                    path.display().to_string(),
                                    e.to_string()
                                );
                            }
                            continue;
                        }
                    };
                    refused.remove(&path);
                    if !counters.connect(vm, config.limits.max_vms) {
                        continue;
                    }
                    let (config, writer, enforcer, counters) = (
                        config.clone(),
                        writer.clone(),
                        enforcer.clone(),
                        counters.clone(),
                    );
                    tokio::spawn(async move {
                        let channel = Channel {
                            vm,
                            limits: &config.limits,
                            deadline: config.policy.verdict_deadline(),
                            writer: &writer,
                            enforcer: &enforcer,
                            counters: &counters,
                        };
                        ingest(channel, stream).await;
                        counters.disconnect(vm);
                    });
                }
            }
            Err(e) if !dir_error => {
                dir_error = true;
                eprintln!(
                    "vusbkey-monitor: socket-dir-unreadable dir={:?} error={:?}",
                    config.socket_dir.display().to_string(),
                    e.to_string()
                );
            }
            Err(_) => {}
        }
        tokio::time::sleep(interval).await;
    }
}
