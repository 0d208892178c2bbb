//! buzon-core: the domain of a social inbox — channels, contacts, conversations, messages,
//! the inbound event log, the outbox, users, tokens and the audit log — and the pure rules
//! over them.
//!
//! This crate does no I/O: it must not depend on tokio, sqlx, reqwest or axum, so that it
//! compiles and tests in seconds and every rule in it can be checked without a database.

#![forbid(unsafe_code)]

pub mod engine;
mod error;
mod ids;
mod language;
pub mod listening;
pub mod metrics;
mod model;
mod net;
pub mod openapi;
mod outbox;
mod placeholders;
mod platform_error;
mod query;
mod text;
mod time_util;

pub use error::DomainError;
pub use ids::*;
pub use language::{detect_language, is_known_language, known_languages};
pub use listening::{FoundBy, Promote, Recommendation};
pub use model::*;
pub use net::{is_private_address, url_host, url_is_private};
pub use outbox::*;
pub use placeholders::{
    fill_placeholders, placeholders_in, unknown_placeholder, REPLY_PLACEHOLDERS,
};
pub use platform_error::PlatformError;
pub use query::*;
pub use text::{bound_text, sanitize_text, MAX_MESSAGE_BYTES, MAX_NAME_BYTES};
pub use time_util::Timestamp;
