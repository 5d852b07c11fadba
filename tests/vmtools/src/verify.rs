//! The check after every round: the device recovers, still follows Bulk-Only, refuses
//! writes, and serves exactly the image.

use anyhow::{bail, ensure, Context};
use sha2::{Digest, Sha256};

use crate::bot::{Cbw, CswStatus, CBW_SIGNATURE};
use crate::descriptors::BulkOnly;
use crate::interface;
use crate::scsi;
use crate::transport::Transport;
use crate::usbfs::Device;

/// Bytes per READ(10) of the full read.
const CHUNK_BLOCKS: u16 = 128;
const BLOCK: usize = 512;
const SENSE_DATA_PROTECT: u8 = 0x07;
const SENSE_ILLEGAL_REQUEST: u8 = 0x05;
const SENSE_UNIT_ATTENTION: u8 = 0x06;

/// SHA-256 in lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Brings the device back (a port reset first when `port_reset`, then Reset Recovery) and
/// checks it: stall-until-Reset-Recovery after an invalid CBW, TEST UNIT READY, INQUIRY,
/// READ CAPACITY, a refused WRITE, a refused READ past the end, and a full READ whose
/// bytes equal `image`. Returns the SHA-256 of what was read.
pub fn check(
    dev: &Device,
    bot: BulkOnly,
    image: &[u8],
    port_reset: bool,
) -> anyhow::Result<String> {
    if port_reset {
        dev.reset().context("port reset")?;
    }
    interface::take(dev, bot.interface).context("claiming the interface")?;
    let mut t = Transport::new(dev, bot, 0x5eed_0000);
    t.reset_recovery().context("Reset Recovery")?;
    stall_until_reset(dev, bot, &t).context("invalid CBW")?;
    t.reset_recovery()
        .context("Reset Recovery after the invalid CBW")?;

    let tur = t.command(&scsi::test_unit_ready(), false, 0, &[])?;
    if tur.csw.status != CswStatus::Passed {
        let key = sense(&mut t)?;
        ensure!(
            key == SENSE_UNIT_ATTENTION,
            "TEST UNIT READY failed with sense key {key:#x}"
        );
        let again = t.command(&scsi::test_unit_ready(), false, 0, &[])?;
        ensure!(
            again.csw.status == CswStatus::Passed,
            "TEST UNIT READY fails after the unit attention"
        );
    }

    let inq = t.command(&scsi::inquiry(false, 0, 36), true, 36, &[])?;
    ensure!(inq.csw.status == CswStatus::Passed, "INQUIRY failed");
    ensure!(
        inq.data.len() >= 5 && inq.data[0] & 0x1f == 0,
        "INQUIRY: not a direct-access device: {:02x?}",
        inq.data
    );

    let cap = t.command(&scsi::read_capacity_10(), true, 8, &[])?;
    ensure!(
        cap.csw.status == CswStatus::Passed && cap.data.len() == 8,
        "READ CAPACITY(10) failed"
    );
    let last = u32::from_be_bytes([cap.data[0], cap.data[1], cap.data[2], cap.data[3]]);
    let block = u32::from_be_bytes([cap.data[4], cap.data[5], cap.data[6], cap.data[7]]);
    let blocks = u64::from(last) + 1;
    ensure!(
        block as usize == BLOCK && blocks * BLOCK as u64 == image.len() as u64,
        "READ CAPACITY: {blocks} blocks of {block}, image is {} bytes",
        image.len()
    );

    let write = t.command(&scsi::write_10(0, 1), false, BLOCK as u32, &[0xa5; BLOCK])?;
    ensure!(
        write.csw.status == CswStatus::Failed,
        "WRITE(10) not refused: {:?}",
        write.csw
    );
    let key = sense(&mut t)?;
    ensure!(
        key == SENSE_DATA_PROTECT,
        "WRITE(10) refused with sense key {key:#x}, not DATA PROTECT"
    );

    let past = t.command(
        &scsi::read_10(last.wrapping_add(1), 1),
        true,
        BLOCK as u32,
        &[],
    )?;
    ensure!(
        past.csw.status == CswStatus::Failed,
        "READ(10) past the end not refused"
    );
    let key = sense(&mut t)?;
    ensure!(
        key == SENSE_ILLEGAL_REQUEST,
        "READ(10) past the end: sense key {key:#x}"
    );

    let mut read = Vec::with_capacity(image.len());
    let mut lba = 0u32;
    while u64::from(lba) < blocks {
        let n = CHUNK_BLOCKS.min(u16::try_from(blocks - u64::from(lba)).unwrap_or(CHUNK_BLOCKS));
        let len = u32::from(n) * BLOCK as u32;
        let r = t.command(&scsi::read_10(lba, n), true, len, &[])?;
        ensure!(
            r.csw.status == CswStatus::Passed && r.csw.residue == 0 && r.data.len() == len as usize,
            "READ(10) at {lba}: {:?}, {} bytes",
            r.csw,
            r.data.len()
        );
        read.extend_from_slice(&r.data);
        lba += u32::from(n);
    }
    if read != image {
        let at = read
            .iter()
            .zip(image)
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        bail!(
            "the disk differs from the image from byte {at} (block {})",
            at / BLOCK
        );
    }
    Ok(sha256_hex(&read))
}

/// REQUEST SENSE; the sense key.
fn sense(t: &mut Transport<'_>) -> anyhow::Result<u8> {
    let r = t.command(&scsi::request_sense(18), true, 18, &[])?;
    ensure!(r.csw.status == CswStatus::Passed, "REQUEST SENSE failed");
    scsi::sense_key(&r.data)
        .with_context(|| format!("REQUEST SENSE: not fixed-format sense: {:02x?}", r.data))
}

/// After a CBW with a bad signature, bulk-IN stalls, and CLEAR_FEATURE alone does not end
/// the stall (BOT 6.6.1): only Reset Recovery does.
fn stall_until_reset(dev: &Device, bot: BulkOnly, t: &Transport<'_>) -> anyhow::Result<()> {
    let mut bad = Cbw::new(0xbad, 0, false, &scsi::test_unit_ready());
    bad.signature = CBW_SIGNATURE ^ 0x0100_0000;
    // The device may take the bytes or stall bulk-OUT; both are allowed.
    let _ = t.send_cbw(&bad);
    let stalled = |what: &str| -> anyhow::Result<()> {
        match t.read_status() {
            Err(e) if e.raw_os_error() == Some(libc::EPIPE) => Ok(()),
            Err(e) => Err(e).context(format!("bulk-IN {what}")),
            Ok(bytes) => bail!(
                "bulk-IN {what} answered {} bytes instead of stalling",
                bytes.len()
            ),
        }
    };
    stalled("after an invalid CBW")?;
    dev.clear_halt(bot.ep_in).context("CLEAR_HALT bulk-IN")?;
    stalled("after CLEAR_FEATURE without Bulk-Only Mass Storage Reset")?;
    Ok(())
}
