//! Response-time reports, the metrics API and the public response-time page and badge.

use crate::AppState;
use axum::Router;

/// Texts of the report pages: (key, English, Spanish).
pub const TEXTS: &[(&str, &str, &str)] = &[];

/// Templates of the report pages: (name, source).
pub const TEMPLATES: &[(&str, &str)] = &[];

/// The report, metrics and public routes, merged into the main router.
pub fn routes() -> Router<AppState> {
    Router::new()
}
