//! Tests against the recorded fixtures in `tests/fixtures/facebook/` and a fake Graph server.

mod corpus;
mod errors;
mod graph_server;
mod outcomes;
mod signatures;
mod webhooks;

use crate::{FacebookConnector, FacebookSettings};
use buzon_connector::HttpClient;
use buzon_core::ExternalId;
use std::path::Path;
use std::time::Duration;

/// The app secret the fixtures are signed with.
const APP_SECRET: &str = "test-app-secret";

/// The exact bytes of a recorded fixture.
fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/facebook")
        .join(name);
    std::fs::read(&path)
        .unwrap_or_else(|err| panic!("fixture {} is readable: {err}", path.display()))
}

fn connector_at(api_base: &str, app_secret: Option<&str>) -> FacebookConnector {
    FacebookConnector::new(
        FacebookSettings {
            api_base: api_base.to_owned(),
            app_secret: app_secret.map(str::to_owned),
            request_timeout: Duration::from_secs(5),
        },
        HttpClient::new(Duration::from_secs(5)),
    )
}

/// A connector that never talks to the network.
fn offline_connector() -> FacebookConnector {
    connector_at("http://127.0.0.1:9/v21.0", Some(APP_SECRET))
}

fn id(raw: &str) -> ExternalId {
    ExternalId::parse(raw).expect("test ids are valid")
}
