//! The webhook signature checks of the three connectors, and X's CRC answer, on arbitrary
//! header values and bodies: a check never panics; the right signature over the exact body
//! passes; the same signature over any other body fails; an arbitrary header passes only if it
//! is the right signature.
#![no_main]

#[path = "common.rs"]
mod common;

use base64::Engine as _;
use buzon_connector::{hmac_sha256, Connector, HeaderMap};
use libfuzzer_sys::fuzz_target;

/// A header map with `name: value`, when `value` may be a header's value at all.
fn headers(name: &'static str, value: &[u8]) -> Option<HeaderMap> {
    let value = http::HeaderValue::from_bytes(value).ok()?;
    let mut map = HeaderMap::new();
    map.insert(name, value);
    Some(map)
}

fuzz_target!(|data: &[u8]| {
    let connectors = common::connectors();
    // The first line is a header value, the rest the body.
    let split = data.iter().position(|byte| *byte == b'\n').unwrap_or(data.len());
    let (claimed, body) = (&data[..split], data.get(split + 1..).unwrap_or_default());
    let mac = hmac_sha256(common::SECRET.as_bytes(), body);
    let meta_right = format!("sha256={}", hex::encode(mac));
    let x_right = format!(
        "sha256={}",
        base64::engine::general_purpose::STANDARD.encode(mac)
    );
    let mut other = body.to_vec();
    other.push(b'x');
    let meta: [(&dyn Connector, &'static str); 2] = [
        (&connectors.facebook, "x-hub-signature-256"),
        (&connectors.whatsapp, "x-hub-signature-256"),
    ];
    let all = meta
        .into_iter()
        .map(|(connector, header)| (connector, header, meta_right.as_str()))
        .chain([(
            &connectors.x as &dyn Connector,
            "x-twitter-webhooks-signature",
            x_right.as_str(),
        )]);
    for (connector, header, right) in all {
        let good = headers(header, right.as_bytes()).unwrap();
        assert!(connector.verify_webhook(&good, body).is_ok(), "{header}");
        assert!(connector.verify_webhook(&good, &other).is_err(), "{header}");
        assert!(connector.verify_webhook(&HeaderMap::new(), body).is_err());
        if let Some(arbitrary) = headers(header, claimed) {
            if connector.verify_webhook(&arbitrary, body).is_ok() {
                let text = String::from_utf8_lossy(claimed);
                let text = text.trim();
                let accepted = text == right
                    || (header == "x-hub-signature-256"
                        && text
                            .strip_prefix("sha256=")
                            .and_then(|digits| hex::decode(digits).ok())
                            .is_some_and(|bytes| bytes == mac));
                assert!(accepted, "{header} accepted {text:?}");
            }
        }
    }
    let crc = buzon_x::crc_response(common::SECRET, &String::from_utf8_lossy(claimed));
    assert!(crc.starts_with("{\"response_token\":\"sha256="), "{crc}");
});
