//! What the platforms send: recorded fixtures and their signatures.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::path::PathBuf;

/// The bytes of a recorded payload under `tests/fixtures/` (e.g. `facebook/feed_post_add.json`).
pub fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|err| panic!("fixture {}: {err}", path.display()))
}

fn hmac(key: &str, body: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("any key length");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

/// Meta's `X-Hub-Signature-256` value for `body`.
pub fn meta_signature(secret: &str, body: &[u8]) -> String {
    format!("sha256={}", hex::encode(hmac(secret, body)))
}

/// X's `x-twitter-webhooks-signature` value for `body`.
pub fn x_signature(secret: &str, body: &[u8]) -> String {
    format!(
        "sha256={}",
        base64::engine::general_purpose::STANDARD.encode(hmac(secret, body))
    )
}
