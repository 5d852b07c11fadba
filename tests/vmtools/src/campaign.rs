//! A hostile run: rounds of generated ops (some rounds from several threads at once, on
//! the same descriptor and on a second one), each followed by the full check.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::descriptors::BulkOnly;
use crate::execute::{Executor, Failure};
use crate::generate::{round_seed, Generator, Profile};
use crate::ops::Op;
use crate::stop::StopFlag;
use crate::tally::Tally;
use crate::urbs::AsyncDevice;
use crate::usbfs::Device;
use crate::verify;

/// How long and how a run goes.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The run's seed; round `r`, thread `t` use `round_seed(seed, r, t)`.
    pub seed: u64,
    /// Stop after this many ops (at a round's end).
    pub ops: Option<u64>,
    /// Stop after this long (at a round's end).
    pub duration: Option<Duration>,
    /// Ops per round.
    pub round_ops: u32,
    /// Threads in a parallel round (1: never parallel).
    pub threads: u32,
    /// First round to run (replays a later round of the same seed).
    pub first_round: u64,
    /// Print each op before it runs.
    pub trace: bool,
    /// Set when the run is to end after the op in flight (the round's check still runs).
    pub stop: StopFlag,
}

/// Where a run stopped.
#[derive(Debug)]
pub struct Stop {
    /// The round that failed.
    pub round: u64,
    /// Why.
    pub failure: Failure,
}

/// Whether round `round` runs several threads.
fn parallel(settings: &Settings, round: u64) -> bool {
    settings.threads > 1 && round % 4 == 3
}

/// The plan of one thread of one round.
pub fn plan(
    settings: &Settings,
    round: u64,
    thread: u32,
    profile: Profile,
    ops: u32,
) -> (Vec<Op>, bool) {
    let mut g = Generator::new(round_seed(settings.seed, round, u64::from(thread)), profile);
    let mut plan: Vec<Op> = (0..ops).map(|_| g.op()).collect();
    // A quarter of the single-thread rounds end by leaving the device in a state only a
    // port reset repairs.
    let wreck = profile == Profile::Alone && round_seed(settings.seed, round, 99).is_multiple_of(4);
    if wreck {
        if let Some(last) = plan.last_mut() {
            *last = g.finale();
        }
    }
    (plan, wreck)
}

/// Runs rounds on the device at `node` until the settings' budget is spent; returns the
/// tally, or the round that failed and why.
pub fn run(
    node: &Path,
    dev: &AsyncDevice,
    bot: BulkOnly,
    image: &[u8],
    settings: &Settings,
) -> Result<Tally, (Tally, Stop)> {
    let start = Instant::now();
    let mut total = Tally::default();
    let mut round = settings.first_round;
    loop {
        let result = if parallel(settings, round) {
            parallel_round(node, dev, bot, image, settings, round)
        } else {
            single_round(dev, bot, image, settings, round)
        };
        let result = result.and_then(|(tally, wrecked)| {
            total.merge(&tally);
            verify::check(&dev.dev, bot, image, wrecked)
                .map_err(|e| Failure::Defect(format!("check after the round: {e:#}")))
        });
        match result {
            Ok(sha) => println!(
                "hostile: round {round} ok, {} ops, image sha256 {sha}, {:.0}s",
                total.ops(),
                start.elapsed().as_secs_f64()
            ),
            Err(failure) => return Err((total, Stop { round, failure })),
        }
        round += 1;
        let ops_done = settings.ops.is_some_and(|n| total.ops() >= n);
        let time_up = settings.duration.is_some_and(|d| start.elapsed() >= d);
        let once = settings.ops.is_none() && settings.duration.is_none();
        if ops_done || time_up || once || settings.stop.is_set() {
            return Ok(total);
        }
    }
}

/// Runs `ops` in order; a stop ends the round early.
fn execute(
    exec: &mut Executor<'_>,
    ops: &[Op],
    settings: &Settings,
    round: u64,
    thread: u32,
) -> Result<(), Failure> {
    for (i, op) in ops.iter().enumerate() {
        if settings.stop.is_set() {
            println!("hostile: round {round} thread {thread} stopped before op {i}");
            break;
        }
        if settings.trace {
            println!("hostile: {round}.{thread}.{i} {op}");
        }
        exec.run(op)?;
    }
    Ok(())
}

fn single_round(
    dev: &AsyncDevice,
    bot: BulkOnly,
    image: &[u8],
    settings: &Settings,
    round: u64,
) -> Result<(Tally, bool), Failure> {
    let (ops, wrecked) = plan(settings, round, 0, Profile::Alone, settings.round_ops);
    let mut exec = Executor::new(dev, bot, image, false);
    let result = execute(&mut exec, &ops, settings, round, 0);
    result.map(|()| (exec.tally, wrecked))
}

/// Threads 0 .. n-2 share `dev`; the last opens a descriptor of its own and sends control
/// requests only.
fn parallel_round(
    node: &Path,
    dev: &AsyncDevice,
    bot: BulkOnly,
    image: &[u8],
    settings: &Settings,
    round: u64,
) -> Result<(Tally, bool), Failure> {
    let per_thread = (settings.round_ops / settings.threads).max(1);
    let other = Device::open(node).map_err(|e| match e.raw_os_error() {
        Some(libc::ENODEV | libc::ENOENT) => Failure::Gone,
        _ => Failure::Defect(format!("opening a second descriptor: {e}")),
    })?;
    let other = AsyncDevice::new(other);
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..settings.threads)
            .map(|t| {
                let last = t + 1 == settings.threads;
                let (target, profile) = if last {
                    (&other, Profile::OtherFd)
                } else {
                    (dev, Profile::SharedFd)
                };
                s.spawn(move || {
                    let (ops, _) = plan(settings, round, t, profile, per_thread);
                    let mut exec = Executor::new(target, bot, image, !last);
                    execute(&mut exec, &ops, settings, round, t).map(|()| exec.tally)
                })
            })
            .collect();
        let mut tally = Tally::default();
        let mut first_failure = None;
        for w in workers {
            match w.join() {
                Ok(Ok(t)) => tally.merge(&t),
                Ok(Err(f)) => {
                    first_failure.get_or_insert(f);
                }
                Err(_) => {
                    first_failure
                        .get_or_insert(Failure::Defect("a submitter thread panicked".into()));
                }
            }
        }
        match first_failure {
            Some(f) => Err(f),
            None => Ok((tally, false)),
        }
    })
}
