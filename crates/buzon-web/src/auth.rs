//! Who is asking: API tokens (`Authorization: Bearer`) for the JSON API.

use crate::{AppError, AppState};
use axum::http::HeaderMap;
use buzon_core::Role;

/// An authenticated caller.
#[derive(Debug, Clone)]
pub(crate) struct Principal {
    /// What the caller may do.
    pub role: Role,
    /// Who, for the audit log: `token:<id>`.
    pub actor: String,
    /// The user the caller acts for, if any.
    pub user_id: Option<buzon_core::UserId>,
}

impl Principal {
    /// Authenticates the bearer token of a request. No or a bad token is 401.
    pub async fn from_bearer(state: &AppState, headers: &HeaderMap) -> Result<Principal, AppError> {
        let token = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .ok_or(AppError::Unauthorized)?;
        let token = state
            .store()
            .authenticate_token(token)
            .await?
            .ok_or(AppError::Unauthorized)?;
        Ok(Principal {
            role: token.role,
            actor: format!("token:{}", token.id),
            user_id: token.user_id,
        })
    }

    /// Refuses callers that are not admins.
    pub fn require_admin(&self) -> Result<(), AppError> {
        if self.role.can_admin() {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// Refuses callers that may not change conversations.
    pub fn require_agent(&self) -> Result<(), AppError> {
        if self.role.can_act() {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }
}
