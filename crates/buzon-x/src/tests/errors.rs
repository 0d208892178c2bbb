//! How X's answers are classified.

use super::fixture;
use crate::api::classify;
use buzon_connector::{ConnectorError, HeaderMap, RawResponse};
use reqwest::header::HeaderValue;
use std::time::Duration;

const NOW: i64 = 1_665_183_200;

fn response(status: u16, headers: &[(&'static str, &'static str)], body: &[u8]) -> RawResponse {
    let mut header_map = HeaderMap::new();
    for (name, value) in headers {
        header_map.insert(*name, HeaderValue::from_static(value));
    }
    RawResponse {
        status,
        headers: header_map,
        body: body.to_vec(),
    }
}

#[test]
fn a_plain_429_is_rate_limited_until_the_reset_header() {
    let result = classify(
        response(
            429,
            &[
                ("x-rate-limit-limit", "450"),
                ("x-rate-limit-remaining", "0"),
                ("x-rate-limit-reset", "1665183228"),
            ],
            &fixture("error_429_too_many_requests.json"),
        ),
        NOW,
    );
    let Err(ConnectorError::RateLimited { retry_after, .. }) = result else {
        panic!("rate limited: {result:?}");
    };
    assert_eq!(retry_after, Some(Duration::from_secs(29)));
}

#[test]
fn a_legacy_code_88_body_is_rate_limited_too() {
    let result = classify(
        response(
            429,
            &[("x-rate-limit-reset", "1665183300")],
            br#"{"errors":[{"code":88,"message":"Rate limit exceeded"}]}"#,
        ),
        NOW,
    );
    assert!(
        matches!(result, Err(ConnectorError::RateLimited { retry_after: Some(wait), .. }) if wait == Duration::from_secs(101)),
        "{result:?}"
    );
    let without_reset = classify(response(429, &[], b"{}"), NOW);
    assert!(
        matches!(
            without_reset,
            Err(ConnectorError::RateLimited {
                retry_after: Some(_),
                ..
            })
        ),
        "a 429 always says how long to wait: {without_reset:?}"
    );
}

#[test]
fn a_usage_cap_is_exhausted_not_rate_limited() {
    let result = classify(
        response(
            429,
            &[
                ("x-rate-limit-remaining", "0"),
                ("x-rate-limit-reset", "1665183228"),
            ],
            &fixture("error_429_usage_capped.json"),
        ),
        NOW,
    );
    assert_eq!(
        result,
        Err(ConnectorError::QuotaExhausted(
            "Usage cap exceeded: Monthly product cap".to_owned()
        ))
    );
    assert!(!result.unwrap_err().is_retryable());
}

#[test]
fn a_401_means_the_token_expired() {
    let result = classify(
        response(401, &[], &fixture("error_401_unauthorized.json")),
        NOW,
    );
    assert!(
        matches!(result, Err(ConnectorError::AuthExpired(_))),
        "{result:?}"
    );
}

#[test]
fn server_errors_are_retryable_and_refusals_are_permanent() {
    for status in [500, 502, 503, 504] {
        let result = classify(response(status, &[], b"upstream trouble"), NOW);
        assert!(
            matches!(result, Err(ConnectorError::Retryable { .. })),
            "{status}: {result:?}"
        );
    }
    let gated = br#"{"title":"Forbidden","status":403,"detail":"Reply to this conversation is not allowed because you have not been mentioned or otherwise engaged by the author of the post you are replying to.","type":"about:blank"}"#;
    let result = classify(response(403, &[], gated), NOW);
    assert!(
        matches!(&result, Err(ConnectorError::Permanent(reason)) if reason.contains("Reply to this conversation is not allowed")),
        "{result:?}"
    );
    let duplicate = br#"{"detail":"You are not allowed to create a Tweet with duplicate content.","type":"about:blank","title":"Forbidden","status":403}"#;
    assert!(matches!(
        classify(response(403, &[], duplicate), NOW),
        Err(ConnectorError::Permanent(_))
    ));
    assert!(matches!(
        classify(response(400, &[], b"{}"), NOW),
        Err(ConnectorError::Permanent(_))
    ));
}

#[test]
fn partial_errors_beside_data_are_a_success() {
    let body = br#"{"data":[{"id":"1","text":"hi"}],"errors":[{"title":"Not Found Error","type":"https://api.twitter.com/2/problems/resource-not-found"}]}"#;
    assert_eq!(classify(response(200, &[], body), NOW), Ok(body.to_vec()));
    let created = fixture("create_post_response.json");
    assert_eq!(classify(response(201, &[], &created), NOW), Ok(created));
    let only_errors =
        br#"{"errors":[{"title":"Not Found Error","detail":"Could not find user with id: [1]."}]}"#;
    assert!(matches!(
        classify(response(200, &[], only_errors), NOW),
        Err(ConnectorError::Permanent(_))
    ));
}
