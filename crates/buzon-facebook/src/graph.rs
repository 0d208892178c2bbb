//! Graph API calls (v21.0): reading the Page feed and comments, commenting, the Messenger
//! Send API, hiding comments; and what Graph's answers mean.

use crate::wire::{ErrorEnvelope, FlexInt, GraphError, LooseField, UserProfile};
use buzon_connector::{meta_usage_wait, ConnectorError, HeaderMap, Profile, RawResponse};
use buzon_core::Timestamp;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// How long to hold back after a throttling code when the usage headers do not say.
pub(crate) const DEFAULT_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);

/// Graph codes that mean "too many calls": app (4), user (17), Page (32), custom (613), and
/// the business use case limits for Pages (80001) and Messenger (80006).
const RATE_LIMIT_CODES: [i64; 6] = [4, 17, 32, 613, 80001, 80006];
/// The subcode Messenger answers with outside the 24-hour standard messaging window.
const OUTSIDE_WINDOW_SUBCODE: i64 = 2018278;

/// What a failed Graph answer means for the caller. Pure: status, headers and body in.
///
/// Throttling comes back as HTTP 400/403 with a code, rarely as 429, so the code decides
/// before the status does.
pub fn classify_graph_error(status: u16, headers: &HeaderMap, body: &[u8]) -> ConnectorError {
    let Ok(ErrorEnvelope { error }) = serde_json::from_slice::<ErrorEnvelope>(body) else {
        return classify_status(status, headers);
    };
    let code = error.code.map(|FlexInt(code)| code);
    let subcode = error.error_subcode.map(|FlexInt(subcode)| subcode);
    let reason = describe(status, &error);
    let message = error.message.as_deref().unwrap_or_default();
    match code {
        Some(code) if RATE_LIMIT_CODES.contains(&code) => ConnectorError::RateLimited {
            reason,
            retry_after: Some(meta_usage_wait(headers).unwrap_or(DEFAULT_RATE_LIMIT_WAIT)),
        },
        Some(190) => ConnectorError::AuthExpired(reason),
        _ if (code == Some(10) && subcode == Some(OUTSIDE_WINDOW_SUBCODE))
            || message.contains("outside of allowed window") =>
        {
            ConnectorError::WindowClosed(reason)
        }
        Some(1 | 2) => ConnectorError::Retryable {
            reason,
            retry_after: None,
        },
        _ if error.is_transient || status >= 500 => ConnectorError::Retryable {
            reason,
            retry_after: None,
        },
        _ => ConnectorError::Permanent(reason),
    }
}

/// An answer without a Graph error envelope: the status alone decides.
fn classify_status(status: u16, headers: &HeaderMap) -> ConnectorError {
    let reason = format!("Graph answered HTTP {status} without an error body");
    match status {
        429 => ConnectorError::RateLimited {
            reason,
            retry_after: Some(meta_usage_wait(headers).unwrap_or(DEFAULT_RATE_LIMIT_WAIT)),
        },
        401 => ConnectorError::AuthExpired(reason),
        500.. => ConnectorError::Retryable {
            reason,
            retry_after: None,
        },
        _ => ConnectorError::Permanent(reason),
    }
}

/// `Graph error 190/463 (HTTP 400): <message> [fbtrace H2il2t5bn4e]`, bounded.
fn describe(status: u16, error: &GraphError) -> String {
    let mut reason = String::from("Graph error");
    if let Some(FlexInt(code)) = error.code {
        reason.push_str(&format!(" {code}"));
        if let Some(FlexInt(subcode)) = error.error_subcode {
            reason.push_str(&format!("/{subcode}"));
        }
    }
    reason.push_str(&format!(" (HTTP {status})"));
    if let Some(message) = error
        .message
        .as_deref()
        .filter(|message| !message.is_empty())
    {
        let message: String = message.chars().take(300).collect();
        reason.push_str(": ");
        reason.push_str(&message);
    }
    if let Some(trace) = error
        .fbtrace_id
        .as_deref()
        .filter(|trace| !trace.is_empty())
    {
        let trace: String = trace.chars().take(40).collect();
        reason.push_str(&format!(" [fbtrace {trace}]"));
    }
    reason
}

/// Turns an answer into `T` on 2xx, into the classified error otherwise. `shape_error` is
/// what a 2xx with an unexpected body means (for a send: an unknown outcome).
pub(crate) fn read_answer<T: DeserializeOwned>(
    raw: RawResponse,
    shape_error: fn(String) -> ConnectorError,
) -> Result<T, ConnectorError> {
    if !(200..300).contains(&raw.status) {
        return Err(classify_graph_error(raw.status, &raw.headers, &raw.body));
    }
    serde_json::from_slice(&raw.body).map_err(|_| {
        shape_error(format!(
            "Graph answered HTTP {} with an unexpected body",
            raw.status
        ))
    })
}

/// Keeps a 2xx answer's bytes as they came, for the event log; errors are classified.
pub(crate) fn read_raw(raw: RawResponse) -> Result<Vec<u8>, ConnectorError> {
    if !(200..300).contains(&raw.status) {
        return Err(classify_graph_error(raw.status, &raw.headers, &raw.body));
    }
    Ok(raw.body)
}

/// The User Profile API's "(#100) No profile available for this user." (code 100): Graph has
/// no profile for the PSID. Recorded in jgorset/facebook-messenger issue #202.
const NO_PROFILE_SUBCODE: i64 = 2018218;

/// Reads the User Profile API's answer: the name (`first_name last_name`, or whichever part
/// exists) and the picture; `None` when Graph has no name for the PSID. Other errors are
/// classified like every Graph call's.
pub(crate) fn read_profile(raw: RawResponse) -> Result<Option<Profile>, ConnectorError> {
    if !(200..300).contains(&raw.status) {
        if let Ok(ErrorEnvelope { error }) = serde_json::from_slice::<ErrorEnvelope>(&raw.body) {
            if error.code == Some(FlexInt(100))
                && error.error_subcode == Some(FlexInt(NO_PROFILE_SUBCODE))
            {
                return Ok(None);
            }
        }
        return Err(classify_graph_error(raw.status, &raw.headers, &raw.body));
    }
    let profile: UserProfile = serde_json::from_slice(&raw.body).map_err(|_| {
        ConnectorError::Permanent(format!(
            "Graph answered HTTP {} with an unexpected profile",
            raw.status
        ))
    })?;
    let part = |part: Option<String>| {
        part.map(|part| part.trim().to_owned())
            .filter(|part| !part.is_empty())
    };
    let parts: Vec<String> = [profile.first_name.known(), profile.last_name.known()]
        .into_iter()
        .filter_map(part)
        .collect();
    let name = if parts.is_empty() {
        part(profile.name.known())
    } else {
        Some(parts.join(" "))
    };
    let Some(name) = name else {
        return Ok(None);
    };
    Ok(Some(Profile {
        name: Some(name),
        picture_url: part(profile.profile_pic.known()),
    }))
}

/// Parses Graph's `created_time`, e.g. `2024-01-15T10:30:00+0000` (an offset without a
/// colon, which RFC 3339 wants), also accepting RFC 3339 proper.
pub(crate) fn parse_graph_time(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if !text.is_ascii() {
        return None;
    }
    let bytes = text.as_bytes();
    let length = bytes.len();
    if length > 5
        && matches!(bytes[length - 5], b'+' | b'-')
        && bytes[length - 4..].iter().all(u8::is_ascii_digit)
    {
        let with_colon = format!("{}:{}", &text[..length - 2], &text[length - 2..]);
        return Timestamp::parse_rfc3339(&with_colon);
    }
    Timestamp::parse_rfc3339(text)
}

/// Checks that an id is safe as one URL path segment: Graph ids are digits, letters and `_`.
pub(crate) fn path_segment(id: &str) -> Result<&str, ConnectorError> {
    let valid = !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-');
    if valid {
        Ok(id)
    } else {
        Err(ConnectorError::Permanent(
            "the id is not a valid Graph object id".to_owned(),
        ))
    }
}
