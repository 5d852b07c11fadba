//! `attach` mode, the default: each key's device is attached to this host's vhci-hcd
//! through one end of a socketpair (vhci_sysfs.c `attach_store` takes any stream socket),
//! so no network listener exists at all. Runs in the foreground until SIGTERM or SIGINT,
//! then detaches every port. A connection the kernel ends on its own (an operator's
//! `usbip detach`, a vhci-hcd error) is logged and the key attached again on a free port.
//! The [`Manifest`] says which key is where, rewritten on every change, removed on exit.

use std::io::{BufReader, BufWriter};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use thiserror::Error;

use crate::key::Key;
use crate::log;
use crate::manifest::{self, Manifest, Placement};
use crate::send_buffer::{self, SendBuffer};
use crate::session::SessionError;
use crate::vhci::{Hub, Vhci, VhciError};

/// Buffer size of each connection's reader and writer.
const BUFFER: usize = 128 << 10;
/// How long to wait for usbcore to address a newly attached device before logging
/// without its local bus id.
const ENUMERATION_WAIT: Duration = Duration::from_secs(5);
/// Pause before attaching a key again whose connection ended.
const REATTACH_DELAY: Duration = Duration::from_secs(1);

/// Why `attach` stopped with an error.
#[derive(Debug, Error)]
pub enum AttachError {
    /// vhci-hcd is missing or refused.
    #[error(transparent)]
    Vhci(#[from] VhciError),
    /// A socket or signal handler could not be set up.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// What the main loop hears about.
enum Event {
    /// SIGTERM or SIGINT.
    Stop(i32),
    /// The connection of key `index` ended.
    Ended(usize, Result<(), SessionError>),
}

/// One attached key.
struct Attached {
    placement: Placement,
    /// Our end of the socketpair, kept to shut it down on stop.
    stream: UnixStream,
}

/// Attaches one key to a free port of its speed; returns the port and our end of the socket.
fn attach_one(vhci: &Vhci, key: &Key) -> Result<(u32, UnixStream), AttachError> {
    let speed = key.exported.speed;
    loop {
        let (ours, theirs) = UnixStream::pair()?;
        if let SendBuffer::Capped(size) = send_buffer::widen(&ours)? {
            log::warn(
                "attach",
                format!(
                    "send buffer capped at {} KiB (no CAP_NET_ADMIN for SO_SNDBUFFORCE): \
                     large reads are slower",
                    size >> 10
                ),
            );
        }
        let free = vhci.free_ports(Hub::for_speed(speed))?;
        let mut busy = 0;
        for &port in &free {
            match vhci.attach(
                port,
                theirs.as_raw_fd(),
                key.exported.devid(),
                speed.linux_value(),
            ) {
                // The kernel holds its own reference to the socket now.
                Ok(()) => return Ok((port, ours)),
                // Another process took the port since the status was read.
                Err(e) if e.raw_os_error() == Some(libc::EBUSY) => busy += 1,
                Err(e) => {
                    return Err(VhciError::Io {
                        path: format!("{}/attach (port {port})", crate::vhci::SYSFS_DIR),
                        source: e,
                    }
                    .into())
                }
            }
        }
        log::warn(
            "attach",
            format!("{busy} free ports were taken meanwhile; trying again"),
        );
    }
}

/// Logs the local USB device once usbcore has addressed it, and returns its bus id.
fn log_attached(vhci: &Vhci, port: u32, key: &Key) -> Option<String> {
    let start = Instant::now();
    let busid = loop {
        match vhci.local_busid(port) {
            Ok(Some(busid)) => break Some(busid),
            _ if start.elapsed() > ENUMERATION_WAIT => break None,
            _ => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    let usb = busid
        .as_ref()
        .map_or_else(|| "not yet enumerated".to_owned(), |b| format!("usb {b}"));
    log::info(
        &format!("port {port}"),
        format!("attached {}; {usb}", key.describe()),
    );
    busid
}

/// The manifest of a run, and what it lists of each key but its place.
struct Listing<'a> {
    manifest: &'a Manifest,
    keys: &'a [Key],
    tokens: Vec<Option<image_builder::TokenSummary>>,
}

impl<'a> Listing<'a> {
    /// The listing of `keys`; a key whose token does not decode is listed without its VM
    /// and expiry, with a warning.
    fn new(manifest: &'a Manifest, keys: &'a [Key]) -> Self {
        let tokens = keys
            .iter()
            .map(|key| {
                manifest::token_of(key)
                    .map_err(|e| log::warn(key.image.name(), e))
                    .ok()
            })
            .collect();
        Self {
            manifest,
            keys,
            tokens,
        }
    }

    /// Rewrites the manifest for the keys `attached` now. A manifest that cannot be
    /// written is a warning: the keys are served all the same.
    fn update(&self, attached: &[Option<Attached>]) {
        let placements: Vec<Option<Placement>> = attached
            .iter()
            .map(|a| a.as_ref().map(|a| a.placement.clone()))
            .collect();
        let table = manifest::table(self.keys, &self.tokens, &placements);
        if let Err(e) = self.manifest.write(&table) {
            log::warn(
                "manifest",
                format!("cannot write {}: {e}", self.manifest.path().display()),
            );
        }
    }
}

/// Attaches every key and serves them until SIGTERM or SIGINT, keeping `manifest`.
pub fn run(keys: &[Key], manifest: &Manifest) -> Result<(), AttachError> {
    let vhci = Vhci::open()?;
    let listing = Listing::new(manifest, keys);
    let (events, inbox) = mpsc::channel();
    let mut signals = Signals::new([SIGTERM, SIGINT])?;
    let signal_events = events.clone();
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            let _ = signal_events.send(Event::Stop(signal));
        }
    });
    std::thread::scope(|scope| {
        let mut attached: Vec<Option<Attached>> = keys.iter().map(|_| None).collect();
        let start =
            |index: usize, attached: &mut Vec<Option<Attached>>| -> Result<(), AttachError> {
                let key = &keys[index];
                let (port, ours) = attach_one(&vhci, key)?;
                let reader = ours.try_clone()?;
                let writer = ours.try_clone()?;
                attached[index] = Some(Attached {
                    placement: Placement { port, usb: None },
                    stream: ours,
                });
                let events = events.clone();
                scope.spawn(move || {
                    let result = key.session().and_then(|mut session| {
                        session.serve(
                            &mut BufReader::with_capacity(BUFFER, reader),
                            &mut BufWriter::with_capacity(BUFFER, writer),
                        )
                    });
                    let _ = events.send(Event::Ended(index, result));
                });
                Ok(())
            };
        let mut outcome = Ok(());
        for index in 0..keys.len() {
            if let Err(e) = start(index, &mut attached) {
                outcome = Err(e);
                break;
            }
            enumerated(&vhci, &listing, &mut attached, index);
        }
        if outcome.is_ok() {
            outcome = serve_until_stopped(&vhci, &listing, &inbox, &mut attached, start);
        }
        detach_all(&vhci, &mut attached);
        if let Err(e) = manifest.remove() {
            log::warn(
                "manifest",
                format!("cannot remove {}: {e}", manifest.path().display()),
            );
        }
        outcome
    })
}

/// Waits for key `index`, just attached, to be enumerated, logs it, and lists it with its
/// bus id.
fn enumerated(vhci: &Vhci, listing: &Listing<'_>, attached: &mut [Option<Attached>], index: usize) {
    if let Some(a) = &mut attached[index] {
        a.placement.usb = log_attached(vhci, a.placement.port, &listing.keys[index]);
    }
    listing.update(attached);
}

/// The main loop: re-attaches keys whose connection ended, until a stop signal.
fn serve_until_stopped(
    vhci: &Vhci,
    listing: &Listing<'_>,
    inbox: &mpsc::Receiver<Event>,
    attached: &mut Vec<Option<Attached>>,
    mut start: impl FnMut(usize, &mut Vec<Option<Attached>>) -> Result<(), AttachError>,
) -> Result<(), AttachError> {
    loop {
        match inbox.recv() {
            Ok(Event::Stop(signal)) => {
                log::info("attach", format!("signal {signal}: detaching"));
                return Ok(());
            }
            Ok(Event::Ended(index, result)) => {
                let port = attached[index].take().map(|a| a.placement.port);
                listing.update(attached);
                let subject = port.map_or_else(|| "port ?".to_owned(), |p| format!("port {p}"));
                match result {
                    Ok(()) => log::error(&subject, "connection closed by the kernel (detached)"),
                    Err(e) => log::error(&subject, format!("connection ended: {e}")),
                }
                std::thread::sleep(REATTACH_DELAY);
                log::info(
                    &subject,
                    format!("attaching {} again", listing.keys[index].image.name()),
                );
                start(index, attached)?;
                enumerated(vhci, listing, attached, index);
            }
            Err(mpsc::RecvError) => return Ok(()),
        }
    }
}

/// Detaches every attached port and closes our ends, so every session thread ends.
fn detach_all(vhci: &Vhci, attached: &mut [Option<Attached>]) {
    for a in attached.iter_mut().filter_map(Option::take) {
        let subject = format!("port {}", a.placement.port);
        match vhci.detach(a.placement.port) {
            Ok(()) => log::info(&subject, "detached"),
            Err(e) => log::error(&subject, format!("detach failed: {e}")),
        }
        let _ = a.stream.shutdown(std::net::Shutdown::Both);
    }
}
