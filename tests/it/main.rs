//! End-to-end tests: the real `buzon` binary, over HTTP and its command line.

mod browser;
mod foundation;
mod pages;
mod webhooks;
