//! End-to-end tests: the real `buzon` binary, over HTTP and its command line.

mod accessibility;
mod admin;
mod alerts;
mod browser;
mod connectors;
mod corpus;
mod corpus_props;
mod durability;
mod events_out;
mod foundation;
mod hardening;
mod incidents;
mod keyboard;
mod listening;
mod metrics_props;
mod nodes;
mod openapi;
mod pages;
mod panes;
mod reports;
mod service;
mod team_api;
mod webhooks;
mod working;
