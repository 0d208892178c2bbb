//! The one owner of buzon's background work. Every task (normalizer, dispatcher, pollers,
//! report refresh, live updates) is spawned here, watches one stop signal, and is waited for
//! at shutdown; a task that does not stop in time is aborted and named in the log, so no
//! task outlives `buzon serve`.

use std::future::Future;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Background tasks and their stop signal.
pub struct Supervisor {
    stop: watch::Sender<bool>,
    tasks: Vec<(&'static str, JoinHandle<()>)>,
}

/// How a shutdown went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stopped {
    /// Tasks that returned after the stop signal.
    pub finished: usize,
    /// Tasks that had to be aborted, by name.
    pub aborted: Vec<&'static str>,
}

impl Default for Supervisor {
    fn default() -> Supervisor {
        Supervisor::new()
    }
}

impl Supervisor {
    /// No tasks yet; the stop signal is false.
    pub fn new() -> Supervisor {
        Supervisor {
            stop: watch::channel(false).0,
            tasks: Vec::new(),
        }
    }

    /// The stop signal every task watches: it turns true once, at shutdown.
    pub fn stop_signal(&self) -> watch::Receiver<bool> {
        self.stop.subscribe()
    }

    /// Runs `task` until it returns; it must return soon after the stop signal turns true.
    pub fn spawn(&mut self, name: &'static str, task: impl Future<Output = ()> + Send + 'static) {
        tracing::debug!(task = name, "background task started");
        self.tasks.push((name, tokio::spawn(task)));
    }

    /// Turns the stop signal on (idempotent); the tasks begin to finish.
    pub fn signal_stop(&self) {
        self.stop.send_replace(true);
    }

    /// Signals stop and waits for every task, for at most `limit` in all; tasks still running
    /// then are aborted.
    pub async fn shutdown(self, limit: Duration) -> Stopped {
        self.signal_stop();
        let deadline = tokio::time::Instant::now() + limit;
        let mut stopped = Stopped {
            finished: 0,
            aborted: Vec::new(),
        };
        for (name, mut task) in self.tasks {
            match tokio::time::timeout_at(deadline, &mut task).await {
                Ok(Ok(())) => stopped.finished += 1,
                Ok(Err(err)) => {
                    tracing::error!(task = name, error = %err, "background task failed");
                    stopped.finished += 1;
                }
                Err(_) => {
                    task.abort();
                    tracing::warn!(task = name, "background task did not stop in time; aborted");
                    stopped.aborted.push(name);
                }
            }
        }
        stopped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tasks_that_watch_the_signal_finish_and_the_others_are_aborted() {
        let mut supervisor = Supervisor::new();
        let mut stop = supervisor.stop_signal();
        supervisor.spawn("polite", async move {
            let _ = stop.changed().await;
        });
        supervisor.spawn("stubborn", std::future::pending());
        let started = std::time::Instant::now();
        let stopped = supervisor.shutdown(Duration::from_millis(300)).await;
        assert_eq!(stopped.finished, 1);
        assert_eq!(stopped.aborted, vec!["stubborn"]);
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
