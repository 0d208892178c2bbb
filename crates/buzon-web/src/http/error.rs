//! One error type for every handler. A handler's error carries a status, a stable code and a
//! message; one middleware, which sees the request, turns it into JSON for the API
//! (`{"error":{"code","message",…}}`) and into a page in the reader's language for the pages
//! (or a redirect to /login for a page that needs a sign-in).

use crate::i18n::{catalog, text, Lang};
use crate::view::Page;
use crate::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Json;
use buzon_app::AppError;
use serde::Serialize;
use serde_json::{json, Value};
use std::sync::Arc;

/// Why a request failed: a status, a stable code, a message in English and, for the API,
/// extra fields.
#[derive(Debug)]
pub struct WebError {
    status: StatusCode,
    code: &'static str,
    message: String,
    detail: Option<Value>,
}

/// What the error middleware reads off a failed response.
#[derive(Debug, Clone)]
struct ErrorReport {
    code: &'static str,
    message: String,
    detail: Option<Value>,
}

impl WebError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> WebError {
        WebError {
            status,
            code,
            message: message.into(),
            detail: None,
        }
    }

    /// Not signed in: pages go to /login, the API answers 401.
    pub fn sign_in() -> WebError {
        WebError::new(
            StatusCode::UNAUTHORIZED,
            "sign_in",
            "authentication required",
        )
    }

    /// No credentials, or bad ones.
    pub fn unauthorized() -> WebError {
        WebError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "authentication required",
        )
    }

    /// A form without the session's CSRF token.
    pub fn csrf() -> WebError {
        WebError::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "refused: the form is missing its security token; reload the page and try again",
        )
    }

    /// No such page or thing.
    pub fn not_found() -> WebError {
        AppError::NotFound.into()
    }

    /// A request that cannot be read; `message` says why.
    pub fn bad_request(message: impl Into<String>) -> WebError {
        WebError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// A bug or a failure of ours: logged, never shown.
    pub fn internal(message: impl Into<String>) -> WebError {
        AppError::Internal(anyhow::anyhow!(message.into())).into()
    }

    /// The status the error answers with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The error's message in `lang`: the catalog's `error-<code>` when it has one, else the
    /// English message.
    pub fn message_in(&self, lang: Lang) -> String {
        translated(lang, self.code, &self.message)
    }
}

impl From<AppError> for WebError {
    fn from(err: AppError) -> WebError {
        let status = match &err {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            // A text whose placeholders cannot be filled, or a search query X could not take, is
            // well-formed but unprocessable.
            AppError::Invalid {
                code: "unknown_placeholder" | "unfilled_placeholder" | "invalid_search",
                ..
            } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Invalid { .. } | AppError::Platform { .. } => StatusCode::BAD_REQUEST,
            AppError::Conflict { .. } | AppError::WindowClosed { .. } => StatusCode::CONFLICT,
            AppError::Throttled => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let message = match &err {
            AppError::Internal(inner) => {
                tracing::error!(error = ?inner, "request failed");
                "something went wrong on our side".to_owned()
            }
            other => other.to_string(),
        };
        let detail = match &err {
            AppError::WindowClosed { templates } => Some(json!({
                "templates": templates
                    .iter()
                    .map(|t| json!({"id": t.id, "name": t.name, "language": t.language, "body": t.body}))
                    .collect::<Vec<_>>()
            })),
            _ => None,
        };
        WebError {
            status,
            code: err.code(),
            message,
            detail,
        }
    }
}

impl From<crate::view::RenderFailure> for WebError {
    fn from(failure: crate::view::RenderFailure) -> WebError {
        WebError::internal(failure.0)
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        response.extensions_mut().insert(Arc::new(ErrorReport {
            code: self.code,
            message: self.message,
            detail: self.detail,
        }));
        response
    }
}

/// The fallback of unknown routes.
pub async fn not_found() -> WebError {
    WebError::not_found()
}

/// Turns every failed response of a handler into JSON (API, webhooks, health, metrics, live
/// events) or a page in the reader's language (everything else).
pub async fn render_errors(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let lang = Lang::of(request.headers());
    let response = next.run(request).await;
    let Some(report) = response.extensions().get::<Arc<ErrorReport>>().cloned() else {
        return json_rejection(&path, response).await;
    };
    let status = response.status();
    if answers_json(&path) {
        let code = if report.code == "sign_in" {
            "unauthorized"
        } else {
            report.code
        };
        let mut error = json!({ "code": code, "message": report.message });
        if let Some(Value::Object(extra)) = &report.detail {
            for (key, value) in extra {
                error[key] = value.clone();
            }
        }
        let mut response = (status, Json(json!({ "error": error }))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        return response;
    }
    if report.code == "sign_in" {
        return Redirect::to("/login").into_response();
    }
    let view = Page::anonymous(
        lang,
        text(lang, "error-title"),
        "error",
        String::new(),
        ErrorView {
            message: translated(lang, report.code, &report.message),
        },
    );
    match state.templates().render("error", &view) {
        Ok(html) => (status, Html(html)).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "rendering the error page");
            (status, Html(plain_page(&report.message))).into_response()
        }
    }
}

/// A failed answer of a JSON route that no handler shaped: the framework's own refusal of a
/// body, query or path it cannot read (a missing `Content-Type`, a wrong type, an unknown
/// field), an unknown method, a body over the limit. Its text becomes the `message` of the
/// API's error shape, so every failure of the API reads the same way.
async fn json_rejection(path: &str, response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if !answers_json(path) || !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 16 * 1024)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_owned())
        .unwrap_or_default();
    let code = match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "unprocessable",
        _ => "error",
    };
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text
    };
    let mut answer = (
        status,
        Json(json!({"error": {"code": code, "message": message}})),
    )
        .into_response();
    // Keep what the refusal said beyond its body (`Allow` on a 405, say).
    for (name, value) in parts.headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            answer.headers_mut().insert(name.clone(), value.clone());
        }
    }
    answer
}

#[derive(Serialize)]
struct ErrorView {
    message: String,
}

/// Whether errors of a path are JSON: the API, webhooks, health, metrics, the live events
/// stream and JSON documents.
fn answers_json(path: &str) -> bool {
    path.starts_with("/api/")
        || path.starts_with("/webhooks/")
        || path == "/healthz"
        || path == "/metrics"
        || path == "/events"
        || path.ends_with(".json")
}

/// The catalog's `error-<code>` in `lang`, else `message`.
fn translated(lang: Lang, code: &str, message: &str) -> String {
    let key = format!("error-{code}");
    if catalog().has(lang, &key) || catalog().has(Lang::english(), &key) {
        text(lang, &key)
    } else {
        message.to_owned()
    }
}

/// A page that cannot fail to render; `message` is escaped.
fn plain_page(message: &str) -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>buzon</title><link rel=\"stylesheet\" href=\"/static/app.css\"></head>\
         <body><main><p>{}</p><p><a href=\"/inbox\">buzon</a></p></main></body></html>",
        handlebars::html_escape(message)
    )
}
