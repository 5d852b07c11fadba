//! [`ingest`]: one VM's channel, from the guest's bytes to events. Lines are bounded and
//! rate-limited, reports parsed strictly; the VM is the one the socket belongs to.

use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;
use tokio::net::UnixStream;
use uuid::Uuid;
use vusbkey_report::Report;

use crate::clock::now_ms;
use crate::config::Limits;
use crate::counters::{Counters, Drop};
use crate::event::{Event, Kind};
use crate::limits::{LineSplitter, RateLimit, Split};
use crate::policy::Enforcer;
use crate::writer::Writer;

/// At most one `dropped` event per VM per this long (the counts are always current in
/// the metrics).
const DROP_EVENT_INTERVAL: Duration = Duration::from_secs(60);

/// What one channel task needs.
pub struct Channel<'a> {
    /// The VM, from the socket's name.
    pub vm: Uuid,
    /// The bounds on its input.
    pub limits: &'a Limits,
    /// No verdict within this long after connecting: silent.
    pub deadline: Duration,
    /// Where events go.
    pub writer: &'a Writer,
    /// The host policy.
    pub enforcer: &'a Enforcer,
    /// The in-memory counts.
    pub counters: &'a Counters,
}

/// Lines dropped since the last `dropped` event.
#[derive(Default)]
struct Dropped {
    malformed: u64,
    too_long: u64,
    rate_limited: u64,
}

impl Dropped {
    fn any(&self) -> bool {
        self.malformed + self.too_long + self.rate_limited > 0
    }

    fn detail(&self) -> String {
        format!(
            "dropped {} malformed, {} too long, {} over the rate limit",
            self.malformed, self.too_long, self.rate_limited
        )
    }
}

/// Reads the VM's channel until it closes: records `connected`, each verdict (and runs
/// the policy on a refusal, unless it repeats the VM's previous verdict), `silent` when no verdict comes by the deadline, `dropped`
/// (at most once a minute) for dropped lines, and `disconnected`.
pub async fn ingest(channel: Channel<'_>, mut stream: UnixStream) {
    let Channel {
        vm,
        limits,
        deadline,
        writer,
        enforcer,
        counters,
    } = channel;
    writer
        .record(Event::new(now_ms(), vm, Kind::Connected))
        .await;
    let mut splitter = LineSplitter::new(limits.max_line_bytes);
    let mut rate = RateLimit::new(limits.lines_per_sec, limits.burst, Instant::now());
    let mut buf = vec![0u8; 65536];
    let mut pieces = Vec::new();
    let mut dropped = Dropped::default();
    let mut next_drop_event = Instant::now();
    let silent_at = tokio::time::sleep(deadline);
    tokio::pin!(silent_at);
    let mut waiting_for_verdict = true;
    // The policy runs when a VM's verdict changes, not for each repetition: a guest
    // repeating a refusal cannot make the host run its alarm command at the line rate.
    let mut last_verdict: Option<(Kind, Option<String>)> = None;
    loop {
        tokio::select! {
            read = stream.read(&mut buf) => {
                let n = match read {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                splitter.push(&buf[..n], &mut pieces);
                for piece in pieces.drain(..) {
                    let line = match piece {
                        Split::TooLong => {
                            dropped.too_long += 1;
                            counters.dropped(vm, Drop::TooLong, 1);
                            continue;
                        }
                        Split::Line(line) => line,
                    };
                    if !rate.allow(Instant::now()) {
                        dropped.rate_limited += 1;
                        counters.dropped(vm, Drop::RateLimited, 1);
                        continue;
                    }
                    let Ok(report) = Report::parse(&line) else {
                        dropped.malformed += 1;
                        counters.dropped(vm, Drop::Malformed, 1);
                        continue;
                    };
                    waiting_for_verdict = false;
                    let event = Event::from_report(now_ms(), vm, report);
                    let verdict = Some((event.kind, event.reason.clone()));
                    let changed = verdict != last_verdict;
                    last_verdict = verdict;
                    let refusal = (changed && event.kind == Kind::Refused).then(|| {
                        (event.reason.clone().unwrap_or_default(), event.detail.clone().unwrap_or_default())
                    });
                    writer.record(event).await;
                    if let Some((reason, detail)) = refusal {
                        let enforcer = enforcer.clone();
                        tokio::spawn(async move { enforcer.refused(vm, &reason, &detail).await });
                    }
                }
                if dropped.any() && Instant::now() >= next_drop_event {
                    let event = Event::new(now_ms(), vm, Kind::Dropped).with_detail(dropped.detail());
                    writer.record(event).await;
                    dropped = Dropped::default();
                    next_drop_event = Instant::now() + DROP_EVENT_INTERVAL;
                }
            }
            () = &mut silent_at, if waiting_for_verdict => {
                waiting_for_verdict = false;
                let detail = format!("no verdict within {} s of the channel connecting", deadline.as_secs());
                writer.record(Event::new(now_ms(), vm, Kind::Silent).with_detail(detail.clone())).await;
                let enforcer = enforcer.clone();
                tokio::spawn(async move { enforcer.silent(vm, &detail).await });
            }
        }
    }
    if dropped.any() {
        let event = Event::new(now_ms(), vm, Kind::Dropped).with_detail(dropped.detail());
        writer.record(event).await;
    }
    writer
        .record(Event::new(now_ms(), vm, Kind::Disconnected))
        .await;
}
