#![allow(dead_code)]
//! What the targets share: the three connectors, built once, as `buzon serve` builds them.

use buzon_connector::HttpClient;
use buzon_facebook::{FacebookConnector, FacebookSettings};
use buzon_whatsapp::{WhatsappConnector, WhatsappSettings};
use buzon_x::{XConnector, XSettings};
use std::sync::OnceLock;
use std::time::Duration;

/// The app secret and consumer secret the targets sign with.
pub const SECRET: &str = "fuzz-app-secret";

pub struct Connectors {
    pub facebook: FacebookConnector,
    pub whatsapp: WhatsappConnector,
    pub x: XConnector,
}

pub fn connectors() -> &'static Connectors {
    static CONNECTORS: OnceLock<Connectors> = OnceLock::new();
    CONNECTORS.get_or_init(|| {
        let client = HttpClient::new(Duration::from_secs(1));
        Connectors {
            facebook: FacebookConnector::new(
                FacebookSettings {
                    app_secret: Some(SECRET.to_owned()),
                    ..FacebookSettings::default()
                },
                client.clone(),
            ),
            whatsapp: WhatsappConnector::new(
                WhatsappSettings {
                    app_secret: Some(SECRET.to_owned()),
                    ..WhatsappSettings::default()
                },
                client.clone(),
            ),
            x: XConnector::new(
                XSettings {
                    consumer_secret: Some(SECRET.to_owned()),
                    ..XSettings::default()
                },
                client,
            ),
        }
    })
}

/// A parser may refuse a body but never panics, and reads the same body the same way twice.
pub fn check_parser(connector: &dyn buzon_connector::Connector, origin: buzon_connector::Origin<'_>, body: &[u8]) {
    let first = format!("{:?}", connector.normalize(origin, body));
    let second = format!("{:?}", connector.normalize(origin, body));
    assert_eq!(first, second);
}
