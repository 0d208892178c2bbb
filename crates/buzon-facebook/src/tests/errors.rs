use super::fixture;
use crate::classify_graph_error;
use crate::graph::parse_graph_time;
use buzon_connector::{ConnectorError, HeaderMap};
use reqwest::header::HeaderValue;
use std::time::Duration;

fn app_usage_28_percent() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        "x-app-usage",
        HeaderValue::from_static("{\"call_count\": 28, \"total_time\": 25, \"total_cputime\": 25}"),
    );
    headers
}

fn graph_error(code: i64, subcode: Option<i64>, message: &str, transient: bool) -> Vec<u8> {
    let mut error = serde_json::json!({
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AbC123",
    });
    if let Some(subcode) = subcode {
        error["error_subcode"] = subcode.into();
    }
    if transient {
        error["is_transient"] = true.into();
    }
    serde_json::to_vec(&serde_json::json!({ "error": error })).expect("JSON serializes")
}

#[test]
fn page_throttling_code_32_is_rate_limited_for_a_minute_when_headers_do_not_say() {
    let error = classify_graph_error(
        400,
        &app_usage_28_percent(),
        &fixture("graph_error_rate_limit_32.json"),
    );
    assert_eq!(
        error,
        ConnectorError::RateLimited {
            reason:
                "Graph error 32 (HTTP 400): (#32) Page request limit reached [fbtrace Fz54k3GZrio]"
                    .into(),
            retry_after: Some(Duration::from_secs(60)),
        }
    );
}

#[test]
fn throttling_waits_as_long_as_the_business_use_case_header_says() {
    let mut headers = app_usage_28_percent();
    headers.insert(
        "x-business-use-case-usage",
        HeaderValue::from_static("{\"1234567890321\":[{\"type\":\"pages\",\"call_count\":100,\"total_cputime\":25,\"total_time\":25,\"estimated_time_to_regain_access\":19}]}"),
    );
    let error = classify_graph_error(400, &headers, &fixture("graph_error_rate_limit_32.json"));
    assert_eq!(error.retry_after(), Some(Duration::from_secs(19 * 60)));
    assert!(matches!(error, ConnectorError::RateLimited { .. }));
}

#[test]
fn an_expired_token_code_190_asks_for_reauthentication() {
    let error = classify_graph_error(
        400,
        &HeaderMap::new(),
        &fixture("graph_error_expired_token_190.json"),
    );
    assert_eq!(
        error,
        ConnectorError::AuthExpired(
            "Graph error 190/463 (HTTP 400): Error validating access token: Session has expired on Wednesday, 14-Feb-18 18:00:00 PST. The current time is Thursday, 15-Feb-18 13:46:35 PST. [fbtrace H2il2t5bn4e]".into()
        )
    );
    assert!(!error.is_retryable());
}

#[test]
fn every_throttling_code_is_rate_limited() {
    for code in [4, 17, 32, 613, 80001, 80006] {
        let error = classify_graph_error(
            403,
            &HeaderMap::new(),
            &graph_error(code, None, "limit", false),
        );
        assert!(
            matches!(error, ConnectorError::RateLimited { retry_after: Some(wait), .. } if wait == Duration::from_secs(60)),
            "{code}: {error:?}"
        );
    }
}

#[test]
fn messenger_outside_the_24_hour_window_is_window_closed() {
    let by_subcode = classify_graph_error(
        400,
        &HeaderMap::new(),
        &graph_error(10, Some(2018278), "(#10) Not allowed", false),
    );
    assert_eq!(
        by_subcode,
        ConnectorError::WindowClosed(
            "Graph error 10/2018278 (HTTP 400): (#10) Not allowed [fbtrace AbC123]".into()
        )
    );
    let by_message = classify_graph_error(
        400,
        &HeaderMap::new(),
        &graph_error(
            10,
            None,
            "(#10) This message is sent outside of allowed window.",
            false,
        ),
    );
    assert!(
        matches!(by_message, ConnectorError::WindowClosed(_)),
        "{by_message:?}"
    );
}

#[test]
fn unknown_and_transient_failures_are_retryable() {
    for body in [
        graph_error(1, None, "An unknown error occurred", false),
        graph_error(2, None, "Service temporarily unavailable", false),
        graph_error(100, None, "Something odd", true),
    ] {
        let error = classify_graph_error(400, &HeaderMap::new(), &body);
        assert!(
            matches!(
                error,
                ConnectorError::Retryable {
                    retry_after: None,
                    ..
                }
            ),
            "{error:?}"
        );
    }
    let server_error =
        classify_graph_error(503, &HeaderMap::new(), &graph_error(100, None, "x", false));
    assert!(
        matches!(server_error, ConnectorError::Retryable { .. }),
        "{server_error:?}"
    );
    let html = classify_graph_error(502, &HeaderMap::new(), b"<html>Bad Gateway</html>");
    assert_eq!(
        html,
        ConnectorError::Retryable {
            reason: "Graph answered HTTP 502 without an error body".into(),
            retry_after: None
        }
    );
}

#[test]
fn permission_and_other_errors_are_permanent() {
    for code in [10, 200, 230, 299, 100, 368] {
        let error = classify_graph_error(
            400,
            &HeaderMap::new(),
            &graph_error(code, None, "(#200) Permissions error", false),
        );
        assert!(
            matches!(error, ConnectorError::Permanent(_)),
            "{code}: {error:?}"
        );
    }
    assert_eq!(
        classify_graph_error(404, &HeaderMap::new(), b""),
        ConnectorError::Permanent("Graph answered HTTP 404 without an error body".into())
    );
}

#[test]
fn bare_429_and_401_answers_are_classified_by_status() {
    assert!(matches!(
        classify_graph_error(429, &HeaderMap::new(), b"Too Many Requests"),
        ConnectorError::RateLimited { retry_after: Some(wait), .. } if wait == Duration::from_secs(60)
    ));
    assert!(matches!(
        classify_graph_error(401, &HeaderMap::new(), b""),
        ConnectorError::AuthExpired(_)
    ));
}

#[test]
fn graph_times_without_a_colon_in_the_offset_parse() {
    assert_eq!(
        parse_graph_time("2024-01-15T10:30:00+0000").map(|time| time.as_millis()),
        Some(1_705_314_600_000)
    );
    assert_eq!(
        parse_graph_time("2024-01-15T11:30:00+0100").map(|time| time.as_millis()),
        Some(1_705_314_600_000)
    );
    assert_eq!(
        parse_graph_time("2024-01-15T05:30:00-0500").map(|time| time.as_millis()),
        Some(1_705_314_600_000)
    );
    assert_eq!(
        parse_graph_time("2024-01-15T10:30:00Z").map(|time| time.as_millis()),
        Some(1_705_314_600_000)
    );
    assert_eq!(
        parse_graph_time("2024-01-15T10:30:00+00:00").map(|time| time.as_millis()),
        Some(1_705_314_600_000)
    );
    assert_eq!(parse_graph_time("yesterday"), None);
    assert_eq!(parse_graph_time("ñ+0000"), None);
}
