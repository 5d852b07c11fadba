//! `hostile`: a hostile VM's view of the key disk. Drives seeded, reproducible malformed
//! traffic through usbdevfs, as QEMU's `usb-host` would forward it, and checks after every
//! round that the device still follows Bulk-Only and serves exactly the image.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use vusbkey_vmtools::campaign::{self, Settings};
use vusbkey_vmtools::descriptors::{self, BulkOnly};
use vusbkey_vmtools::execute::Failure;
use vusbkey_vmtools::generate::Profile;
use vusbkey_vmtools::locate::{self, DeviceSpec};
use vusbkey_vmtools::stop::StopFlag;
use vusbkey_vmtools::urbs::AsyncDevice;
use vusbkey_vmtools::usbfs::Device;
use vusbkey_vmtools::{faultload, hold, interface, nak, verify};

/// Exit status when the device went away during a run (unplugged or unloaded).
const EXIT_GONE: u8 = 2;

/// Attacks a USB mass-storage device through usbdevfs.
#[derive(Parser)]
struct Cli {
    /// `VID:PID` (hex) or a usbdevfs node such as /dev/bus/usb/001/002.
    #[arg(long, default_value = "1209:0001")]
    device: DeviceSpec,
    /// Seconds to wait for the device to appear.
    #[arg(long, default_value_t = 20)]
    wait: u64,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Rounds of hostile ops, each followed by the full check. Exits 0 when all checks
    /// pass, 1 on a defect, 2 when the device went away. SIGTERM or SIGINT ends the run
    /// after the op in flight, with that round's check, and gives the interface back.
    Run {
        /// The image the disk must serve.
        #[arg(long)]
        image: PathBuf,
        /// Seed (decimal or 0x-hex); random when absent. Always printed.
        #[arg(long, value_parser = parse_seed)]
        seed: Option<u64>,
        /// Stop after about this many ops (at the end of a round); with neither this nor
        /// `--seconds`, one round.
        #[arg(long)]
        ops: Option<u64>,
        /// Stop after about this many seconds (at the end of a round).
        #[arg(long)]
        seconds: Option<u64>,
        /// Ops per round.
        #[arg(long, default_value_t = 200)]
        round_ops: u32,
        /// Threads in every fourth round (the last on a descriptor of its own).
        #[arg(long, default_value_t = 3)]
        threads: u32,
        /// Start at this round (to replay a failing round of the same seed).
        #[arg(long, default_value_t = 0)]
        first_round: u64,
        /// Print each op before it runs.
        #[arg(long)]
        trace: bool,
    },
    /// Only the check: Reset Recovery, a BOT conversation, and a full read against the image.
    Check {
        /// The image the disk must serve.
        #[arg(long)]
        image: PathBuf,
        /// Port-reset the device first.
        #[arg(long)]
        port_reset: bool,
    },
    /// Bulk-IN read ahead of the device: URBs queued before the CBW stay pending (NAK),
    /// then take the CSW or data; an unlinked one comes back at once. Exits 0 when all hold.
    Nak {
        /// The image the disk must serve.
        #[arg(long)]
        image: PathBuf,
    },
    /// Keeps bulk-IN URBs queued (resubmitting each one given back) until the device goes
    /// away; exits 0 when every URB was given back and usbdevfs then said ENODEV.
    Hold {
        /// URBs to queue.
        #[arg(long, default_value_t = 8)]
        urbs: usize,
        /// Seconds to wait for the device to go away.
        #[arg(long, default_value_t = 60)]
        patience: u64,
        /// Milliseconds to keep the descriptor open after the device went away.
        #[arg(long, default_value_t = 1000)]
        linger_ms: u64,
    },
    /// Loads a kernel module with the Nth fault-injection call of the load failing
    /// (failslab must be set to fail sleeping allocations). Exits 0 when it loaded, 1 when
    /// it was refused; says whether a failure was injected, and how many calls the load made
    /// when it made fewer than N.
    Insmod {
        /// The module file.
        module: PathBuf,
        /// The call that fails (1 = the first; 0 = none).
        #[arg(long, default_value_t = 0)]
        fail_nth: u32,
        /// Module parameters.
        #[arg(long, default_value = "")]
        params: String,
    },
    /// Prints the ops of one round without touching any device.
    Plan {
        /// Seed.
        #[arg(long, value_parser = parse_seed)]
        seed: u64,
        /// Round.
        #[arg(long, default_value_t = 0)]
        round: u64,
        /// Ops.
        #[arg(long, default_value_t = 200)]
        ops: u32,
    },
}

fn parse_seed(s: &str) -> Result<u64, std::num::ParseIntError> {
    match s.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => s.parse(),
    }
}

/// Opens the device and finds its Bulk-Only interface.
fn open(cli: &Cli) -> anyhow::Result<(PathBuf, Device, BulkOnly)> {
    let node = locate::find(&cli.device, Duration::from_secs(cli.wait))?;
    let descriptors =
        std::fs::read(&node).with_context(|| format!("reading {}", node.display()))?;
    let bot = descriptors::parse(&descriptors)?;
    let dev = Device::open(&node).with_context(|| format!("opening {}", node.display()))?;
    Ok((node, dev, bot))
}

fn read_image(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

fn random_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos ^ u64::from(std::process::id()).rotate_left(32)
}

fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    match &cli.command {
        Command::Plan { seed, round, ops } => {
            let settings = Settings {
                seed: *seed,
                ops: None,
                duration: None,
                round_ops: *ops,
                threads: 1,
                first_round: *round,
                trace: false,
                stop: StopFlag::default(),
            };
            let (plan, wrecked) = campaign::plan(&settings, *round, 0, Profile::Alone, *ops);
            for (i, op) in plan.iter().enumerate() {
                println!("{round}.0.{i} {op}");
            }
            println!("port reset before the check: {wrecked}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Insmod {
            module,
            fail_nth,
            params,
        } => {
            let load = faultload::load(module, params, *fail_nth)?;
            let injected = if load.injected {
                "injected"
            } else {
                "not injected"
            };
            let calls = load
                .calls
                .map(|n| format!(", {n} calls"))
                .unwrap_or_default();
            match load.result {
                Ok(()) => {
                    println!("hostile: fail-nth {fail_nth} {injected}{calls}: loaded");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    println!("hostile: fail-nth {fail_nth} {injected}{calls}: refused: {e}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Check { image, port_reset } => {
            let image = read_image(image)?;
            let (_, dev, bot) = open(&cli)?;
            let sha = verify::check(&dev, bot, &image, *port_reset)?;
            interface::give_back(&dev, bot.interface).context("giving the interface back")?;
            println!("hostile: check ok, image sha256 {sha}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Nak { image } => {
            let image = read_image(image)?;
            let (_, dev, bot) = open(&cli)?;
            let dev = AsyncDevice::new(dev);
            nak::check(&dev, bot, &image)?;
            interface::give_back(&dev.dev, bot.interface).context("giving the interface back")?;
            println!("hostile: nak ok: read-ahead URBs stayed pending, then got the CSW and data");
            Ok(ExitCode::SUCCESS)
        }
        Command::Hold {
            urbs,
            patience,
            linger_ms,
        } => {
            let (node, dev, bot) = open(&cli)?;
            println!("hostile: {} {bot:?}", node.display());
            hold::hold(
                &dev,
                bot,
                *urbs,
                Duration::from_secs(*patience),
                Duration::from_millis(*linger_ms),
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Run {
            image,
            seed,
            ops,
            seconds,
            round_ops,
            threads,
            first_round,
            trace,
        } => {
            let settings = Settings {
                seed: seed.unwrap_or_else(random_seed),
                ops: *ops,
                duration: seconds.map(Duration::from_secs),
                round_ops: (*round_ops).max(1),
                threads: (*threads).max(1),
                first_round: *first_round,
                trace: *trace,
                stop: StopFlag::on_termination().context("blocking SIGTERM and SIGINT")?,
            };
            println!(
                "hostile: seed={:#018x} ops={:?} seconds={:?} round-ops={} threads={}",
                settings.seed, ops, seconds, settings.round_ops, settings.threads
            );
            let image = read_image(image)?;
            let (node, dev, bot) = open(&cli)?;
            println!("hostile: {} {bot:?}", node.display());
            let sha =
                verify::check(&dev, bot, &image, false).context("check before the first round")?;
            println!("hostile: initial check ok, image sha256 {sha}");
            let dev = AsyncDevice::new(dev);
            let result = campaign::run(&node, &dev, bot, &image, &settings);
            let (tally, stop) = match result {
                Ok(tally) => (tally, None),
                Err((tally, stop)) => (tally, Some(stop)),
            };
            println!("hostile: {} ops, outcomes:\n{tally}", tally.ops());
            match stop {
                None => {
                    interface::give_back(&dev.dev, bot.interface)
                        .context("giving the interface back")?;
                    let stopped = if settings.stop.is_set() {
                        " (stopped by a signal)"
                    } else {
                        ""
                    };
                    println!(
                        "hostile: PASS{stopped} seed={:#018x} ops={}",
                        settings.seed,
                        tally.ops()
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Some(stop) => {
                    let replay = format!("hostile run --image {} --seed {:#x} --first-round {} --ops 1 --round-ops {} --threads {} --trace", image_arg(&cli), settings.seed, stop.round, settings.round_ops, settings.threads);
                    match stop.failure {
                        Failure::Gone => {
                            println!(
                                "hostile: GONE in round {} after {} ops (seed {:#018x})",
                                stop.round,
                                tally.ops(),
                                settings.seed
                            );
                            Ok(ExitCode::from(EXIT_GONE))
                        }
                        Failure::Defect(what) => {
                            println!("hostile: DEFECT in round {} (seed {:#018x}): {what}\nhostile: replay with: {replay}", stop.round, settings.seed);
                            Ok(ExitCode::FAILURE)
                        }
                    }
                }
            }
        }
    }
}

/// The `--image` argument as given.
fn image_arg(cli: &Cli) -> String {
    match &cli.command {
        Command::Run { image, .. } | Command::Check { image, .. } | Command::Nak { image } => {
            image.display().to_string()
        }
        _ => String::new(),
    }
}
