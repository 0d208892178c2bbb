//! Live updates: one task per node reads a version of the shared activity (newest message,
//! newest outbox change, newest audited change) and fans it out to every browser. Because it
//! reads the shared database, what happens on another node shows up too.

use crate::{App, AppError};
use std::time::Duration;
use tokio::sync::watch;

/// How often the activity version is read.
const EVERY: Duration = Duration::from_millis(700);

impl App {
    /// The current activity version: `<newest message id>:<newest outbox change>:<changes>`.
    pub async fn activity_version(&self) -> Result<String, AppError> {
        Ok(self.store().activity_version().await?)
    }

    /// A receiver of the activity version, which changes whenever something happens.
    pub fn live(&self) -> watch::Receiver<String> {
        self.live_sender().subscribe()
    }

    /// Keeps the activity version current until `stop` turns true. The supervisor runs it.
    pub async fn watch_activity(self, mut stop: watch::Receiver<bool>) {
        while !*stop.borrow() {
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
            tokio::select! {
                _ = stop.changed() => {}
                () = tokio::time::sleep(EVERY) => {}
            }
        }
    }
}
