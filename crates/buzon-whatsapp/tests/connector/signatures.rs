use crate::{connector, connector_with_secret, fixture};
use buzon_connector::{Connector, ConnectorError, HeaderMap};

/// Every webhook fixture with the signature its README lists.
const SIGNED: &[(&str, &str)] = &[
    (
        "text_message.json",
        "sha256=a8dedf5d8ae395b95e5ddc73747beb8a4498db06ba0f0cd3980be05e584ad262",
    ),
    (
        "status_sent.json",
        "sha256=0551b58938cd532aa9fba88512975097093b58a0ab964bc47e31d372ca46dd6a",
    ),
    (
        "reaction_escaped_emoji.json",
        "sha256=04cc424c1368b4b4e1210b60354c147dee8b881b7bfb29c75a3b28578aec460c",
    ),
    (
        "reaction_removed_no_emoji.json",
        "sha256=8c3b090fb19d46f625c05e9d25835c09a5c42c850139b454b298138ed635e66c",
    ),
    (
        "image_message.json",
        "sha256=ffac3e421ef123f117db00a08625a859c0e99c9fac459810184fa4ab870885a4",
    ),
    (
        "interactive_button_reply_bsuid.json",
        "sha256=ee2b701202b8e4c24d6ed4b1dd0d6d6791a0bc55461ab7bdb43b46ae0b3456c1",
    ),
    (
        "unsupported_message_type.json",
        "sha256=e17c6d2bc531d6969755c1eb5ea0365fa706ec55f65c0022beea6ec4fac3b7d6",
    ),
    (
        "status_failed.json",
        "sha256=43303f3847ef47fb640a05b763eebf8bcd810915b5b0380f8bbd69b9a349e62b",
    ),
    (
        "status_delivered_bsuid_only.json",
        "sha256=fee9384291eca2e27ea732feef6a4a0b7a87bc065552be1fc10cdca24fc024f7",
    ),
];

fn signed(value: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        "X-Hub-Signature-256",
        value.parse().expect("a valid header value"),
    );
    headers
}

#[test]
fn every_listed_signature_verifies_over_the_exact_fixture_bytes() {
    let whatsapp = connector("http://127.0.0.1:9/v21.0");
    for (name, signature) in SIGNED {
        let body = fixture(name);
        assert_eq!(
            whatsapp.verify_webhook(&signed(signature), &body),
            Ok(()),
            "{name}"
        );
    }
}

#[test]
fn a_tampered_body_fails_verification() {
    let whatsapp = connector("http://127.0.0.1:9/v21.0");
    for (name, signature) in SIGNED {
        let mut body = fixture(name);
        let with_newline = [body.clone(), b"\n".to_vec()].concat();
        assert_eq!(
            whatsapp.verify_webhook(&signed(signature), &with_newline),
            Err(ConnectorError::BadSignature),
            "{name} with a final newline"
        );
        let middle = body.len() / 2;
        body[middle] ^= 0x01;
        assert_eq!(
            whatsapp.verify_webhook(&signed(signature), &body),
            Err(ConnectorError::BadSignature),
            "{name} with a flipped bit"
        );
    }
}

#[test]
fn a_wrong_app_secret_fails_verification() {
    let whatsapp = connector_with_secret("http://127.0.0.1:9/v21.0", Some("another-secret"));
    for (name, signature) in SIGNED {
        assert_eq!(
            whatsapp.verify_webhook(&signed(signature), &fixture(name)),
            Err(ConnectorError::BadSignature),
            "{name}"
        );
    }
}

#[test]
fn without_an_app_secret_nothing_verifies() {
    let (name, signature) = SIGNED[0];
    for secret in [None, Some("")] {
        let whatsapp = connector_with_secret("http://127.0.0.1:9/v21.0", secret);
        assert_eq!(
            whatsapp.verify_webhook(&signed(signature), &fixture(name)),
            Err(ConnectorError::BadSignature)
        );
    }
}

#[test]
fn missing_or_malformed_signature_headers_fail_verification() {
    let whatsapp = connector("http://127.0.0.1:9/v21.0");
    let (name, signature) = SIGNED[0];
    let body = fixture(name);
    assert_eq!(
        whatsapp.verify_webhook(&HeaderMap::new(), &body),
        Err(ConnectorError::BadSignature)
    );
    let hex_digest = signature.trim_start_matches("sha256=");
    for malformed in [
        hex_digest.to_owned(),
        format!("sha1={hex_digest}"),
        format!("sha256={}", &hex_digest[..62]),
        format!("sha256={hex_digest}00"),
        "sha256=zz".to_owned(),
        "sha256=".to_owned(),
    ] {
        assert_eq!(
            whatsapp.verify_webhook(&signed(&malformed), &body),
            Err(ConnectorError::BadSignature),
            "{malformed}"
        );
    }
    // Only the SHA-256 header counts: Meta's older SHA-1 header alone is not enough.
    let mut sha1_only = HeaderMap::new();
    sha1_only.insert("x-hub-signature", "sha1=0000".parse().unwrap());
    assert_eq!(
        whatsapp.verify_webhook(&sha1_only, &body),
        Err(ConnectorError::BadSignature)
    );
}

#[test]
fn uppercase_hex_is_the_same_signature() {
    let whatsapp = connector("http://127.0.0.1:9/v21.0");
    let (name, signature) = SIGNED[2];
    let upper = format!(
        "sha256={}",
        signature.trim_start_matches("sha256=").to_uppercase()
    );
    assert_eq!(
        whatsapp.verify_webhook(&signed(&upper), &fixture(name)),
        Ok(())
    );
}
