//! Carries out [`Op`]s on a claimed device, tolerating every error a device may answer with,
//! and failing only on what no device may do: URBs not given back after an unlink, READ
//! data that is not the image's, a CSW that contradicts its CBW.

use std::io;
use std::time::Duration;

use thiserror::Error;

use crate::bot::{Cbw, Csw, CswStatus, CBW_LEN, CBW_SIGNATURE};
use crate::descriptors::BulkOnly;
use crate::interface;
use crate::ops::{DataStage, Endpoint, Interruption, Op};
use crate::scsi;
use crate::tally::Tally;
use crate::urbs::{AsyncDevice, UrbError};
use crate::usbfs::{Setup, UrbKind};

/// How long a host controller may take to give back an unlinked URB.
const GIVE_BACK: Duration = Duration::from_secs(5);
/// Milliseconds for the stages of a hostile command.
const STAGE_MS: u32 = 300;

/// Why a run stops.
#[derive(Debug, Error)]
pub enum Failure {
    /// ENODEV: the device was unplugged, its driver unloaded, or it re-enumerated.
    #[error("the device went away")]
    Gone,
    /// The device or host controller did what none may.
    #[error("{0}")]
    Defect(String),
}

impl From<UrbError> for Failure {
    fn from(e: UrbError) -> Self {
        match e {
            UrbError::Io(e) if is_gone(&e) => Failure::Gone,
            other => Failure::Defect(other.to_string()),
        }
    }
}

fn is_gone(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::ENODEV)
}

/// Runs ops for one thread.
pub struct Executor<'a> {
    dev: &'a AsyncDevice,
    bot: BulkOnly,
    image: &'a [u8],
    claimed: bool,
    /// What the device answered.
    pub tally: Tally,
}

impl<'a> Executor<'a> {
    /// An executor on `dev` whose interface `bot` is claimed by this descriptor (or not,
    /// when `claimed` is false: it is claimed before the first op that needs it).
    pub fn new(dev: &'a AsyncDevice, bot: BulkOnly, image: &'a [u8], claimed: bool) -> Self {
        Self {
            dev,
            bot,
            image,
            claimed,
            tally: Tally::default(),
        }
    }

    /// Counts `result` under `kind`; `Gone` on ENODEV, else the value if any.
    fn note<T>(&mut self, kind: &'static str, result: io::Result<T>) -> Result<Option<T>, Failure> {
        self.tally.record(kind, &result);
        match result {
            Ok(v) => Ok(Some(v)),
            Err(e) if is_gone(&e) => Err(Failure::Gone),
            Err(_) => Ok(None),
        }
    }

    fn address(&self, ep: Endpoint) -> u8 {
        match ep {
            Endpoint::BulkIn => self.bot.ep_in,
            Endpoint::BulkOut => self.bot.ep_out,
            Endpoint::Raw(a) => a,
        }
    }

    fn ensure_claimed(&mut self) -> Result<(), Failure> {
        if !self.claimed {
            let r = interface::take(&self.dev.dev, self.bot.interface);
            self.claimed = self.note("claim", r)?.is_some();
        }
        Ok(())
    }

    /// Carries out one op.
    pub fn run(&mut self, op: &Op) -> Result<(), Failure> {
        self.tally.op();
        let needs_interface = !matches!(
            op,
            Op::Control { .. } | Op::ControlUrb { .. } | Op::Claim(_) | Op::SetConfiguration(_)
        );
        if needs_interface {
            self.ensure_claimed()?;
        }
        let dev = &self.dev.dev;
        match op {
            Op::Control {
                setup,
                data,
                timeout_ms,
            } => {
                let mut buf = if setup.request_type & 0x80 != 0 {
                    vec![0; usize::from(setup.length)]
                } else {
                    data.clone()
                };
                let r = dev.control(*setup, &mut buf, *timeout_ms);
                self.note("control", r)?;
            }
            Op::ControlUrb {
                setup,
                unlink_after_us,
            } => {
                let mut buf = setup.to_bytes().to_vec();
                buf.resize(8 + usize::from(setup.length), 0);
                let r = self.dev.submit(UrbKind::Control, 0, buf);
                if let Some(id) = self.note("control-urb-submit", r)? {
                    let wait = Duration::from_micros(u64::from(unlink_after_us.unwrap_or(200_000)));
                    for c in self.dev.wait_then_cancel(&[id], wait, GIVE_BACK)? {
                        self.tally.record_status("control-urb", c.status);
                    }
                }
            }
            Op::Bulk {
                ep,
                len,
                timeout_ms,
                cbw_prefix,
            } => {
                let ep = self.address(*ep);
                let mut buf = vec![0; *len as usize];
                if *cbw_prefix && ep & 0x80 == 0 && buf.len() >= CBW_LEN {
                    buf[..CBW_LEN].copy_from_slice(
                        &Cbw::new(0x7e57, 512, true, &scsi::read_10(0, 1)).to_bytes(),
                    );
                }
                let r = dev.bulk(ep, &mut buf, *timeout_ms);
                self.note(
                    if ep & 0x80 != 0 {
                        "bulk-in"
                    } else {
                        "bulk-out"
                    },
                    r,
                )?;
            }
            Op::Command {
                cbw,
                wire_len,
                data,
                status_len,
                clear_stalls,
            } => {
                self.command(cbw, *wire_len, *data, *status_len, *clear_stalls)?;
            }
            Op::Urbs { urbs, wait_ms } => {
                let mut ids = Vec::new();
                for &(ep, len) in urbs {
                    let ep = self.address(ep);
                    let mut buf = vec![0; len as usize];
                    if ep & 0x80 == 0 && buf.len() == CBW_LEN {
                        buf.copy_from_slice(
                            &Cbw::new(0x0b5, 4096, true, &scsi::read_10(8, 8)).to_bytes(),
                        );
                    }
                    let r = self.dev.submit(UrbKind::Bulk, ep, buf);
                    if let Some(id) = self.note("urb-submit", r)? {
                        ids.push(id);
                    }
                }
                let wait = Duration::from_millis(u64::from(*wait_ms));
                for c in self.dev.wait_then_cancel(&ids, wait, GIVE_BACK)? {
                    self.tally.record_status("urb", c.status);
                }
            }
            Op::Interrupted {
                cbw,
                urbs,
                urb_len,
                after_us,
                by,
            } => {
                let r = dev.bulk(self.bot.ep_out, &mut cbw.to_bytes(), STAGE_MS);
                self.note("bulk-out", r)?;
                let mut ids = Vec::new();
                for _ in 0..*urbs {
                    let r =
                        self.dev
                            .submit(UrbKind::Bulk, self.bot.ep_in, vec![0; *urb_len as usize]);
                    if let Some(id) = self.note("urb-submit", r)? {
                        ids.push(id);
                    }
                }
                std::thread::sleep(Duration::from_micros(u64::from(*after_us)));
                match by {
                    Interruption::Unlink => {}
                    Interruption::PortReset => {
                        let r = dev.reset();
                        self.note("port-reset", r)?;
                        self.claimed = false;
                    }
                    Interruption::MassStorageReset => {
                        let r = dev.control(bot_reset(self.bot.interface), &mut [], STAGE_MS);
                        self.note("mass-storage-reset", r)?;
                    }
                    Interruption::ClearHalt => {
                        let r = dev.clear_halt(self.bot.ep_in);
                        self.note("clear-halt", r)?;
                    }
                }
                for c in self.dev.cancel(&ids, GIVE_BACK)? {
                    self.tally.record_status("interrupted-urb", c.status);
                }
            }
            Op::ClearHalt(ep) => {
                let r = dev.clear_halt(self.address(*ep));
                self.note("clear-halt", r)?;
            }
            Op::ResetEp(ep) => {
                let r = dev.reset_ep(self.address(*ep));
                self.note("reset-ep", r)?;
            }
            Op::SetInterface { interface, alt } => {
                let r = dev.set_interface(*interface, *alt);
                self.note("set-interface", r)?;
            }
            Op::SetConfiguration(c) => {
                // As QEMU does: interfaces released first, or the kernel refuses (EBUSY).
                let r = dev.release(u32::from(self.bot.interface));
                self.note("release", r)?;
                let r = dev.set_configuration(*c);
                self.note("set-configuration", r)?;
            }
            Op::Claim(i) => {
                let r = dev.claim(*i);
                self.note("claim-any", r)?;
            }
            Op::Release(i) => {
                let r = dev.release(*i);
                self.note("release", r)?;
            }
            Op::PortReset => {
                let r = dev.reset();
                self.note("port-reset", r)?;
            }
            Op::ResetRecovery => {
                let r = dev.control(bot_reset(self.bot.interface), &mut [], STAGE_MS);
                self.note("mass-storage-reset", r)?;
                let r = dev.clear_halt(self.bot.ep_in);
                self.note("clear-halt", r)?;
                let r = dev.clear_halt(self.bot.ep_out);
                self.note("clear-halt", r)?;
            }
            Op::DriverBounce { after_ms } => {
                let intf = u32::from(self.bot.interface);
                let r = dev.release(intf);
                self.note("release", r)?;
                let r = dev.connect_driver(intf);
                self.note("connect-driver", r)?;
                std::thread::sleep(Duration::from_millis(u64::from(*after_ms)));
            }
        }
        if op.drops_claim() {
            self.claimed = false;
        }
        Ok(())
    }

    /// A hostile command conversation; checks what a valid CBW's CSW and READ data say.
    fn command(
        &mut self,
        cbw: &Cbw,
        wire_len: u32,
        data: DataStage,
        status_len: u32,
        clear: bool,
    ) -> Result<(), Failure> {
        let (ep_in, ep_out) = (self.bot.ep_in, self.bot.ep_out);
        let dev = &self.dev.dev;
        let mut wire = cbw.to_bytes().to_vec();
        wire.resize(wire_len as usize, 0);
        let r = dev.bulk(ep_out, &mut wire, STAGE_MS);
        self.stalled(&r, ep_out, clear);
        self.note("cbw", r)?;
        let mut read = None;
        match data {
            DataStage::None => {}
            DataStage::In(n) => {
                let mut buf = vec![0; n as usize];
                let r = dev.bulk(ep_in, &mut buf, STAGE_MS);
                self.stalled(&r, ep_in, clear);
                if let Some(got) = self.note("data-in", r)? {
                    buf.truncate(got);
                    read = Some(buf);
                }
            }
            DataStage::Out(n) => {
                let r = dev.bulk(ep_out, &mut vec![0x5a; n as usize], STAGE_MS);
                self.stalled(&r, ep_out, clear);
                self.note("data-out", r)?;
            }
        }
        if status_len == 0 {
            return Ok(());
        }
        let mut status = vec![0; status_len as usize];
        let r = dev.bulk(ep_in, &mut status, STAGE_MS);
        let r = if self.stalled(&r, ep_in, clear) {
            dev.bulk(ep_in, &mut status, STAGE_MS)
        } else {
            r
        };
        let Some(got) = self.note("csw", r)? else {
            return Ok(());
        };
        let Ok(csw) = Csw::parse(&status[..got]) else {
            return Ok(());
        };
        let valid = wire_len as usize == CBW_LEN
            && cbw.signature == CBW_SIGNATURE
            && (1..=16).contains(&cbw.cb_len)
            && cbw.lun == 0
            && cbw.flags & 0x7f == 0;
        if valid && csw.tag == cbw.tag {
            if csw.residue > cbw.data_len {
                return Err(Failure::Defect(format!(
                    "CSW residue {} above dCBWDataTransferLength {}",
                    csw.residue, cbw.data_len
                )));
            }
            if let (Some(read), Some(offset)) = (read, read_offset(cbw)) {
                self.check_read(cbw, &csw, &read, offset)?;
            }
        }
        Ok(())
    }

    /// A READ that passed with everything asked for must have returned the image's bytes.
    fn check_read(&self, cbw: &Cbw, csw: &Csw, read: &[u8], offset: u64) -> Result<(), Failure> {
        if csw.status != CswStatus::Passed
            || csw.residue != 0
            || read.len() != cbw.data_len as usize
            || cbw.flags != crate::bot::FLAG_IN
        {
            return Ok(());
        }
        let expected = usize::try_from(offset)
            .ok()
            .and_then(|start| self.image.get(start..start.checked_add(read.len())?));
        match expected {
            Some(expected) if expected == read => Ok(()),
            Some(_) => Err(Failure::Defect(format!(
                "READ at byte {offset} of {} bytes returned data that is not the image's",
                read.len()
            ))),
            None => Err(Failure::Defect(format!(
                "READ at byte {offset} of {} bytes past the image passed",
                read.len()
            ))),
        }
    }

    /// On a stall, clears it when the host is one that does; tells whether it stalled.
    fn stalled<T>(&mut self, r: &io::Result<T>, ep: u8, clear: bool) -> bool {
        let stalled = matches!(r, Err(e) if e.raw_os_error() == Some(libc::EPIPE));
        if stalled && clear {
            let r = self.dev.dev.clear_halt(ep);
            self.tally.record("clear-halt", &r);
        }
        stalled && clear
    }
}

/// The SETUP packet of a Bulk-Only Mass Storage Reset.
fn bot_reset(interface: u8) -> Setup {
    Setup {
        request_type: 0x21,
        request: 0xff,
        value: 0,
        index: u16::from(interface),
        length: 0,
    }
}

/// The byte offset a READ(10)/READ(16) command block asks for, when the CBW's length is
/// exactly its blocks.
fn read_offset(cbw: &Cbw) -> Option<u64> {
    let cb = &cbw.cb;
    let (lba, blocks) = match (cb[0], cbw.cb_len) {
        (0x28, 10) => (
            u64::from(u32::from_be_bytes([cb[2], cb[3], cb[4], cb[5]])),
            u64::from(u16::from_be_bytes([cb[7], cb[8]])),
        ),
        (0x88, 16) => (
            u64::from_be_bytes([cb[2], cb[3], cb[4], cb[5], cb[6], cb[7], cb[8], cb[9]]),
            u64::from(u32::from_be_bytes([cb[10], cb[11], cb[12], cb[13]])),
        ),
        _ => return None,
    };
    (blocks * 512 == u64::from(cbw.data_len))
        .then(|| lba.checked_mul(512))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_offsets() {
        let c = Cbw::new(1, 4 * 512, true, &scsi::read_10(3, 4));
        assert_eq!(read_offset(&c), Some(3 * 512));
        let c = Cbw::new(1, 512, true, &scsi::read_16(9, 1));
        assert_eq!(read_offset(&c), Some(9 * 512));
        let c = Cbw::new(1, 100, true, &scsi::read_10(3, 4));
        assert_eq!(read_offset(&c), None);
        let c = Cbw::new(1, 512, true, &scsi::read_16(u64::MAX, 1));
        assert_eq!(read_offset(&c), None);
    }
}
