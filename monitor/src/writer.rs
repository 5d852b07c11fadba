//! [`Writer`]: the one thread that owns the [`Store`], commits events in batches and
//! acknowledges each one once committed: a structured line on stdout, then the caller's
//! reply.

use std::io::Write;

use tokio::sync::{mpsc, oneshot};

use crate::event::Event;
use crate::store::{Store, StoreError};

/// Events waiting for the writer; senders wait when it is full.
const QUEUE: usize = 4096;
/// The most events in one transaction.
const BATCH: usize = 512;

type Job = (Event, oneshot::Sender<i64>);

/// A handle to the writer thread; cloned freely.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the thread owning `store`. It ends when every handle is dropped, or on a
    /// database error (reported on stderr; the daemon then stops, see
    /// [`Writer::closed`]).
    pub fn spawn(mut store: Store) -> Self {
        let (jobs, mut queue) = mpsc::channel::<Job>(QUEUE);
        std::thread::Builder::new()
            .name("vusbkey-store".into())
            .spawn(move || {
                let mut batch = Vec::with_capacity(BATCH);
                while let Some(job) = queue.blocking_recv() {
                    batch.push(job);
                    while batch.len() < BATCH {
                        match queue.try_recv() {
                            Ok(job) => batch.push(job),
                            Err(_) => break,
                        }
                    }
                    if let Err(e) = commit(&mut store, &mut batch) {
                        eprintln!("vusbkey-monitor: store-failed error={:?}", chain(&e));
                        return;
                    }
                }
            })
            .map(drop)
            .unwrap_or_else(|e| eprintln!("vusbkey-monitor: cannot start the store thread: {e}"));
        Self { jobs }
    }

    /// Stores `event`; returns its id once committed, `None` if the writer is gone.
    pub async fn record(&self, event: Event) -> Option<i64> {
        let (reply, id) = oneshot::channel();
        self.jobs.send((event, reply)).await.ok()?;
        id.await.ok()
    }

    /// Waits until the writer thread has stopped (after a database error).
    pub async fn closed(&self) {
        self.jobs.closed().await;
    }
}

fn commit(store: &mut Store, batch: &mut Vec<Job>) -> Result<(), StoreError> {
    let events: Vec<Event> = batch.iter().map(|(event, _)| event.clone()).collect();
    let ids = store.insert(&events)?;
    let mut out = std::io::stdout().lock();
    for ((event, reply), id) in batch.drain(..).zip(ids) {
        // The acknowledgement: logged only once committed.
        let _ = writeln!(out, "{}", event.log_line(id));
        let _ = reply.send(id);
    }
    let _ = out.flush();
    Ok(())
}

/// An error and its causes, `: `-separated.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
