//! The `buzon` binary: the command line, configuration, tracing, wiring of the store, the
//! application layer, the connectors and the web server, the supervisor of background work
//! and the workers, and a graceful shutdown.
//!
//! This is the only crate that reads configuration files and environment variables, installs
//! the tracing subscriber, or names every concrete connector.

#![forbid(unsafe_code)]

pub mod alerts;
mod cli;
pub mod config;
mod demo;
mod demo_past;
pub mod events_out;
mod serve;
mod supervisor;
mod telemetry;
pub mod workers;

pub use cli::main_entry;
pub use serve::run;
