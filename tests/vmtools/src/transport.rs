//! A strict Bulk-Only host: Reset Recovery and complete CBW / data / CSW conversations
//! over synchronous usbdevfs transfers, checking every CSW against its CBW.

use anyhow::{bail, Context};

use crate::bot::{Cbw, Csw, CswStatus, CSW_LEN};
use crate::descriptors::BulkOnly;
use crate::usbfs::{Device, Setup};

/// Milliseconds allowed for any one stage of a conversation.
const TIMEOUT_MS: u32 = 5000;

/// What a command returned.
#[derive(Debug)]
pub struct Reply {
    /// The data stage's bytes (IN commands).
    pub data: Vec<u8>,
    /// The status.
    pub csw: Csw,
}

/// A conversation with the Bulk-Only interface of an open, claimed device.
pub struct Transport<'a> {
    dev: &'a Device,
    bot: BulkOnly,
    tag: u32,
}

fn is_stall(e: &std::io::Error) -> bool {
    e.raw_os_error() == Some(libc::EPIPE)
}

impl<'a> Transport<'a> {
    /// Talks to `bot` on `dev`; tags start from `first_tag`.
    pub fn new(dev: &'a Device, bot: BulkOnly, first_tag: u32) -> Self {
        Self {
            dev,
            bot,
            tag: first_tag,
        }
    }

    /// Reset Recovery (BOT 5.3.4): Bulk-Only Mass Storage Reset, then CLEAR_FEATURE HALT on
    /// bulk-IN, then on bulk-OUT.
    pub fn reset_recovery(&self) -> anyhow::Result<()> {
        let setup = Setup {
            request_type: 0x21,
            request: 0xff,
            value: 0,
            index: u16::from(self.bot.interface),
            length: 0,
        };
        self.dev
            .control(setup, &mut [], TIMEOUT_MS)
            .context("Bulk-Only Mass Storage Reset")?;
        self.dev
            .clear_halt(self.bot.ep_in)
            .context("CLEAR_HALT bulk-IN")?;
        self.dev
            .clear_halt(self.bot.ep_out)
            .context("CLEAR_HALT bulk-OUT")?;
        Ok(())
    }

    /// Sends the 31 bytes of a CBW.
    pub fn send_cbw(&self, cbw: &Cbw) -> std::io::Result<usize> {
        self.dev
            .bulk(self.bot.ep_out, &mut cbw.to_bytes(), TIMEOUT_MS)
    }

    /// Reads 13 bytes from bulk-IN, as a CSW read does; the error is the transfer's.
    pub fn read_status(&self) -> std::io::Result<Vec<u8>> {
        let mut buf = vec![0; CSW_LEN];
        let n = self.dev.bulk(self.bot.ep_in, &mut buf, TIMEOUT_MS)?;
        buf.truncate(n);
        Ok(buf)
    }

    /// One command: CBW, data stage of `len` bytes (IN, or OUT from `out`), CSW. A stalled
    /// data stage is cleared and the CSW read, as BOT 6.7.2 and 6.7.3 prescribe. Fails when
    /// the device breaks the protocol: no CSW, wrong signature or tag, residue above `len`,
    /// more data than asked for, or a phase error.
    pub fn command(
        &mut self,
        cdb: &[u8],
        data_in: bool,
        len: u32,
        out: &[u8],
    ) -> anyhow::Result<Reply> {
        self.tag = self.tag.wrapping_add(1);
        let tag = self.tag;
        let cbw = Cbw::new(tag, len, data_in, cdb);
        let sent = self
            .send_cbw(&cbw)
            .with_context(|| format!("CBW of opcode {:#04x}", cdb[0]))?;
        if sent != cbw.to_bytes().len() {
            bail!("CBW: only {sent} of 31 bytes accepted");
        }
        let mut data = Vec::new();
        let mut stalled = false;
        if len > 0 {
            let ep = if data_in {
                self.bot.ep_in
            } else {
                self.bot.ep_out
            };
            let mut buf = if data_in {
                vec![0; len as usize]
            } else {
                out.to_vec()
            };
            match self.dev.bulk(ep, &mut buf, TIMEOUT_MS) {
                Ok(n) => {
                    buf.truncate(n);
                    if data_in {
                        data = buf;
                    }
                }
                Err(e) if is_stall(&e) => {
                    stalled = true;
                    self.dev
                        .clear_halt(ep)
                        .context("CLEAR_HALT after data stall")?;
                }
                Err(e) => return Err(e).context(format!("data stage of opcode {:#04x}", cdb[0])),
            }
        }
        let status = match self.read_status() {
            Err(e) if is_stall(&e) => {
                self.dev
                    .clear_halt(self.bot.ep_in)
                    .context("CLEAR_HALT after CSW stall")?;
                self.read_status()
            }
            other => other,
        }
        .with_context(|| format!("CSW of opcode {:#04x}", cdb[0]))?;
        let csw = Csw::parse(&status).with_context(|| format!("CSW of opcode {:#04x}", cdb[0]))?;
        if csw.tag != tag {
            bail!(
                "opcode {:#04x}: CSW tag {:#x}, CBW tag {:#x}",
                cdb[0],
                csw.tag,
                tag
            );
        }
        if csw.residue > len {
            bail!(
                "opcode {:#04x}: residue {} above the {} bytes asked for",
                cdb[0],
                csw.residue,
                len
            );
        }
        if csw.status == CswStatus::PhaseError {
            bail!(
                "opcode {:#04x}: phase error on a well-formed command",
                cdb[0]
            );
        }
        if data_in
            && !stalled
            && csw.status == CswStatus::Passed
            && data.len() as u64 + u64::from(csw.residue) != u64::from(len)
        {
            bail!(
                "opcode {:#04x}: {} bytes sent + residue {} != {} asked for",
                cdb[0],
                data.len(),
                csw.residue,
                len
            );
        }
        Ok(Reply { data, csw })
    }
}
