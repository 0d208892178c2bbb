use super::{connector_at, fixture, offline_connector, APP_SECRET};
use buzon_connector::{Connector, ConnectorError, HeaderMap};
use reqwest::header::HeaderValue;

/// Every webhook fixture with the signature its README lists.
const SIGNED_FIXTURES: [(&str, &str); 8] = [
    (
        "feed_comment_add.json",
        "sha256=239a264e7734d0cb3a8e36fdc9519d01f96c964c574a0c21468e67f95ac06be2",
    ),
    (
        "feed_post_add.json",
        "sha256=1107160207730ecfe23f8e6d80576a95fba525d0f7ccb3b68b159dd7dddb4cad",
    ),
    (
        "messenger_text_message.json",
        "sha256=44f78ff514c299de1351fd0206ba2da5951c2f691ecc1b6af70d2ae924a84da2",
    ),
    (
        "feed_comment_reply_batched_two_pages.json",
        "sha256=fb70c945169a70b9645641b634d4155a8c7a2faf1c7b4bc343898bda036137f3",
    ),
    (
        "feed_comment_edited_legacy_sender.json",
        "sha256=31100e95b2bbb1aebfb623231eed651e6ae30452bf0fc70ecbb65e04c16ff0ab",
    ),
    (
        "feed_comment_remove.json",
        "sha256=ead41d234c86f8800b51a8dc9ab2a00ce4def5ecc339a61d5828ec6695969e02",
    ),
    (
        "feed_comment_hide.json",
        "sha256=a16be6e839418e862578bfb8fb407d9a151a6e140046dd474efba73e1147a1b7",
    ),
    (
        "messenger_reply_to_message.json",
        "sha256=2f11e549ad0509dcd000e85912b1fd9c320ce8f43884db9d7528a1b471e34bfd",
    ),
];

fn signed(value: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        "X-Hub-Signature-256",
        HeaderValue::from_str(value).expect("a valid header"),
    );
    headers
}

#[test]
fn every_webhook_fixture_passes_with_its_published_signature() {
    let connector = offline_connector();
    for (name, signature) in SIGNED_FIXTURES {
        let body = fixture(name);
        assert_eq!(
            connector.verify_webhook(&signed(signature), &body),
            Ok(()),
            "{name}"
        );
    }
}

#[test]
fn a_changed_byte_anywhere_fails_the_signature() {
    let connector = offline_connector();
    for (name, signature) in SIGNED_FIXTURES {
        let body = fixture(name);
        for position in [0, body.len() / 2, body.len() - 1] {
            let mut tampered = body.clone();
            tampered[position] ^= 0x01;
            assert_eq!(
                connector.verify_webhook(&signed(signature), &tampered),
                Err(ConnectorError::BadSignature),
                "{name} with byte {position} changed"
            );
        }
    }
}

#[test]
fn the_trailing_newline_of_the_hide_fixture_is_signed() {
    let connector = offline_connector();
    let body = fixture("feed_comment_hide.json");
    assert_eq!(body.last(), Some(&b'\n'));
    let (_, signature) = SIGNED_FIXTURES[6];
    assert_eq!(
        connector.verify_webhook(&signed(signature), &body[..body.len() - 1]),
        Err(ConnectorError::BadSignature)
    );
}

#[test]
fn another_app_secret_fails_every_signature() {
    let connector = connector_at("http://127.0.0.1:9/v21.0", Some("other-app-secret"));
    for (name, signature) in SIGNED_FIXTURES {
        assert_eq!(
            connector.verify_webhook(&signed(signature), &fixture(name)),
            Err(ConnectorError::BadSignature),
            "{name}"
        );
    }
}

#[test]
fn without_an_app_secret_every_webhook_is_refused() {
    let (name, signature) = SIGNED_FIXTURES[0];
    for secret in [None, Some("")] {
        let connector = connector_at("http://127.0.0.1:9/v21.0", secret);
        assert_eq!(
            connector.verify_webhook(&signed(signature), &fixture(name)),
            Err(ConnectorError::BadSignature)
        );
    }
}

#[test]
fn missing_or_malformed_signature_headers_are_refused() {
    let connector = offline_connector();
    let (name, signature) = SIGNED_FIXTURES[0];
    let body = fixture(name);
    let digits = signature.trim_start_matches("sha256=");
    assert_eq!(
        connector.verify_webhook(&HeaderMap::new(), &body),
        Err(ConnectorError::BadSignature)
    );
    for header in [
        digits.to_owned(),
        format!("sha1={digits}"),
        "sha256=".to_owned(),
        "sha256=not-hex".to_owned(),
        format!("sha256={}", &digits[..62]),
    ] {
        assert_eq!(
            connector.verify_webhook(&signed(&header), &body),
            Err(ConnectorError::BadSignature),
            "{header}"
        );
    }
    // The legacy SHA-1 header alone is not enough.
    let mut legacy = HeaderMap::new();
    legacy.insert("x-hub-signature", HeaderValue::from_static("sha1=0000"));
    assert_eq!(
        connector.verify_webhook(&legacy, &body),
        Err(ConnectorError::BadSignature)
    );
    assert_eq!(APP_SECRET, "test-app-secret");
}
