//! The pages of the inbox: signing in and out and the language switch ([`login`]), the queue
//! ([`inbox`]) and a conversation with its actions ([`conversation`]).

pub mod canned;
pub mod conversation;
pub mod inbox;
pub mod incidents;
pub mod login;

use crate::http::Caller;
use crate::view::{APP_CSS, APP_JS};
use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

/// `GET /`: the inbox when signed in, else the sign-in page.
pub(crate) async fn home(caller: Option<Caller>) -> Redirect {
    match caller {
        Some(_) => Redirect::to("/inbox"),
        None => Redirect::to("/login"),
    }
}

/// `GET /static/app.css` and `/static/app.js`.
pub(crate) async fn static_file(Path(name): Path<String>) -> Response {
    let (body, kind) = match name.as_str() {
        "app.css" => (APP_CSS, "text/css; charset=utf-8"),
        "app.js" => (APP_JS, "text/javascript; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}
