//! End-to-end tests: the real `buzon` binary, over HTTP and its command line.

mod foundation;
mod webhooks;
