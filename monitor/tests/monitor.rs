//! The `vusbkey-monitor` binary against simulated VMs: real unix sockets standing in for
//! QEMU's chardev and QMP sockets, a real SQLite database, HTTP over TCP.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;
use uuid::Uuid;
use vusbkey_monitor::{EventFilter, Queries, Store};
use vusbkey_report::Report;

const WAIT: Duration = Duration::from_secs(20);

/// A monitor process on a temporary socket directory and database.
struct Monitor {
    dir: TempDir,
    child: Child,
    lines: mpsc::Receiver<String>,
    address: String,
}

impl Monitor {
    /// Starts the monitor with `extra` appended to its configuration.
    fn start(extra: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        Self::start_in(dir, extra)
    }

    fn start_in(dir: TempDir, extra: &str) -> Self {
        let root = dir.path().display().to_string();
        let config = dir.path().join("monitor.toml");
        std::fs::write(
            &config,
            format!(
                "socket_dir = \"{root}/run\"\ndatabase = \"{root}/monitor.db\"\n\
                 listen = \"127.0.0.1:0\"\nscan_interval_ms = 50\n{extra}\n"
            ),
        )
        .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_vusbkey-monitor"))
            .arg("--config")
            .arg(&config)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut monitor = Self {
            dir,
            child,
            lines,
            address: String::new(),
        };
        let listening =
            monitor.wait_for(|l| l.starts_with("vusbkey-monitor: listening on http://"));
        monitor.address = listening.rsplit('/').next().unwrap().to_owned();
        monitor
    }

    fn sockets(&self) -> PathBuf {
        self.dir.path().join("run")
    }

    fn database(&self) -> PathBuf {
        self.dir.path().join("monitor.db")
    }

    /// The next stdout line that `matches`, within [`WAIT`].
    fn wait_for(&mut self, matches: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if matches(&line) => return line,
                Ok(_) => {}
                Err(e) => panic!("no matching line from the monitor: {e}"),
            }
        }
    }

    /// A simulated VM: its channel socket, once the monitor connected to it.
    fn vm(&mut self, vm: Uuid) -> UnixStream {
        let listener = UnixListener::bind(self.sockets().join(format!("{vm}.sock"))).unwrap();
        let (stream, _) = listener.accept().unwrap();
        self.wait_for(|l| l.contains(&format!("vm={vm} kind=connected")));
        stream
    }

    fn get(&self, path: &str) -> String {
        let mut stream = TcpStream::connect(&self.address).unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        response
    }

    fn events(&self, vm: Uuid) -> Vec<String> {
        let filter = EventFilter {
            vm: Some(vm.to_string()),
            ..EventFilter::default()
        };
        let mut rows = Queries::open(&self.database())
            .unwrap()
            .events(&filter)
            .unwrap();
        rows.reverse();
        rows.into_iter()
            .map(|e| {
                format!("{} {}", e.kind, e.reason.unwrap_or_default())
                    .trim()
                    .to_owned()
            })
            .collect()
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn accepted(jti: &str) -> Report {
    Report::accepted(jti, "issuer", 4_000_000_000, &"ab".repeat(32), "/dev/sda")
}

/// A fake QEMU QMP server at `path`: greets, answers every command with an empty return,
/// and sends each command's name on the channel.
fn fake_qmp(path: &Path) -> mpsc::Receiver<String> {
    let listener = UnixListener::bind(path).unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let mut write = stream.try_clone().unwrap();
            writeln!(
                write,
                "{{\"QMP\": {{\"version\": {{}}, \"capabilities\": []}}}}"
            )
            .unwrap();
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let request: serde_json::Value = serde_json::from_str(&line).unwrap();
                let name = request["execute"].as_str().unwrap().to_owned();
                writeln!(write, "{{\"return\": {{}}}}").unwrap();
                if name != "qmp_capabilities" {
                    let _ = tx.send(name);
                }
            }
        }
    });
    rx
}

#[test]
fn each_verdict_is_stored_under_the_socket_s_vm() {
    let mut monitor = Monitor::start("");
    let (a, b) = (Uuid::from_u128(0xa), Uuid::from_u128(0xb));
    let mut vm_a = monitor.vm(a);
    let mut vm_b = monitor.vm(b);
    vm_a.write_all(
        Report::refused("wrong-vm", 16, "a copy")
            .to_line()
            .as_bytes(),
    )
    .unwrap();
    monitor.wait_for(|l| l.contains(&format!("vm={a} kind=refused reason=wrong-vm")));
    // A guest cannot speak for another VM: a `vm` field makes the line malformed.
    let mut forged = accepted("forged").to_line();
    forged.insert_str(1, &format!("\"vm\":\"{b}\","));
    vm_a.write_all(forged.as_bytes()).unwrap();
    vm_b.write_all(accepted("b-token").to_line().as_bytes())
        .unwrap();
    monitor.wait_for(|l| l.contains(&format!("vm={b} kind=accepted")) && l.contains("jti=b-token"));
    drop(vm_a);
    monitor.wait_for(|l| l.contains(&format!("vm={a} kind=disconnected")));
    assert_eq!(
        monitor.events(a),
        ["connected", "refused wrong-vm", "dropped", "disconnected"]
    );
    assert_eq!(monitor.events(b), ["connected", "accepted"]);
    let filter = EventFilter {
        kind: Some("dropped".into()),
        ..EventFilter::default()
    };
    let dropped = Queries::open(&monitor.database())
        .unwrap()
        .events(&filter)
        .unwrap();
    assert_eq!(
        dropped[0].detail.as_deref(),
        Some("dropped 1 malformed, 0 too long, 0 over the rate limit")
    );
    let metrics = monitor.get("/metrics");
    assert!(
        metrics.contains(&format!(
            "vusbkey_verdicts_total{{vm=\"{a}\",reason=\"wrong-vm\"}} 1"
        )),
        "{metrics}"
    );
    assert!(metrics.contains(&format!(
        "vusbkey_verdicts_total{{vm=\"{b}\",reason=\"accepted\"}} 1"
    )));
    assert!(metrics.contains(&format!(
        "vusbkey_token_expiry_seconds{{vm=\"{b}\"}} 4000000000"
    )));
    assert!(metrics.contains(&format!("vusbkey_vm_last_contact_seconds{{vm=\"{b}\"}} ")));
    assert!(metrics.contains(&format!(
        "vusbkey_lines_dropped_total{{vm=\"{a}\",why=\"malformed\"}} 1"
    )));
    assert!(metrics.contains(&format!(
        "vusbkey_alarms_open{{vm=\"{a}\",kind=\"refused\"}} 1"
    )));
}

#[test]
fn guest_text_is_escaped_on_the_dashboard() {
    let mut monitor = Monitor::start("");
    let vm = Uuid::from_u128(0xc);
    let mut channel = monitor.vm(vm);
    let detail = "<script>alert(1)</script>";
    channel
        .write_all(
            Report::refused("bad-signature", 15, detail)
                .to_line()
                .as_bytes(),
        )
        .unwrap();
    monitor.wait_for(|l| l.contains("kind=refused"));
    let page = monitor.get(&format!("/events?vm={vm}"));
    assert!(!page.contains("<script>"), "{page}");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    let index = monitor.get("/");
    assert!(index.contains("bad-signature") && index.contains(&vm.to_string()));
}

#[test]
fn a_flooding_guest_does_not_delay_another() {
    let mut monitor = Monitor::start("");
    let (flooder, quiet) = (Uuid::from_u128(0xf), Uuid::from_u128(0x9));
    let mut flood = monitor.vm(flooder);
    let mut channel = monitor.vm(quiet);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flooding = {
        let stop = stop.clone();
        thread::spawn(move || {
            // Garbage as fast as the socket takes it: lines too long, malformed JSON,
            // valid-looking reports beyond the rate limit.
            let chunks: [&[u8]; 4] = [
                &[b'x'; 65536],
                b"\n",
                b"{\"event\":\n",
                b"{\"event\":\"refused\",\"reason\":\"x\",\"exit_code\":1,\"detail\":\"\"}\n",
            ];
            let mut bytes = 0u64;
            for chunk in chunks.iter().cycle() {
                if stop.load(std::sync::atomic::Ordering::Relaxed)
                    || flood.write_all(chunk).is_err()
                {
                    break;
                }
                bytes += chunk.len() as u64;
            }
            bytes
        })
    };
    thread::sleep(Duration::from_secs(1));
    let mut worst = Duration::ZERO;
    for i in 0..5 {
        let jti = format!("quiet-{i}");
        let sent = Instant::now();
        channel
            .write_all(accepted(&jti).to_line().as_bytes())
            .unwrap();
        monitor.wait_for(|l| {
            l.contains(&format!("vm={quiet} kind=accepted")) && l.contains(&format!("jti={jti}"))
        });
        worst = worst.max(sent.elapsed());
        thread::sleep(Duration::from_millis(200));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let bytes = flooding.join().unwrap();
    eprintln!("flood: {bytes} bytes; worst write-to-stored latency of the other VM: {worst:?}");
    assert!(
        bytes > 1 << 20,
        "the flood was too small to mean anything: {bytes} bytes"
    );
    // Starved, the quiet VM's events would not have arrived (within WAIT) at all; how
    // long they took is measured, not asserted here (e2e and `cargo xtask bench` do).
    let metrics = monitor.get("/metrics");
    for why in ["too-long", "malformed", "rate-limited"] {
        assert!(
            metrics.contains(&format!(
                "vusbkey_lines_dropped_total{{vm=\"{flooder}\",why=\"{why}\"}}"
            )),
            "{why}: {metrics}"
        );
    }
}

#[test]
fn a_silent_vm_raises_the_alarm_and_is_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let alarms = dir.path().join("alarms");
    let config = format!(
        "[policy]\nverdict_deadline_secs = 1\non_silent = \"stop\"\n\
         alarm_command = [\"/bin/sh\", \"-c\", 'echo \"$1 $2\" >> {}', \"alarm\"]\n",
        alarms.display()
    );
    std::fs::create_dir_all(dir.path().join("run")).unwrap();
    let vm = Uuid::from_u128(0x5);
    let qmp = fake_qmp(&dir.path().join(format!("run/{vm}.qmp")));
    let mut monitor = Monitor::start_in(dir, &config);
    let _channel = monitor.vm(vm);
    monitor.wait_for(|l| l.contains(&format!("vm={vm} kind=silent")));
    monitor.wait_for(|l| l.contains(&format!("vm={vm} kind=enforced detail=\"qmp stop\"")));
    assert_eq!(qmp.recv_timeout(WAIT).unwrap(), "stop");
    assert_eq!(
        std::fs::read_to_string(&alarms).unwrap(),
        format!("silent {vm}\n")
    );
    let index = monitor.get("/");
    assert!(index.contains("silent"), "{index}");
}

#[test]
fn only_the_configured_refusals_are_enforced() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("run")).unwrap();
    let (copy, late) = (Uuid::from_u128(0x1), Uuid::from_u128(0x2));
    let copy_qmp = fake_qmp(&dir.path().join(format!("run/{copy}.qmp")));
    let late_qmp = fake_qmp(&dir.path().join(format!("run/{late}.qmp")));
    let config = "[policy]\non_refused = \"quit\"\nrefused_reasons = [\"wrong-vm\"]\n";
    let mut monitor = Monitor::start_in(dir, config);
    let mut late_channel = monitor.vm(late);
    late_channel
        .write_all(Report::refused("expired", 18, "").to_line().as_bytes())
        .unwrap();
    // Repeated, the same refusal runs the policy once.
    let mut copy_again = Report::refused("wrong-vm", 16, "").to_line();
    copy_again.push_str(&copy_again.clone());
    monitor.wait_for(|l| l.contains(&format!("vm={late} kind=refused")));
    let mut copy_channel = monitor.vm(copy);
    copy_channel.write_all(copy_again.as_bytes()).unwrap();
    monitor.wait_for(|l| l.contains(&format!("vm={copy} kind=enforced detail=\"qmp quit\"")));
    assert_eq!(copy_qmp.recv_timeout(WAIT).unwrap(), "quit");
    assert!(late_qmp.recv_timeout(Duration::from_millis(500)).is_err());
    assert!(copy_qmp.recv_timeout(Duration::from_millis(500)).is_err());
    let mut events = monitor.events(copy);
    events.sort();
    assert_eq!(
        events,
        [
            "connected",
            "enforced",
            "refused wrong-vm",
            "refused wrong-vm"
        ]
    );
}

#[test]
fn acknowledged_events_survive_kill_9() {
    let mut monitor = Monitor::start("[limits]\nlines_per_sec = 100000.0\nburst = 100000\n");
    let vms: Vec<Uuid> = (1..=8).map(|i| Uuid::from_u128(0x900 + i)).collect();
    let writers: Vec<_> = vms
        .iter()
        .map(|&vm| {
            let mut channel = monitor.vm(vm);
            thread::spawn(move || {
                for i in 0.. {
                    let line = accepted(&format!("{vm}-{i}")).to_line();
                    if channel.write_all(line.as_bytes()).is_err() {
                        break;
                    }
                }
            })
        })
        .collect();
    // Read acknowledgements until well into the stream, then kill mid-write.
    let mut acknowledged = Vec::new();
    while acknowledged.len() < 2000 {
        let line = monitor.wait_for(|l| l.contains("kind=accepted"));
        let id: i64 = line
            .split(" id=")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let jti = line
            .split(" jti=")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .to_owned();
        acknowledged.push((id, jti));
    }
    let pid = monitor.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-9", &pid])
        .status()
        .unwrap()
        .success());
    let _ = monitor.child.wait();
    // Acknowledgements printed before the kill may still be in the pipe.
    while let Ok(line) = monitor.lines.recv_timeout(Duration::from_millis(200)) {
        if line.contains("kind=accepted") {
            let id: i64 = line
                .split(" id=")
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            let jti = line
                .split(" jti=")
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .to_owned();
            acknowledged.push((id, jti));
        }
    }
    for writer in writers {
        writer.join().unwrap();
    }
    // Reopening recovers the WAL; every acknowledged event is there, intact.
    let store = Store::open(&monitor.database()).unwrap();
    drop(store);
    let conn = rusqlite::Connection::open(monitor.database()).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let mut lookup = conn
        .prepare("SELECT jti FROM events WHERE id = ?1")
        .unwrap();
    for (id, jti) in &acknowledged {
        let stored: String = lookup
            .query_row([id], |r| r.get(0))
            .unwrap_or_else(|e| panic!("event {id} lost: {e}"));
        assert_eq!(&stored, jti);
    }
    let total: i64 = conn
        .query_row(
            "SELECT count(*) FROM events WHERE kind = 'accepted'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    eprintln!(
        "{} acknowledged, {total} stored at kill -9",
        acknowledged.len()
    );
    assert!(total >= acknowledged.len() as i64);
}

/// A real QEMU (no guest: the firmware finds nothing to boot) with the agent channel and
/// QMP socket a host gives each VM; killed when dropped.
struct Qemu(Child);

impl Qemu {
    fn start(sockets: &Path, vm: Uuid) -> Self {
        let child = Command::new("qemu-system-x86_64")
            .args(["-M", "pc", "-m", "64", "-display", "none", "-nodefaults"])
            .arg("-chardev")
            .arg(format!(
                "socket,id=agent,path={}/{vm}.sock,server=on,wait=off",
                sockets.display()
            ))
            .args(["-device", "virtio-serial-pci", "-device"])
            .arg("virtserialport,chardev=agent,name=org.vusbkey.agent.0")
            .arg("-qmp")
            .arg(format!(
                "unix:{}/{vm}.qmp,server=on,wait=off",
                sockets.display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("qemu-system-x86_64 (run `cargo xtask setup`)");
        Self(child)
    }
}

impl Drop for Qemu {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_silent_qemu_vm_is_paused_through_qmp() {
    let mut monitor = Monitor::start("[policy]\nverdict_deadline_secs = 1\non_silent = \"stop\"\n");
    let vm = Uuid::from_u128(0xd4);
    let _qemu = Qemu::start(&monitor.sockets(), vm);
    monitor.wait_for(|l| l.contains(&format!("vm={vm} kind=connected")));
    monitor.wait_for(|l| l.contains(&format!("vm={vm} kind=silent")));
    monitor.wait_for(|l| l.contains(&format!("vm={vm} kind=enforced detail=\"qmp stop\"")));
    let status = Command::new(env!("CARGO_BIN_EXE_vusbkey-monitor"))
        .arg("--config")
        .arg(monitor.dir.path().join("monitor.toml"))
        .args(["qmp", &vm.to_string(), "query-status"])
        .output()
        .unwrap();
    let status = String::from_utf8_lossy(&status.stdout);
    assert!(status.contains("\"status\":\"paused\""), "{status}");
}
