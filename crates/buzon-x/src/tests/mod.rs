//! Tests against the recorded X payloads in `tests/fixtures/x/` and a fake X server.

mod corpus;
mod errors;
mod fake_x;
mod fixtures;
mod mutations;
mod parts;

use crate::{XConnector, XSettings};
use buzon_connector::HttpClient;
use buzon_core::{
    Channel, ChannelCredentials, ChannelHealth, ChannelId, ChannelKind, ExternalId, Timestamp,
};
use std::time::Duration;

/// The consumer secret the fixtures are signed with.
const CONSUMER_SECRET: &str = "test-consumer-secret";

/// The exact bytes of a fixture.
fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../tests/fixtures/x/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|err| panic!("fixture {path} is readable: {err}"))
}

fn id(raw: &str) -> ExternalId {
    ExternalId::parse(raw).expect("test ids are valid")
}

fn connector(api_base: &str) -> XConnector {
    XConnector::new(
        XSettings {
            api_base: api_base.to_owned(),
            consumer_secret: Some(CONSUMER_SECRET.to_owned()),
            request_timeout: Duration::from_secs(5),
            oauth: None,
        },
        HttpClient::new(Duration::from_secs(5)),
    )
}

fn channel(user_id: &str) -> Channel {
    Channel {
        id: ChannelId(7),
        kind: ChannelKind::X,
        name: "test account".to_owned(),
        platform_id: id(user_id),
        health: ChannelHealth::Healthy,
        health_reason: None,
        cursor: None,
        last_success_at: None,
        created_at: Timestamp::from_millis(0),
        credentials_version: 1,
        auto_hide_flagged: false,
        published: false,
    }
}

fn credentials() -> ChannelCredentials {
    ChannelCredentials {
        access_token: "test-access-token".to_owned(),
        refresh_token: None,
        expires_at: None,
    }
}
