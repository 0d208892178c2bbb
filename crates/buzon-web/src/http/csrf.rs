//! Forms: a form is read only when its `_csrf` field is the signed-in session's token, so no
//! handler can forget the check.

use super::{constant_time_eq, Caller, WebError};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// The largest form accepted.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// A form with no field but its CSRF token (a button).
#[derive(Debug, serde::Deserialize)]
pub struct NoFields {}

/// A form of the signed-in session, its CSRF token checked (403 when missing or wrong).
#[derive(Debug)]
pub struct CsrfForm<T>(pub T);

#[derive(Deserialize)]
struct Token {
    #[serde(default, rename = "_csrf")]
    csrf: String,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = WebError;

    async fn from_request(request: Request, state: &AppState) -> Result<CsrfForm<T>, WebError> {
        let (mut parts, body) = request.into_parts();
        let caller = Caller::from_request_parts(&mut parts, state).await?;
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|_| WebError::bad_request("the form could not be read"))?;
        if bytes.len() > MAX_FORM_BYTES {
            return Err(WebError::bad_request("the form is too large"));
        }
        let given: Token = serde_urlencoded::from_bytes(&bytes)
            .map_err(|_| WebError::bad_request("the form could not be read"))?;
        let expected = caller.csrf();
        if expected.is_empty() || !constant_time_eq(given.csrf.as_bytes(), expected.as_bytes()) {
            return Err(WebError::csrf());
        }
        let form = serde_urlencoded::from_bytes(&bytes)
            .map_err(|err| WebError::bad_request(format!("the form is not valid: {err}")))?;
        Ok(CsrfForm(form))
    }
}
