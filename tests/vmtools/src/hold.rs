//! Keeping URBs in flight until the device goes away (module unloaded, disk unplugged):
//! every URB given back is submitted again, so some are always queued in the host
//! controller; when the device goes, each must come back and usbdevfs must say ENODEV.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::descriptors::BulkOnly;
use crate::interface;
use crate::tally::errno_name;
use crate::usbfs::{Device, UrbKind};

/// Bulk-IN URB sizes queued while the device has nothing to send.
const SIZES: &[usize] = &[13, 512, 4096, 65536, 1 << 20];

/// Queues `count` bulk-IN URBs, prints `hostile: holding N URBs`, and resubmits each one
/// given back (clearing a stall first) until the device goes away or `patience` runs out.
/// Then keeps the descriptor open `linger` longer, so that it closes after the unload.
pub fn hold(
    dev: &Device,
    bot: BulkOnly,
    count: usize,
    patience: Duration,
    linger: Duration,
) -> anyhow::Result<()> {
    interface::take(dev, bot.interface).context("claiming the interface")?;
    for i in 0..count {
        let size = SIZES[i % SIZES.len()];
        dev.submit(UrbKind::Bulk, bot.ep_in, vec![0; size])
            .context("submitting a bulk-IN URB")?;
    }
    println!("hostile: holding {count} URBs");
    std::io::stdout().flush()?;
    let deadline = Instant::now() + patience;
    let mut before: BTreeMap<String, usize> = BTreeMap::new();
    let mut at_end: BTreeMap<String, usize> = BTreeMap::new();
    let mut gone = false;
    loop {
        match dev.reap_nowait() {
            Ok(Some(c)) => {
                let status = if c.status == 0 {
                    "ok".into()
                } else {
                    errno_name(-c.status)
                };
                if gone {
                    *at_end.entry(status).or_default() += 1;
                    continue;
                }
                *before.entry(status).or_default() += 1;
                if c.status == -libc::EPIPE {
                    let _ = dev.clear_halt(bot.ep_in);
                }
                match dev.submit(UrbKind::Bulk, bot.ep_in, c.buffer) {
                    Ok(_) => {}
                    Err(e) if e.raw_os_error() == Some(libc::ENODEV) => gone = true,
                    Err(e) => return Err(e).context("resubmitting"),
                }
            }
            Ok(None) => {
                if Instant::now() >= deadline {
                    bail!(
                        "device still there after {patience:?}; given back meanwhile: {before:?}"
                    );
                }
                dev.wait_reapable(Duration::from_millis(50))?;
            }
            // usbdevfs says ENODEV as soon as the device is marked gone, which is before
            // usbcore has killed the URBs it still holds: reaping goes on (devio.c allows
            // it after a disconnect) until every URB is back, or patience runs out.
            Err(e) if e.raw_os_error() == Some(libc::ENODEV) => {
                gone = true;
                if dev.in_flight() == 0 {
                    break;
                }
                if Instant::now() >= deadline {
                    bail!("{} URBs never given back", dev.in_flight());
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(e).context("reaping"),
        }
    }
    println!(
        "hostile: device gone; given back while it was there: {before:?}; when it went: {at_end:?}"
    );
    std::thread::sleep(linger);
    Ok(())
}
