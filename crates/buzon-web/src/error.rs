use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use buzon_store::StoreError;
use serde_json::json;

/// Every way a request can fail, and the status and JSON body it gets.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No such route or row.
    #[error("not found")]
    NotFound,
    /// No credentials, or bad ones.
    #[error("authentication required")]
    Unauthorized,
    /// The credentials' role may not do this.
    #[error("your role may not do this")]
    Forbidden,
    /// The request is wrong; the message says how.
    #[error("{0}")]
    BadRequest(String),
    /// The request conflicts with the state (e.g. a closed reply window).
    #[error("{message}")]
    Conflict {
        /// Machine-readable code.
        code: &'static str,
        /// In words.
        message: String,
        /// Extra fields for the client.
        detail: serde_json::Value,
    },
    /// The service cannot take the request now.
    #[error("{0}")]
    Unavailable(String),
    /// Anything else: logged, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> AppError {
        match err {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Domain(domain) => AppError::BadRequest(domain.to_string()),
            StoreError::Conflict => AppError::Conflict {
                code: "conflict",
                message: "already exists".into(),
                detail: serde_json::Value::Null,
            },
            err if err.is_unavailable() => {
                AppError::Unavailable("the database is unavailable".into())
            }
            err => AppError::Internal(anyhow::Error::new(err)),
        }
    }
}

impl From<buzon_core::DomainError> for AppError {
    fn from(err: buzon_core::DomainError) -> AppError {
        AppError::BadRequest(err.to_string())
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            AppError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            AppError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            AppError::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            AppError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            AppError::Conflict { code, .. } => (StatusCode::CONFLICT, *code),
            AppError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            AppError::Internal(err) => {
                tracing::error!(error = ?err, "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        };
        let message = match &self {
            AppError::Internal(_) => "something went wrong on our side".to_owned(),
            other => other.to_string(),
        };
        let mut error = json!({ "code": code, "message": message });
        if let AppError::Conflict {
            detail: serde_json::Value::Object(extra),
            ..
        } = &self
        {
            for (key, value) in extra {
                error[key] = value.clone();
            }
        }
        let mut response = (status, Json(json!({ "error": error }))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

pub(crate) async fn not_found() -> AppError {
    AppError::NotFound
}
