//! The end-to-end harness: a database of its own per test (SQLite file or a fresh PostgreSQL
//! database) and the real `buzon` binary started on it, driven over HTTP and its command line.

#![forbid(unsafe_code)]

pub mod app;
pub mod browser;
pub mod corpus;
pub mod db;
pub mod load;
pub mod platform;
pub mod proxy;
pub mod sandbox;
pub mod web;

pub use app::TestApp;
pub use db::{Engine, TestDatabase};

/// Whether the run is under CI, where a missing service fails instead of skipping.
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| value == "true" || value == "1")
}
