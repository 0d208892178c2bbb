//! The one HTTP client every connector shares: timeouts, jittered exponential retries for
//! passing failures (`backon`), and gates that hold calls back while a platform's rate-limit
//! headers say the budget is spent.

use crate::ConnectorError;
use backon::{ExponentialBuilder, Retryable};
use http::HeaderMap;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A response as the classifiers see it: status, headers and the whole body.
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// The HTTP status.
    pub status: u16,
    /// The headers.
    pub headers: HeaderMap,
    /// The body bytes.
    pub body: Vec<u8>,
}

/// Holds calls back per key (a platform, endpoint and account) until a time.
#[derive(Debug, Clone, Default)]
pub struct RateLimitGate {
    closed_until: Arc<Mutex<HashMap<String, Instant>>>,
}

impl RateLimitGate {
    /// Closes the gate for `key` for `wait`, unless it is already closed for longer.
    pub fn close_for(&self, key: &str, wait: Duration) {
        let until = Instant::now() + wait;
        let mut gates = self
            .closed_until
            .lock()
            .expect("gate lock is never poisoned");
        let entry = gates.entry(key.to_owned()).or_insert(until);
        if *entry < until {
            *entry = until;
        }
    }

    /// How long calls for `key` must still wait (zero when open).
    pub fn remaining(&self, key: &str) -> Duration {
        self.remaining_after(key, Duration::ZERO)
    }

    /// How long a call for `key` must still wait when it goes `defer` after the gate opens.
    fn remaining_after(&self, key: &str, defer: Duration) -> Duration {
        let gates = self
            .closed_until
            .lock()
            .expect("gate lock is never poisoned");
        gates
            .get(key)
            .map(|until| (*until + defer).saturating_duration_since(Instant::now()))
            .unwrap_or_default()
    }
}

/// How long background reads (polls, profile lookups, fetches) hold back after a gate
/// reopens, so the replies that waited for it go first: the first calls after a throttle
/// are the likeliest to be throttled again, and a reply must not starve behind reads that
/// run every second (seen in the chaos test: a profile lookup took the reopened Page budget
/// each minute, and two replies waited eight minutes).
pub const READS_DEFER_TO_SENDS: Duration = Duration::from_secs(3);

/// How much retrying one call may do before giving the failure to its caller (who may then
/// retry durably, e.g. through the outbox).
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: usize,
    /// The longest single wait the call itself will sit through; longer waits go back to the
    /// caller as the error.
    pub max_wait: Duration,
    /// Whether repeating the request can never do harm (GET, PUT of a state). A send is not:
    /// when its outcome is unknown it is reported, never repeated here.
    pub idempotent: bool,
}

impl RetryPolicy {
    /// For reads: a few quick retries.
    pub const READ: RetryPolicy = RetryPolicy {
        max_retries: 3,
        max_wait: Duration::from_secs(5),
        idempotent: true,
    };
    /// For sends: retried only when the platform surely did not act (a rate limit, a
    /// connection that never opened); any other temporary failure is an unknown outcome.
    pub const SEND: RetryPolicy = RetryPolicy {
        max_retries: 2,
        max_wait: Duration::from_secs(3),
        idempotent: false,
    };
}

/// The shared client.
#[derive(Debug, Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    gate: RateLimitGate,
}

impl HttpClient {
    /// A client with the given whole-request timeout.
    pub fn new(timeout: Duration) -> HttpClient {
        let inner = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("buzon/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the HTTP client builds with rustls");
        HttpClient {
            inner,
            gate: RateLimitGate::default(),
        }
    }

    /// The underlying reqwest client, to build requests with.
    pub fn inner(&self) -> &reqwest::Client {
        &self.inner
    }

    /// The rate-limit gates.
    pub fn gate(&self) -> &RateLimitGate {
        &self.gate
    }

    /// Sends the request `build` makes, retrying as `policy` allows, and turns the response
    /// into a value or an error with `classify`. `gate_key` names the rate-limit budget the
    /// call draws on: while the gate is closed the call waits (or, if the wait is longer than
    /// the policy allows, fails with `RateLimited` without calling the platform). `observe`
    /// reads the response's rate-limit headers and says how long to close the gate.
    pub async fn execute<T>(
        &self,
        gate_key: &str,
        policy: RetryPolicy,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
        observe: impl Fn(&RawResponse) -> Option<Duration>,
        classify: impl Fn(RawResponse) -> Result<T, ConnectorError>,
    ) -> Result<T, ConnectorError> {
        let attempt = || async {
            let defer = if policy.idempotent {
                READS_DEFER_TO_SENDS
            } else {
                Duration::ZERO
            };
            let wait = self.gate.remaining_after(gate_key, defer);
            if !wait.is_zero() {
                if wait > policy.max_wait {
                    return Err(ConnectorError::RateLimited {
                        reason: "waiting for the platform's rate-limit window to reset".into(),
                        retry_after: Some(wait),
                    });
                }
                tokio::time::sleep(wait).await;
            }
            let response = build(&self.inner)
                .send()
                .await
                .map_err(|err| transport_error(&err, policy.idempotent))?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = response
                .bytes()
                .await
                .map_err(|err| transport_error(&err, policy.idempotent))?
                .to_vec();
            let raw = RawResponse {
                status,
                headers,
                body,
            };
            if let Some(wait) = observe(&raw) {
                self.gate.close_for(gate_key, wait);
            }
            let result = settle_for(policy, classify(raw));
            if let Err(ConnectorError::RateLimited {
                retry_after: Some(wait),
                ..
            }) = &result
            {
                self.gate.close_for(gate_key, *wait);
            }
            result
        };
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(200))
            .with_max_delay(policy.max_wait)
            .with_max_times(policy.max_retries)
            .with_jitter();
        attempt
            .retry(backoff)
            .sleep(tokio::time::sleep)
            .when(|err: &ConnectorError| {
                err.is_retryable() && err.retry_after().is_none_or(|wait| wait <= policy.max_wait)
            })
            .adjust(|err: &ConnectorError, planned| match err.retry_after() {
                Some(wait) => Some(wait),
                None => planned,
            })
            .notify(|err: &ConnectorError, wait: Duration| {
                tracing::debug!(error = %err, ?wait, "retrying platform call");
            })
            .await
    }
}

/// What an answered failure means for a call that is not idempotent (a send): the platform
/// may have acted before it failed (a 5xx, Graph's codes 1 and 2, any "try again" answer), so
/// the outcome is unknown and the call is never repeated blindly. Only a refusal that says the
/// platform did not act — a rate limit, or an error that is not temporary — stands as it is.
fn settle_for<T>(
    policy: RetryPolicy,
    result: Result<T, ConnectorError>,
) -> Result<T, ConnectorError> {
    match result {
        Err(ConnectorError::Retryable { reason, .. }) if !policy.idempotent => {
            Err(ConnectorError::Unknown(format!(
                "{reason}; the platform may have acted, so it is not repeated"
            )))
        }
        other => other,
    }
}

/// A transport failure: retryable when the request surely never reached the platform (or
/// repeating it is harmless), otherwise an unknown outcome.
fn transport_error(err: &reqwest::Error, idempotent: bool) -> ConnectorError {
    let reason = if err.is_timeout() {
        "the platform did not answer in time".to_owned()
    } else if err.is_connect() {
        "cannot connect to the platform".to_owned()
    } else {
        "the connection to the platform failed".to_owned()
    };
    if idempotent || err.is_connect() {
        ConnectorError::Retryable {
            reason,
            retry_after: None,
        }
    } else {
        ConnectorError::Unknown(reason)
    }
}

/// Reads X's `x-rate-limit-remaining` and `x-rate-limit-reset` (absolute Unix seconds): when
/// nothing remains, the wait until the reset (plus a second of slack).
pub fn x_rate_limit_wait(headers: &HeaderMap, now_unix_secs: i64) -> Option<Duration> {
    let remaining: i64 = header_number(headers, "x-rate-limit-remaining")?;
    if remaining > 0 {
        return None;
    }
    let reset: i64 = header_number(headers, "x-rate-limit-reset")?;
    let wait = (reset - now_unix_secs).max(0) + 1;
    Some(Duration::from_secs(wait as u64))
}

/// Reads Meta's `X-App-Usage`, `X-Page-Usage` and `X-Business-Use-Case-Usage`: when any
/// percentage reaches 90, how long to hold back (`estimated_time_to_regain_access` minutes
/// when given, else a minute).
pub fn meta_usage_wait(headers: &HeaderMap) -> Option<Duration> {
    let mut wait: Option<Duration> = None;
    let mut consider = |usage: &serde_json::Value| {
        let high = ["call_count", "total_time", "total_cputime"]
            .iter()
            .filter_map(|key| usage.get(key).and_then(serde_json::Value::as_f64))
            .any(|percent| percent >= 90.0);
        let regain = usage
            .get("estimated_time_to_regain_access")
            .and_then(serde_json::Value::as_u64)
            .filter(|minutes| *minutes > 0);
        if high || regain.is_some() {
            let this = Duration::from_secs(regain.unwrap_or(1) * 60);
            wait = Some(wait.map_or(this, |current| current.max(this)));
        }
    };
    for name in ["x-app-usage", "x-page-usage"] {
        if let Some(usage) = header_json(headers, name) {
            consider(&usage);
        }
    }
    if let Some(serde_json::Value::Object(objects)) =
        header_json(headers, "x-business-use-case-usage")
    {
        for entries in objects.values() {
            for usage in entries.as_array().into_iter().flatten() {
                consider(usage);
            }
        }
    }
    wait
}

fn header_number<T: std::str::FromStr>(headers: &HeaderMap, name: &str) -> Option<T> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

fn header_json(headers: &HeaderMap, name: &str) -> Option<serde_json::Value> {
    serde_json::from_str(headers.get(name)?.to_str().ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn x_headers_close_the_gate_until_the_reset() {
        let mut headers = HeaderMap::new();
        headers.insert("x-rate-limit-remaining", HeaderValue::from_static("0"));
        headers.insert("x-rate-limit-reset", HeaderValue::from_static("1665183228"));
        assert_eq!(
            x_rate_limit_wait(&headers, 1_665_183_200),
            Some(Duration::from_secs(29))
        );
        headers.insert("x-rate-limit-remaining", HeaderValue::from_static("448"));
        assert_eq!(x_rate_limit_wait(&headers, 1_665_183_200), None);
    }

    #[test]
    fn meta_usage_headers_hold_back_near_the_limit() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-app-usage",
            HeaderValue::from_static(
                "{\"call_count\": 28, \"total_time\": 25, \"total_cputime\": 25}",
            ),
        );
        assert_eq!(meta_usage_wait(&headers), None);
        headers.insert(
            "x-business-use-case-usage",
            HeaderValue::from_static("{\"112\":[{\"type\":\"pages\",\"call_count\":100,\"total_cputime\":25,\"total_time\":25,\"estimated_time_to_regain_access\":19}]}"),
        );
        assert_eq!(
            meta_usage_wait(&headers),
            Some(Duration::from_secs(19 * 60))
        );
    }

    #[test]
    fn a_closed_gate_reports_its_remaining_wait() {
        let gate = RateLimitGate::default();
        assert!(gate.remaining("x").is_zero());
        gate.close_for("x", Duration::from_secs(30));
        gate.close_for("x", Duration::from_secs(1));
        assert!(
            gate.remaining("x") > Duration::from_secs(28),
            "a shorter close does not shorten the wait"
        );
    }

    #[test]
    fn reads_wait_a_little_longer_than_sends_once_a_gate_reopens() {
        let gate = RateLimitGate::default();
        gate.close_for("page", Duration::from_millis(50));
        let send_wait = gate.remaining_after("page", Duration::ZERO);
        let read_wait = gate.remaining_after("page", READS_DEFER_TO_SENDS);
        assert!(send_wait <= Duration::from_millis(50), "{send_wait:?}");
        assert!(
            read_wait > READS_DEFER_TO_SENDS,
            "a read goes after the gate's reopening plus the deferral: {read_wait:?}"
        );
        std::thread::sleep(Duration::from_millis(60));
        assert!(gate.remaining("page").is_zero(), "sends may go");
        assert!(
            !gate.remaining_after("page", READS_DEFER_TO_SENDS).is_zero(),
            "reads still hold back"
        );
    }
}
