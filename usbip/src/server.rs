//! `serve` mode: USB/IP over TCP for standard clients (`usbip list -r`, `usbip attach -r`).
//! Each connection starts with an operation (`OP_REQ_DEVLIST` or `OP_REQ_IMPORT`); an
//! import then runs the URB phase on the same connection. A key is imported by one client
//! at a time; any number of clients (up to a limit) connect at once, and one that
//! misbehaves or disconnects loses only its own connection.
//!
//! USB/IP has no authentication: whoever reaches the listening address can import the key.

use std::io::{BufReader, BufWriter, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use thiserror::Error;

use crate::key::Key;
use crate::log;
use crate::op::{self, ImportStatus, OpError, OpRequest, BUSID_LEN, OP_HEADER_LEN};
use crate::session::SessionError;

/// The USB/IP port (IANA).
pub const DEFAULT_PORT: u16 = 3240;
/// Most connections served at once; more are closed at once.
pub const MAX_CLIENTS: usize = 64;
/// A client must finish its operation request within this time.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause after a failed accept.
const ACCEPT_RETRY: Duration = Duration::from_millis(100);
/// Buffer size of each connection's reader and writer.
const BUFFER: usize = 128 << 10;

/// Why a connection ended badly.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The stream failed or ended inside the operation request.
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
    /// Not a valid operation request.
    #[error("malformed request: {0}")]
    Op(#[from] OpError),
    /// The URB phase ended badly.
    #[error(transparent)]
    Session(#[from] SessionError),
}

/// What a connection did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// Listed the devices.
    Listed,
    /// Asked for a device that is not there, or busy.
    Refused(String, ImportStatus),
    /// Imported the device with this bus id, and later disconnected cleanly.
    Imported(String),
}

/// The keys a server exports, with which of them are imported.
pub struct Exports<'k> {
    keys: &'k [Key],
    busy: Vec<AtomicBool>,
}

/// Marks a key free again when its connection ends, however it ends.
struct Claim<'a>(&'a AtomicBool);

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl<'k> Exports<'k> {
    /// Exports `keys`, none imported.
    pub fn new(keys: &'k [Key]) -> Self {
        Self {
            keys,
            busy: keys.iter().map(|_| AtomicBool::new(false)).collect(),
        }
    }

    /// Serves one connection: the operation, then for an import the URB phase.
    /// `handshake_done` runs once the operation is answered and the URB phase begins
    /// (the TCP server lifts its handshake timeout there).
    pub fn handle<R: Read, W: Write>(
        &self,
        reader: &mut BufReader<R>,
        writer: &mut W,
        handshake_done: impl FnOnce(&str),
    ) -> Result<Handled, ClientError> {
        let mut h = [0u8; OP_HEADER_LEN];
        reader.read_exact(&mut h)?;
        match op::parse_request(&h)? {
            OpRequest::DevList => {
                let devices: Vec<_> = self.keys.iter().map(|k| &k.exported).collect();
                writer.write_all(&op::encode_devlist(&devices))?;
                writer.flush()?;
                Ok(Handled::Listed)
            }
            OpRequest::Import => {
                let mut field = [0u8; BUSID_LEN];
                reader.read_exact(&mut field)?;
                let busid = op::parse_busid(&field)?.to_owned();
                let found = self.keys.iter().position(|k| k.exported.busid == busid);
                let claimed = found.and_then(|i| {
                    let flag = self.busy.get(i)?;
                    let free = flag
                        .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
                        .is_ok();
                    Some((i, free.then_some(Claim(flag))))
                });
                let (index, claim) = match claimed {
                    None => return self.refuse(writer, busid, ImportStatus::NoDevice),
                    Some((_, None)) => return self.refuse(writer, busid, ImportStatus::Busy),
                    Some((i, Some(claim))) => (i, claim),
                };
                let key = &self.keys[index];
                writer.write_all(&op::encode_import(Ok(&key.exported)))?;
                writer.flush()?;
                handshake_done(&busid);
                let mut session = key.session()?;
                session.serve(reader, writer)?;
                drop(claim);
                Ok(Handled::Imported(busid))
            }
        }
    }

    fn refuse<W: Write>(
        &self,
        writer: &mut W,
        busid: String,
        status: ImportStatus,
    ) -> Result<Handled, ClientError> {
        writer.write_all(&op::encode_import(Err(status)))?;
        writer.flush()?;
        Ok(Handled::Refused(busid, status))
    }
}

/// Whether `addr` is reachable only from this host.
pub fn is_loopback(addr: &SocketAddr) -> bool {
    addr.ip().is_loopback()
}

/// Accepts connections on `listener` forever, one thread each.
pub fn run(listener: &TcpListener, keys: &[Key]) -> std::io::Result<()> {
    let exports = Exports::new(keys);
    let clients = AtomicUsize::new(0);
    std::thread::scope(|scope| loop {
        let (stream, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors, for instance: try again shortly, not in a spin.
                log::warn("accept", e);
                std::thread::sleep(ACCEPT_RETRY);
                continue;
            }
        };
        if clients.fetch_add(1, Ordering::AcqRel) >= MAX_CLIENTS {
            clients.fetch_sub(1, Ordering::AcqRel);
            log::warn(
                &peer.to_string(),
                format!("refused: {MAX_CLIENTS} clients connected already"),
            );
            continue;
        }
        let (exports, clients) = (&exports, &clients);
        scope.spawn(move || {
            client(exports, stream, &peer);
            clients.fetch_sub(1, Ordering::AcqRel);
        });
    })
}

/// One TCP client, logged.
fn client(exports: &Exports<'_>, stream: TcpStream, peer: &SocketAddr) {
    let subject = peer.to_string();
    let outcome = (|| -> Result<Handled, ClientError> {
        stream.set_read_timeout(Some(HANDSHAKE_TIMEOUT))?;
        stream.set_nodelay(true)?;
        let mut reader = BufReader::with_capacity(BUFFER, stream.try_clone()?);
        let mut writer = BufWriter::with_capacity(BUFFER, stream.try_clone()?);
        exports.handle(&mut reader, &mut writer, |busid| {
            log::info(&subject, format!("imported {busid}"));
            if let Err(e) = stream.set_read_timeout(None) {
                log::warn(&subject, format!("cannot lift the read timeout: {e}"));
            }
        })
    })();
    match outcome {
        Ok(Handled::Listed) => log::info(&subject, "listed the devices"),
        Ok(Handled::Refused(busid, status)) => {
            log::warn(&subject, format!("import of {busid:?} refused: {status:?}"))
        }
        Ok(Handled::Imported(busid)) => log::info(&subject, format!("{busid} released")),
        Err(e) => log::warn(&subject, format!("connection closed: {e}")),
    }
}
