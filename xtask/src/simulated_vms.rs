//! A `vusbkey-monitor` on the build machine, fed through simulated VMs: unix sockets
//! where QEMU would create each VM's agent channel, written to as an agent would. Used
//! by the dashboard check and the ingestion benchmark.

use std::io::{BufRead, BufReader};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use uuid::Uuid;

/// A monitor process with its own socket directory and database under `dir`.
pub(crate) struct HostMonitor {
    dir: PathBuf,
    child: Child,
    /// Its stdout, line by line, with the time each line was read.
    lines: mpsc::Receiver<(Instant, String)>,
    /// The lines read so far.
    seen: Vec<(Instant, String)>,
    /// Where it serves the dashboard: `127.0.0.1:PORT`.
    pub(crate) address: String,
}

impl HostMonitor {
    /// Starts the monitor `binary` on a fresh `dir` with `policy` (TOML tables appended to
    /// the configuration).
    pub(crate) fn start(binary: &Path, dir: &Path, policy: &str) -> anyhow::Result<Self> {
        if dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
        std::fs::create_dir_all(dir.join("run"))?;
        let config = dir.join("monitor.toml");
        std::fs::write(
            &config,
            format!(
                "socket_dir = \"{root}/run\"\ndatabase = \"{root}/monitor.db\"\n\
                 listen = \"127.0.0.1:0\"\nscan_interval_ms = 50\n{policy}\n",
                root = dir.display()
            ),
        )?;
        let mut child = Command::new(binary)
            .arg("--config")
            .arg(&config)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let stdout = child.stdout.take().context("monitor stdout")?;
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send((Instant::now(), line)).is_err() {
                    break;
                }
            }
        });
        let mut monitor = Self {
            dir: dir.to_path_buf(),
            child,
            lines,
            seen: Vec::new(),
            address: String::new(),
        };
        let (_, listening) = monitor.wait_for(Duration::from_secs(30), |l| {
            l.starts_with("vusbkey-monitor: listening on http://")
        })?;
        monitor.address = listening.rsplit('/').next().unwrap_or_default().to_owned();
        Ok(monitor)
    }

    /// The first stdout line that `matches`, printed already or within `limit`, and when
    /// it was read.
    pub(crate) fn wait_for(
        &mut self,
        limit: Duration,
        matches: impl Fn(&str) -> bool,
    ) -> anyhow::Result<(Instant, String)> {
        if let Some(found) = self.seen.iter().find(|(_, line)| matches(line)) {
            return Ok(found.clone());
        }
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok((at, line)) => {
                    self.seen.push((at, line.clone()));
                    if matches(&line) {
                        return Ok((at, line));
                    }
                }
                Err(_) => bail!("the monitor did not print the line awaited within {limit:?}"),
            }
        }
    }

    /// The next stdout line, read within `limit` (the benchmark's way: it keeps no
    /// history), and when it was read.
    pub(crate) fn next_line(&mut self, limit: Duration) -> anyhow::Result<(Instant, String)> {
        match self.lines.recv_timeout(limit) {
            Ok(line) => Ok(line),
            Err(_) => bail!("the monitor printed nothing within {limit:?}"),
        }
    }

    /// A simulated VM: its channel socket, once the monitor has connected to it.
    pub(crate) fn connect_vm(&mut self, vm: Uuid) -> anyhow::Result<UnixStream> {
        let listener = UnixListener::bind(self.dir.join("run").join(format!("{vm}.sock")))?;
        let (stream, _) = listener.accept()?;
        self.wait_for(Duration::from_secs(30), |l| {
            l.contains(&format!("vm={vm} kind=connected"))
        })?;
        Ok(stream)
    }
}

impl Drop for HostMonitor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
