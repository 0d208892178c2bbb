//! Live updates: one task per node reads a version of the shared activity (newest message,
//! newest change to a message — status, edit, hide, removal —, newest outbox change, newest
//! audited change) and fans it out to every browser. It reads when something changed: in this
//! process (an in-memory signal) or on another node (PostgreSQL NOTIFY at commit), with a slow
//! poll as the fallback. Because it reads the shared database, every node sees every change.

use crate::{App, AppError};
use std::time::Duration;
use tokio::sync::watch;

/// How often the activity version is read when nothing says it changed: a fallback, for a
/// change whose signal was lost (a PostgreSQL listener reconnecting).
const FALLBACK: Duration = Duration::from_secs(5);
/// The shortest time between two reads, so that a burst of changes costs a read every 20 ms
/// at most.
const COALESCE: Duration = Duration::from_millis(20);

impl App {
    /// The current activity version:
    /// `<newest message id>:<newest message change>:<newest outbox change>:<changes>`.
    pub async fn activity_version(&self) -> Result<String, AppError> {
        Ok(self.store().activity_version().await?)
    }

    /// A receiver of the activity version, which changes whenever something happens.
    pub fn live(&self) -> watch::Receiver<String> {
        self.live_sender().subscribe()
    }

    /// Keeps the activity version current until `stop` turns true. The supervisor runs it.
    /// It reads the version when this process changed something ([`App::activity_changed`]),
    /// when another node committed a change (PostgreSQL `LISTEN buzon_activity`, which also
    /// wakes this node's workers), and every few seconds as a fallback.
    pub async fn watch_activity(self, mut stop: watch::Receiver<bool>) {
        let mut listener = match self.store().activity_listener().await {
            Ok(listener) => listener,
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen to other nodes' changes; polling");
                None
            }
        };
        while !*stop.borrow() {
            let read_at = tokio::time::Instant::now();
            if let Ok(version) = self.activity_version().await {
                self.live_sender().send_if_modified(|current| {
                    if *current != version {
                        *current = version;
                        true
                    } else {
                        false
                    }
                });
            }
            let from_database = async {
                match listener.as_mut() {
                    Some(listener) => listener.next().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = stop.changed() => {}
                () = self.live_wake().notified() => {}
                heard = from_database => match heard {
                    // Another node (or this one) committed something: its inbound events and
                    // outbox rows may be this node's work too.
                    Ok(()) => self.inner_wake_workers_only(),
                    Err(err) => {
                        tracing::warn!(error = %err, "listening to other nodes' changes failed; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                },
                () = tokio::time::sleep(FALLBACK) => {}
            }
            tokio::time::sleep_until(read_at + COALESCE).await;
        }
    }
}
