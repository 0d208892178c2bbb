//! Who is asking, as extractors, so a handler cannot forget to ask: the API authenticates
//! with `Authorization: Bearer <token>`, everything else with the session cookie. Signed out,
//! a page redirects to /login and the API answers 401; a role that may not gets 403.

use super::{cookie, WebError};
use crate::i18n::Lang;
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use buzon_app::{Actor, Session};
use buzon_core::Role;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "buzon_session";

/// Whoever is signed in (any role), with the language they read in.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who, for the application layer.
    pub actor: Actor,
    /// The page session, when signed in with a cookie.
    pub session: Option<Session>,
    /// The language of the request.
    pub lang: Lang,
}

impl Caller {
    /// The session's CSRF token (empty for API callers, who have no forms).
    pub fn csrf(&self) -> &str {
        self.session
            .as_ref()
            .map(|session| session.csrf_token.as_str())
            .unwrap_or_default()
    }
}

impl crate::view::Reader for Caller {
    fn lang(&self) -> Lang {
        self.lang
    }

    fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }
}

/// Any signed-in caller: viewers, agents and admins.
#[derive(Debug, Clone)]
pub struct Viewer(pub Caller);

/// A signed-in agent or admin; viewers get 403.
#[derive(Debug, Clone)]
pub struct Agent(pub Caller);

/// A signed-in admin; agents and viewers get 403.
#[derive(Debug, Clone)]
pub struct Admin(pub Caller);

impl FromRequestParts<AppState> for Caller {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, WebError> {
        if let Some(known) = parts.extensions.get::<Caller>() {
            return Ok(known.clone());
        }
        let lang = Lang::of(&parts.headers);
        let caller = if parts.uri.path().starts_with("/api/") {
            let secret = bearer(&parts.headers).ok_or(WebError::unauthorized())?;
            let actor = state
                .app()
                .authenticate_token(secret)
                .await?
                .ok_or(WebError::unauthorized())?;
            Caller {
                actor,
                session: None,
                lang,
            }
        } else {
            let secret = cookie(&parts.headers, SESSION_COOKIE).ok_or(WebError::sign_in())?;
            let session = state
                .app()
                .session(&secret)
                .await?
                .ok_or(WebError::sign_in())?;
            Caller {
                actor: session.actor(),
                session: Some(session),
                lang,
            }
        };
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}

/// The caller of a request whose role is at least `role`.
async fn with_role(parts: &mut Parts, state: &AppState, role: Role) -> Result<Caller, WebError> {
    let caller = Caller::from_request_parts(parts, state).await?;
    caller.actor.require(role)?;
    Ok(caller)
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Viewer, WebError> {
        with_role(parts, state, Role::Viewer).await.map(Viewer)
    }
}

impl FromRequestParts<AppState> for Agent {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Agent, WebError> {
        with_role(parts, state, Role::Agent).await.map(Agent)
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Admin, WebError> {
        with_role(parts, state, Role::Admin).await.map(Admin)
    }
}

/// The bearer token of a request, if it carries one.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|token| !token.is_empty())
}

impl axum::extract::OptionalFromRequestParts<AppState> for Caller {
    type Rejection = WebError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Caller>, WebError> {
        match <Caller as FromRequestParts<AppState>>::from_request_parts(parts, state).await {
            Ok(caller) => Ok(Some(caller)),
            Err(err) if err.status() == axum::http::StatusCode::UNAUTHORIZED => Ok(None),
            Err(err) => Err(err),
        }
    }
}
