//! The WhatsApp connector against recorded payloads and a fake Graph API.

mod sending;
mod signatures;
mod webhooks;

use buzon_connector::HttpClient;
use buzon_whatsapp::{WhatsappConnector, WhatsappSettings};
use std::time::Duration;

/// The app secret the fixtures' signatures were made with.
pub const APP_SECRET: &str = "test-app-secret";

/// The exact bytes of a fixture in `tests/fixtures/whatsapp/`.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../tests/fixtures/whatsapp/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|err| panic!("fixture {path} is readable: {err}"))
}

/// A connector with the fixtures' app secret, talking to `api_base`.
pub fn connector(api_base: &str) -> WhatsappConnector {
    connector_with_secret(api_base, Some(APP_SECRET))
}

pub fn connector_with_secret(api_base: &str, app_secret: Option<&str>) -> WhatsappConnector {
    let settings = WhatsappSettings {
        api_base: api_base.to_owned(),
        app_secret: app_secret.map(str::to_owned),
        request_timeout: Duration::from_secs(5),
    };
    WhatsappConnector::new(settings, HttpClient::new(Duration::from_secs(10)))
}
