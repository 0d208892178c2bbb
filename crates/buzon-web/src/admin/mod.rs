//! Admin pages: channels and their credentials, users, API tokens, the audit log, the
//! inbound event log. Admins only.

use crate::AppState;
use axum::Router;

/// Texts of the admin pages: (key, English, Spanish).
pub const TEXTS: &[(&str, &str, &str)] = &[];

/// Templates of the admin pages: (name, source).
pub const TEMPLATES: &[(&str, &str)] = &[];

/// The admin routes, merged into the main router.
pub fn routes() -> Router<AppState> {
    Router::new()
}
