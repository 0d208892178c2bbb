//! Live updates: one task per node reads a version of the shared activity (newest message
//! id and newest outbox change) once a second and fans it out to every browser over
//! server-sent events. Because it reads the shared database, messages that arrive on another
//! node show up too.

use crate::pages::viewer;
use crate::{AppError, AppState};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::watch;

/// The current activity version: `<newest message id>:<newest outbox change>:<status changes>`.
pub(crate) async fn activity_version(state: &AppState) -> Result<String, AppError> {
    Ok(state.store().activity_version().await?)
}

/// Starts the node's watcher; returns the receiver every SSE stream subscribes to.
pub(crate) fn spawn_watcher(state: AppState) -> watch::Receiver<String> {
    let (sender, receiver) = watch::channel(String::new());
    tokio::spawn(async move {
        loop {
            if let Ok(version) = activity_version(&state).await {
                sender.send_if_modified(|current| {
                    if *current != version {
                        *current = version;
                        true
                    } else {
                        false
                    }
                });
            }
            if sender.is_closed() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(700)).await;
        }
    });
    receiver
}

/// `GET /events`: the activity version, each time it changes (signed-in users only).
pub(crate) async fn events(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if viewer(&state, &headers).await.is_err() {
        return AppError::Unauthorized.into_response();
    }
    let receiver = state.live();
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        if receiver.changed().await.is_err() {
            return None;
        }
        let version = receiver.borrow_and_update().clone();
        Some((
            Ok::<Event, Infallible>(Event::default().event("activity").data(version)),
            receiver,
        ))
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}
