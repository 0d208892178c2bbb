//! Group commit for webhook acceptance: each request hands its delivery to one writer, which
//! stores whatever has queued up in one statement and one commit (one fsync), then answers
//! every request of the batch. Under load, batches grow while a commit is on disk, so one
//! fsync serves many requests; a webhook is acknowledged only once its body is durable.

use crate::{App, AppError};
use buzon_core::{EventId, NewInboundEvent};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use tokio::sync::{mpsc, oneshot, watch};

/// The most deliveries one commit takes.
const MAX_BATCH: usize = 1000;
/// How many deliveries may wait for the writer before requests wait to queue.
const QUEUE: usize = 16 * 1024;

type Answer = oneshot::Sender<Result<Option<EventId>, AppError>>;

/// The queue between webhook requests and the writer.
pub(crate) struct Intake {
    sender: mpsc::Sender<(NewInboundEvent, Answer)>,
    receiver: Mutex<Option<mpsc::Receiver<(NewInboundEvent, Answer)>>>,
    running: AtomicBool,
}

impl Intake {
    pub(crate) fn new() -> Intake {
        let (sender, receiver) = mpsc::channel(QUEUE);
        Intake {
            sender,
            receiver: Mutex::new(Some(receiver)),
            running: AtomicBool::new(false),
        }
    }
}

impl App {
    /// Stores a delivery durably: through the writer's group commit when it runs, else by
    /// itself. Returns its id, or `None` for a delivery stored before.
    pub(crate) async fn store_delivery(
        &self,
        event: NewInboundEvent,
    ) -> Result<Option<EventId>, AppError> {
        let intake = self.intake();
        if intake.running.load(Ordering::Acquire) {
            let (answer, answered) = oneshot::channel();
            if let Err(mpsc::error::SendError((event, _))) =
                intake.sender.send((event, answer)).await
            {
                return Ok(self.store().insert_inbound_event(&event).await?);
            }
            return answered.await.unwrap_or_else(|_| {
                Err(AppError::Unavailable(
                    "the webhook writer stopped before storing the delivery".into(),
                ))
            });
        }
        Ok(self.store().insert_inbound_event(&event).await?)
    }

    /// The writer of the group commit, until `stop` turns true; what is queued then is still
    /// stored and answered, and later requests store their deliveries themselves. The
    /// supervisor runs it, once.
    pub async fn run_intake(self, mut stop: watch::Receiver<bool>) {
        let Some(mut receiver) = self
            .intake()
            .receiver
            .lock()
            .expect("the intake lock is not poisoned")
            .take()
        else {
            tracing::warn!("the webhook writer runs already");
            return;
        };
        self.intake().running.store(true, Ordering::Release);
        loop {
            let first = tokio::select! {
                biased;
                next = receiver.recv() => match next {
                    Some(next) => next,
                    None => break,
                },
                _ = stop.changed() => break,
            };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match receiver.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
            self.commit_batch(batch).await;
        }
        // Stopping: later requests store by themselves; what is queued is still stored.
        self.intake().running.store(false, Ordering::Release);
        receiver.close();
        let mut rest = Vec::new();
        while let Ok(next) = receiver.try_recv() {
            rest.push(next);
        }
        while !rest.is_empty() {
            let batch: Vec<_> = rest.drain(..rest.len().min(MAX_BATCH)).collect();
            self.commit_batch(batch).await;
        }
    }

    async fn commit_batch(&self, batch: Vec<(NewInboundEvent, Answer)>) {
        let (events, answers): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
        match self.store().insert_inbound_events(&events).await {
            Ok(ids) => {
                if ids.iter().any(Option::is_some) {
                    self.wake_workers();
                }
                for (answer, id) in answers.into_iter().zip(ids) {
                    let _ = answer.send(Ok(id));
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, deliveries = events.len(), "a batch of deliveries could not be stored");
                let unavailable = err.is_unavailable();
                for answer in answers {
                    let _ = answer.send(Err(if unavailable {
                        AppError::Unavailable("the database is unavailable".into())
                    } else {
                        AppError::Internal(anyhow::anyhow!("storing deliveries failed"))
                    }));
                }
            }
        }
    }
}
