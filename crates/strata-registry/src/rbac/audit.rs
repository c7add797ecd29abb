//! The audit log's writer: requests hand events to a thread that writes
//! them in batches, so a pull does not wait for a database commit.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;

use super::accounts::{Accounts, AuditEvent};

/// Events queued at most before senders wait.
const QUEUE: usize = 16_384;
/// Events written per transaction at most.
const BATCH: usize = 512;

enum Message {
    Event(AuditEvent),
    Flush(SyncSender<()>),
}

/// Queues audit events for the writer thread.
#[derive(Debug)]
pub struct AuditLog {
    tx: SyncSender<Message>,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Message::Event(e) => e.fmt(f),
            Message::Flush(_) => f.write_str("Flush"),
        }
    }
}

impl AuditLog {
    /// Starts the writer; it ends when the log is dropped, after writing
    /// what was queued.
    pub fn start(accounts: Arc<dyn Accounts>) -> AuditLog {
        let (tx, rx) = sync_channel(QUEUE);
        std::thread::Builder::new()
            .name("audit".into())
            .spawn(move || write_loop(&*accounts, &rx))
            .map_err(|e| tracing::error!(error = %e, "audit writer did not start"))
            .ok();
        AuditLog { tx }
    }

    /// Queues an event.
    pub fn record(&self, event: AuditEvent) {
        if self.tx.send(Message::Event(event)).is_err() {
            tracing::error!("audit writer is gone; an event was not recorded");
        }
    }

    /// Waits until every event queued before is written.
    pub fn flush(&self) {
        let (done, wait) = sync_channel(1);
        if self.tx.send(Message::Flush(done)).is_ok() {
            let _ = wait.recv();
        }
    }
}

fn write_loop(accounts: &dyn Accounts, rx: &Receiver<Message>) {
    while let Ok(first) = rx.recv() {
        let mut events = Vec::new();
        let mut waiting = Vec::new();
        let mut next = Some(first);
        while let Some(message) = next.take() {
            match message {
                Message::Event(e) => events.push(e),
                Message::Flush(done) => waiting.push(done),
            }
            if events.len() < BATCH {
                next = rx.try_recv().ok();
            }
        }
        if !events.is_empty() {
            if let Err(e) = accounts.record(&events) {
                tracing::error!(error = %e, lost = events.len(), "writing the audit log failed");
            }
        }
        for done in waiting {
            let _ = done.send(());
        }
    }
}
