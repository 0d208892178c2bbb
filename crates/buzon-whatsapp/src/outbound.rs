//! Sending: the request body, the endpoint, and the one function that reads the Cloud API's
//! answer.

use crate::inbound::payload_error;
use crate::user::UserKey;
use crate::wire::{self, Lenient};
use buzon_connector::{meta_usage_wait, ConnectorError, RawResponse, ReplyRequest};
use buzon_core::ExternalId;
use std::time::Duration;

/// The longest text body the Cloud API accepts, in characters.
pub(crate) const MAX_TEXT_CHARS: usize = 4096;

/// How long to wait after a rate-limit answer that came without usage headers.
const DEFAULT_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);

/// How long to wait after 131056: about one message per 6 s may go to the same user.
const PAIR_RATE_LIMIT_WAIT: Duration = Duration::from_secs(6);

/// The body of a send: the text, or the template when the reply carries one (outside the
/// customer-service window only templates are allowed). A template without parameters is
/// sent without `components`. The reply is not sent as a quote (`context`): in a chat every
/// reply would otherwise quote the customer's last message.
pub(crate) fn send_request<'a>(
    recipient: &'a UserKey,
    reply: &'a ReplyRequest,
) -> Result<wire::SendRequest<'a>, ConnectorError> {
    let (to, bsuid) = match recipient {
        UserKey::Phone(wa_id) => (Some(wa_id.as_str()), None),
        UserKey::Bsuid(user_id) => (None, Some(user_id.as_str())),
    };
    let mut request = wire::SendRequest {
        messaging_product: "whatsapp",
        recipient_type: "individual",
        to,
        recipient: bsuid,
        kind: "text",
        text: None,
        template: None,
        // The Cloud API takes at most 512 characters.
        biz_opaque_callback_data: Some(reply.idempotency_key.as_str())
            .filter(|key| !key.is_empty() && key.chars().count() <= 512),
    };
    match &reply.template {
        Some(template) => {
            if template.name.trim().is_empty() || template.language.trim().is_empty() {
                return Err(ConnectorError::Permanent(
                    "a template needs a name and a language code".into(),
                ));
            }
            let parameters: Vec<wire::TemplateParameter<'a>> = template
                .parameters
                .iter()
                .map(|parameter| wire::TemplateParameter {
                    kind: "text",
                    text: parameter,
                })
                .collect();
            let components = if parameters.is_empty() {
                Vec::new()
            } else {
                vec![wire::TemplateComponent {
                    kind: "body",
                    parameters,
                }]
            };
            request.kind = "template";
            request.template = Some(wire::OutgoingTemplate {
                name: &template.name,
                language: wire::TemplateLanguage {
                    code: &template.language,
                },
                components,
            });
        }
        None => {
            if reply.text.trim().is_empty() {
                return Err(ConnectorError::Permanent(
                    "WhatsApp cannot send an empty text".into(),
                ));
            }
            if reply.text.chars().count() > MAX_TEXT_CHARS {
                return Err(ConnectorError::Permanent(format!(
                    "WhatsApp texts are limited to {MAX_TEXT_CHARS} characters"
                )));
            }
            request.text = Some(wire::OutgoingText {
                preview_url: false,
                body: &reply.text,
            });
        }
    }
    Ok(request)
}

/// `{api_base}/{phone-number-id}/messages`, with the id escaped as one path segment.
pub(crate) fn messages_url(
    api_base: &str,
    phone_number_id: &ExternalId,
) -> Result<reqwest::Url, ConnectorError> {
    let mut url = reqwest::Url::parse(api_base)
        .map_err(|_| ConnectorError::Permanent("whatsapp.api_base is not a valid URL".into()))?;
    url.path_segments_mut()
        .map_err(|()| ConnectorError::Permanent("whatsapp.api_base cannot take a path".into()))?
        .pop_if_empty()
        .push(phone_number_id.as_str())
        .push("messages");
    Ok(url)
}

/// Reads the Cloud API's answer to a send: the new message's wamid, or what to do instead.
pub(crate) fn read_send_response(response: RawResponse) -> Result<ExternalId, ConnectorError> {
    if !(200..300).contains(&response.status) {
        return Err(classify_error(&response));
    }
    // 2xx: the platform accepted the message, so a body we cannot read must not lead to a
    // second send. The outcome is reported as unknown.
    let sent: wire::SendResponse = serde_json::from_slice(&response.body).map_err(|err| {
        match payload_error("the send answer", &err) {
            ConnectorError::Payload(reason) => ConnectorError::Unknown(reason),
            other => other,
        }
    })?;
    sent.messages
        .into_iter()
        .next()
        .and_then(|message| message.id)
        .map(Lenient::into_string)
        .and_then(|id| ExternalId::parse(id).ok())
        .ok_or_else(|| ConnectorError::Unknown("the send was accepted without a message id".into()))
}

/// What an error answer means, by Graph error `code` first and HTTP status second:
///
/// | code | error |
/// |---|---|
/// | 131047 | `WindowClosed`: send a template |
/// | 130429 (HTTP 429), 4, 80007 | `RateLimited`, for the usage headers' wait or 60 s |
/// | 131056 (pair rate limit) | `RateLimited` for 6 s |
/// | 190, or HTTP 401 | `AuthExpired` |
/// | 1, 2, 131000, 131016, or HTTP 5xx | `Retryable` |
/// | HTTP 429 with another code | `RateLimited` |
/// | anything else (131026, 131051, 100, 131008, 130472, 131049, 131062…) | `Permanent` |
///
/// Reasons read `<code>: <error_data.details>` (the message when there are no details).
pub(crate) fn classify_error(response: &RawResponse) -> ConnectorError {
    let error = serde_json::from_slice::<wire::ErrorEnvelope>(&response.body)
        .ok()
        .and_then(|envelope| envelope.error);
    let code = error.as_ref().and_then(|error| error.code);
    let details = error
        .as_ref()
        .and_then(|error| {
            wire::error_details(error.error_data.as_ref()).or(error
                .message
                .as_deref()
                .filter(|message| !message.trim().is_empty()))
        })
        .unwrap_or("no details");
    let reason = match code {
        Some(code) => format!("{code}: {details}"),
        None => format!("HTTP {}: {details}", response.status),
    };
    let usage_wait = || meta_usage_wait(&response.headers).unwrap_or(DEFAULT_RATE_LIMIT_WAIT);
    match (code, response.status) {
        (Some(131047), _) => ConnectorError::WindowClosed(reason),
        (Some(131056), _) => ConnectorError::RateLimited {
            reason,
            retry_after: Some(PAIR_RATE_LIMIT_WAIT),
        },
        (Some(130429 | 4 | 80007), _) => ConnectorError::RateLimited {
            reason,
            retry_after: Some(usage_wait()),
        },
        (Some(190), _) | (_, 401) => ConnectorError::AuthExpired(reason),
        (Some(1 | 2 | 131000 | 131016), _) => ConnectorError::Retryable {
            reason,
            retry_after: None,
        },
        (_, 429) => ConnectorError::RateLimited {
            reason,
            retry_after: Some(usage_wait()),
        },
        (_, status) if status >= 500 => ConnectorError::Retryable {
            reason,
            retry_after: None,
        },
        _ => ConnectorError::Permanent(reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use buzon_connector::HeaderMap;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/../../tests/fixtures/whatsapp/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap_or_else(|err| panic!("fixture {path} is readable: {err}"))
    }

    fn answer(status: u16, body: &[u8]) -> RawResponse {
        RawResponse {
            status,
            headers: HeaderMap::new(),
            body: body.to_vec(),
        }
    }

    fn graph_error(code: i64, details: &str) -> Vec<u8> {
        serde_json::json!({"error": {
            "message": format!("(#{code}) title"),
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": details},
            "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam"
        }})
        .to_string()
        .into_bytes()
    }

    #[test]
    fn the_rate_limit_fixture_is_rate_limited_for_a_minute() {
        let error = classify_error(&answer(429, &fixture("error_rate_limit_130429.json")));
        assert_eq!(
            error,
            ConnectorError::RateLimited {
                reason: "130429: Cloud API message throughput has been reached.".into(),
                retry_after: Some(Duration::from_secs(60)),
            }
        );
    }

    #[test]
    fn rate_limits_wait_as_long_as_the_usage_headers_say() {
        let mut response = answer(400, &graph_error(80007, "WABA rate limit"));
        response.headers.insert(
            "x-business-use-case-usage",
            "{\"102290129340398\":[{\"type\":\"whatsapp_business_management\",\"call_count\":100,\"total_cputime\":1,\"total_time\":1,\"estimated_time_to_regain_access\":7}]}"
                .parse()
                .unwrap(),
        );
        assert_eq!(
            classify_error(&response).retry_after(),
            Some(Duration::from_secs(7 * 60))
        );
        assert_eq!(
            classify_error(&answer(400, &graph_error(4, "app limit"))).retry_after(),
            Some(Duration::from_secs(60))
        );
    }

    #[test]
    fn the_pair_rate_limit_waits_six_seconds() {
        let error = classify_error(&answer(400, &graph_error(131056, "pair rate limit hit")));
        assert_eq!(
            error,
            ConnectorError::RateLimited {
                reason: "131056: pair rate limit hit".into(),
                retry_after: Some(Duration::from_secs(6)),
            }
        );
    }

    #[test]
    fn a_closed_window_asks_for_a_template() {
        let error = classify_error(&answer(
            400,
            &graph_error(131047, "More than 24 hours have passed since the recipient last replied to the sender number."),
        ));
        assert_eq!(
            error,
            ConnectorError::WindowClosed(
                "131047: More than 24 hours have passed since the recipient last replied to the sender number.".into()
            )
        );
    }

    #[test]
    fn an_expired_token_needs_reauthentication() {
        let error = classify_error(&answer(401, &graph_error(190, "Session has expired")));
        assert_eq!(
            error,
            ConnectorError::AuthExpired("190: Session has expired".into())
        );
        let error = classify_error(&answer(401, b"not json"));
        assert!(matches!(error, ConnectorError::AuthExpired(_)), "{error:?}");
    }

    #[test]
    fn passing_failures_are_retryable() {
        for (status, code) in [(500, 131000), (500, 1), (503, 2), (503, 131016), (502, 999)] {
            let error = classify_error(&answer(status, &graph_error(code, "try later")));
            assert!(
                matches!(
                    error,
                    ConnectorError::Retryable {
                        retry_after: None,
                        ..
                    }
                ),
                "{code}: {error:?}"
            );
        }
        let error = classify_error(&answer(502, b"<html>Bad Gateway</html>"));
        assert!(
            matches!(error, ConnectorError::Retryable { .. }),
            "{error:?}"
        );
    }

    #[test]
    fn refusals_are_permanent_with_code_and_details() {
        for code in [131026, 131051, 100, 131008, 130472, 131049, 131062] {
            let error = classify_error(&answer(400, &graph_error(code, "the details")));
            assert_eq!(
                error,
                ConnectorError::Permanent(format!("{code}: the details")),
                "{code}"
            );
        }
        let error = classify_error(&answer(
            400,
            br#"{"error":{"message":"(#100) Invalid parameter","code":100}}"#,
        ));
        assert_eq!(
            error,
            ConnectorError::Permanent("100: (#100) Invalid parameter".into())
        );
        let error = classify_error(&answer(404, b""));
        assert_eq!(
            error,
            ConnectorError::Permanent("HTTP 404: no details".into())
        );
        let error = classify_error(&answer(429, b""));
        assert!(
            matches!(error, ConnectorError::RateLimited { .. }),
            "{error:?}"
        );
    }

    #[test]
    fn the_send_response_fixture_gives_the_wamid() {
        let id = read_send_response(answer(200, &fixture("send_text_response.json"))).unwrap();
        assert_eq!(
            id.as_str(),
            "wamid.HBgLMTY0NjcwNDM1OTUVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA"
        );
    }

    #[test]
    fn an_accepted_send_without_an_id_is_an_unknown_outcome() {
        for body in [&b"{}"[..], b"{\"messages\":[]}", b"<html>"] {
            let error = read_send_response(answer(200, body)).unwrap_err();
            assert!(matches!(error, ConnectorError::Unknown(_)), "{error:?}");
        }
    }

    #[test]
    fn the_messages_url_escapes_the_phone_number_id() {
        let id = ExternalId::parse("106540352242922").unwrap();
        assert_eq!(
            messages_url("https://graph.facebook.com/v21.0", &id)
                .unwrap()
                .as_str(),
            "https://graph.facebook.com/v21.0/106540352242922/messages"
        );
        assert_eq!(
            messages_url("http://127.0.0.1:9/v21.0/", &id)
                .unwrap()
                .as_str(),
            "http://127.0.0.1:9/v21.0/106540352242922/messages"
        );
        let odd = ExternalId::parse("a/b?c").unwrap();
        assert_eq!(
            messages_url("http://127.0.0.1:9/v21.0", &odd)
                .unwrap()
                .as_str(),
            "http://127.0.0.1:9/v21.0/a%2Fb%3Fc/messages"
        );
        assert!(messages_url("not a url", &id).is_err());
    }
}
