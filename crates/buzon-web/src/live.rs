//! `GET /events`: the shared activity version over server-sent events, each time it changes
//! (signed-in users only). The supervisor's watcher keeps the version current.

use crate::http::Viewer;
use crate::AppState;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use std::convert::Infallible;

/// `GET /events`: the current version at once (so a page can tell it missed something between
/// rendering and connecting), then each new one. The stream ends when buzon shuts down, so it
/// never holds a shutdown up.
pub(crate) async fn events(State(state): State<AppState>, Viewer(_caller): Viewer) -> Response {
    let receiver = state.app().live();
    let stopping = state.stopping();
    let stream = futures_util::stream::unfold(
        (receiver, stopping, true),
        |(mut receiver, mut stopping, first)| async move {
            if *stopping.borrow() {
                return None;
            }
            if !first {
                tokio::select! {
                    changed = receiver.changed() => changed.ok()?,
                    _ = stopping.changed() => return None,
                }
            }
            let version = receiver.borrow_and_update().clone();
            Some((
                Ok::<Event, Infallible>(Event::default().event("activity").data(version)),
                (receiver, stopping, false),
            ))
        },
    );
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}
