//! Bulk-IN read ahead of the device, as a guest that queues its reads early does: a
//! device with nothing to send NAKs (USB 2.0 §8.5.1), so the URB stays pending, takes the
//! data or CSW once a CBW has produced it, and comes back at once when unlinked.

use std::time::Duration;

use anyhow::{bail, ensure, Context};

use crate::bot::{Cbw, Csw, CswStatus, CSW_LEN};
use crate::descriptors::BulkOnly;
use crate::interface;
use crate::scsi;
use crate::transport::Transport;
use crate::urbs::AsyncDevice;
use crate::usbfs::{Completion, UrbKind};

/// How long a NAKed URB must stay pending to count as pending.
const PENDING: Duration = Duration::from_millis(500);
/// How long a URB that has its data may take to come back.
const PROMPT: Duration = Duration::from_secs(5);
const BLOCK: usize = 512;

/// Runs the read-ahead conversation against `bot` and checks every step; `image` is what
/// the disk serves. Leaves the device idle after Reset Recovery.
pub fn check(dev: &AsyncDevice, bot: BulkOnly, image: &[u8]) -> anyhow::Result<()> {
    interface::take(&dev.dev, bot.interface).context("claiming the interface")?;
    let mut t = Transport::new(&dev.dev, bot, 0x4e41_4b00);
    t.reset_recovery().context("Reset Recovery")?;
    // Clear a pending unit attention, so that TEST UNIT READY passes below.
    t.command(&scsi::request_sense(18), true, 18, &[])
        .context("REQUEST SENSE")?;

    // Two reads queued before any command: both NAKed, both pending.
    let csw_urb = dev.submit(UrbKind::Bulk, bot.ep_in, vec![0; CSW_LEN])?;
    let data_urb = dev.submit(UrbKind::Bulk, bot.ep_in, vec![0; BLOCK])?;
    still_pending(dev, &[csw_urb, data_urb], "before any CBW")?;

    // TEST UNIT READY: the first queued read takes its CSW, the second stays pending.
    let tur = Cbw::new(0x4e41_4b01, 0, false, &scsi::test_unit_ready());
    t.send_cbw(&tur).context("TEST UNIT READY CBW")?;
    let csw = one(dev, csw_urb, "the CSW of TEST UNIT READY")?;
    expect_csw(received(&csw)?, tur.tag, 0)?;
    still_pending(dev, &[data_urb], "after the CSW")?;

    // READ(10) of block 1: the queued 512-byte read takes the data; the CSW follows.
    let read = Cbw::new(0x4e41_4b02, BLOCK as u32, true, &scsi::read_10(1, 1));
    t.send_cbw(&read).context("READ(10) CBW")?;
    let data = one(dev, data_urb, "the READ(10) data")?;
    ensure!(
        image.get(BLOCK..2 * BLOCK) == Some(received(&data)?),
        "READ(10) data is not block 1 of the image"
    );
    let status = t.read_status().context("READ(10) CSW")?;
    expect_csw(&status, read.tag, 0)?;

    // A NAKed read that is unlinked comes back promptly, unlinked, with no data.
    let doomed = dev.submit(UrbKind::Bulk, bot.ep_in, vec![0; CSW_LEN])?;
    still_pending(dev, &[doomed], "before the unlink")?;
    let back = dev
        .cancel(&[doomed], PROMPT)
        .context("unlinking a NAKed URB")?;
    match back.as_slice() {
        [c] if c.actual == 0 && (c.status == -libc::ENOENT || c.status == -libc::ECONNRESET) => {}
        [c] => bail!(
            "unlinked NAKed URB came back with status {} and {} bytes",
            c.status,
            c.actual
        ),
        _ => bail!("unlinking one URB gave back {} URBs", back.len()),
    }

    // Nothing was lost on the way: the next command is answered normally.
    let again = t
        .command(&scsi::test_unit_ready(), false, 0, &[])
        .context("TEST UNIT READY after the unlink")?;
    ensure!(
        again.csw.status == CswStatus::Passed,
        "TEST UNIT READY after the unlink: {:?}",
        again.csw.status
    );
    Ok(())
}

/// Fails unless none of `ids` completes within [`PENDING`].
fn still_pending(dev: &AsyncDevice, ids: &[u64], when: &str) -> anyhow::Result<()> {
    let (done, _) = dev.wait(ids, PENDING)?;
    if let Some(c) = done.first() {
        bail!(
            "bulk-IN {when} completed (status {}, {} bytes) instead of staying pending (NAK)",
            c.status,
            c.actual
        );
    }
    Ok(())
}

/// Waits for the URB `id`, which must complete within [`PROMPT`].
fn one(dev: &AsyncDevice, id: u64, what: &str) -> anyhow::Result<Completion> {
    let (mut done, _) = dev.wait(&[id], PROMPT)?;
    done.pop()
        .with_context(|| format!("{what} did not arrive within {PROMPT:?}"))
}

/// The bytes a completed IN URB received.
fn received(c: &Completion) -> anyhow::Result<&[u8]> {
    ensure!(c.status == 0, "bulk-IN completed with status {}", c.status);
    Ok(&c.buffer[..c.actual.min(c.buffer.len())])
}

/// A passed CSW for `tag` with `residue`.
fn expect_csw(bytes: &[u8], tag: u32, residue: u32) -> anyhow::Result<()> {
    let csw = Csw::parse(bytes).context("status stage")?;
    ensure!(
        csw == Csw {
            tag,
            residue,
            status: CswStatus::Passed
        },
        "CSW {csw:?} for tag {tag:#x}"
    );
    Ok(())
}
