//! Calls to the X API v2: polling mentions and DMs, sending replies and DMs, hiding replies,
//! and reading X's answers into values or [`ConnectorError`]s.
//!
//! Every call goes through [`HttpClient::execute`] with the gate key `x:<endpoint>:<user id>`
//! and an observer of `x-rate-limit-remaining`/`x-rate-limit-reset`, so once X says a budget
//! is spent no call on it leaves before the reset.

use crate::timeline::{id_is_newer, is_numeric_id, DM_EVENTS, MENTIONS};
use crate::wire::{
    CreateDirectMessage, CreateTweet, CreateTweetReply, CreatedDirectMessage, CreatedTweet, Hidden,
    HiddenResponse, PageMeta, Problem,
};
use crate::{payload_error, XConnector};
use buzon_connector::{
    x_rate_limit_wait, ConnectorError, Moderation, PollPage, PolledBody, RawResponse, ReplyRequest,
    RetryPolicy, SentReply,
};
use buzon_core::{Channel, ChannelCredentials, ExternalId};
use serde::de::DeserializeOwned;
use std::time::Duration;

/// At most this many mention pages per poll. 8 pages of 100 is the 800 most recent mentions,
/// all that X lets pagination reach, so stopping here loses nothing reachable.
const MAX_MENTION_PAGES: usize = 8;

/// The wait assumed after a 429 that carries no `x-rate-limit-reset`.
const DEFAULT_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);

const MENTION_TWEET_FIELDS: &str =
    "created_at,author_id,conversation_id,in_reply_to_user_id,referenced_tweets";
const DM_EVENT_FIELDS: &str = "id,text,event_type,created_at,sender_id,dm_conversation_id";
const USER_FIELDS: &str = "username,name";

/// The gate key's endpoint name of recent search.
const SEARCH: &str = "search";

const SEARCH_TWEET_FIELDS: &str =
    "created_at,author_id,conversation_id,in_reply_to_user_id,referenced_tweets,entities,lang";

impl XConnector {
    /// One request of a saved search: `GET /2/tweets/search/recent` with the query unchanged,
    /// `since_id` (the newest post of the last finished run) and, while a run pages back,
    /// `next_token`. The newest id of a run's first page becomes `since_id` once its last page
    /// is fetched, so every post is brought in once across polls and pages. The wait before the
    /// search's next request shares X's budget (read from the rate-limit headers) among the
    /// account's searches ([`buzon_core::listening::search_interval`]); a 429 waits for its
    /// reset. An invalid query is X's 400, a permanent error the caller shows.
    pub(crate) async fn run_search(
        &self,
        channel: &Channel,
        credentials: &ChannelCredentials,
        search: &buzon_connector::SearchRequest,
    ) -> Result<buzon_connector::SearchPage, ConnectorError> {
        let user_id = account_id(&channel.platform_id)?;
        let token = credentials.access_token.as_str();
        let url = format!("{}/2/tweets/search/recent", self.api_base());
        let mut query = vec![
            ("query", search.query.as_str()),
            ("max_results", "100"),
            ("tweet.fields", SEARCH_TWEET_FIELDS),
            ("expansions", "author_id"),
            ("user.fields", USER_FIELDS),
        ];
        // Recent search reaches back 7 days and refuses an older `since_id`: a quiet search
        // whose newest post is that old asks without one (the store drops what it has).
        let since_id = search
            .since_id
            .as_deref()
            .filter(|id| is_numeric_id(id))
            .filter(|id| within_recent_search(id, now_unix_secs()));
        if let Some(since_id) = since_id {
            query.push(("since_id", since_id));
        }
        if let Some(next_token) = search.next_token.as_deref() {
            query.push(("next_token", next_token));
        }
        let (body, budget) = self
            .client
            .execute(
                &gate_key(SEARCH, user_id),
                RetryPolicy::READ,
                |client| {
                    client
                        .get(&url)
                        .query(&query)
                        .bearer_auth(token)
                        .timeout(self.settings.request_timeout)
                },
                |raw| x_rate_limit_wait(&raw.headers, now_unix_secs()),
                |raw| {
                    let budget = search_budget(&raw.headers, now_unix_secs());
                    classify(raw, now_unix_secs()).map(|body| (body, budget))
                },
            )
            .await?;
        let meta: PageMeta = serde_json::from_slice(&body).map_err(payload_error)?;
        let next_token = meta.meta.as_ref().and_then(|meta| meta.next_token.clone());
        let ids = page_ids(&meta);
        // The run's newest id: the first page's, kept while the run pages back.
        let mut newest = search.newest_id.clone();
        if search.next_token.is_none() {
            newest = None;
        }
        for id in &ids {
            if newest
                .as_deref()
                .is_none_or(|current| id_is_newer(id, current))
            {
                newest = Some((*id).to_owned());
            }
        }
        let (since_id, newest_id, next_token) = match next_token {
            Some(token) => (search.since_id.clone(), newest, Some(token)),
            None => (
                newest
                    .filter(|newest| {
                        search
                            .since_id
                            .as_deref()
                            .is_none_or(|since| id_is_newer(newest, since))
                    })
                    .or_else(|| search.since_id.clone()),
                None,
                None,
            ),
        };
        Ok(buzon_connector::SearchPage {
            body: (!ids.is_empty()).then(|| PolledBody {
                endpoint: format!("{}{}", crate::timeline::SEARCH_PREFIX, search.id),
                body,
            }),
            since_id,
            newest_id,
            next_token,
            wait: buzon_core::listening::search_interval(budget, search.searches),
        })
    }

    /// Polls mentions (following `next_token` from the cursor on) and one page of DM events.
    ///
    /// Rate limiting is normal operation, not a failure: an endpoint whose budget is spent is
    /// skipped without a request, pages already fetched are still returned (with the old
    /// cursor, so a cut-short paging run is fetched again), and `wait_at_least` says when the
    /// first budget reopens if no endpoint can be polled now. Other errors fail the poll, except
    /// a refused DM read (403: the app or plan lacks DM access), which is logged so that
    /// mentions keep flowing.
    pub(crate) async fn poll_channel(
        &self,
        channel: &Channel,
        credentials: &ChannelCredentials,
        cursor: Option<&str>,
    ) -> Result<PollPage, ConnectorError> {
        let user_id = account_id(&channel.platform_id)?;
        let token = credentials.access_token.as_str();
        let mut page = PollPage::default();

        match self
            .poll_mentions(user_id, token, cursor, &mut page.bodies)
            .await
        {
            Ok(next_cursor) => page.next_cursor = next_cursor,
            Err(ConnectorError::RateLimited { .. }) => {
                tracing::debug!(channel = %channel.id, "x mentions are rate limited");
            }
            Err(err) => return Err(err),
        }

        match self.poll_dm_events(user_id, token).await {
            Ok(Some(body)) => page.bodies.push(body),
            Ok(None) => {}
            Err(ConnectorError::RateLimited { .. }) => {
                tracing::debug!(channel = %channel.id, "x dm events are rate limited");
            }
            Err(ConnectorError::Permanent(reason)) => {
                tracing::warn!(channel = %channel.id, %reason, "x refused to list direct messages");
            }
            Err(err) => return Err(err),
        }

        let gate = self.client.gate();
        let wait = [MENTIONS, DM_EVENTS]
            .iter()
            .map(|endpoint| gate.remaining(&gate_key(endpoint, user_id)))
            .min()
            .unwrap_or_default();
        page.wait_at_least = (!wait.is_zero()).then_some(wait);
        Ok(page)
    }

    /// Fetches mention pages into `bodies` and returns the new cursor: the newest id seen, when
    /// it is newer than `cursor`. With no cursor (a first poll) only one page is fetched.
    async fn poll_mentions(
        &self,
        user_id: &str,
        token: &str,
        cursor: Option<&str>,
        bodies: &mut Vec<PolledBody>,
    ) -> Result<Option<String>, ConnectorError> {
        let since_id = match cursor {
            Some(cursor) if is_numeric_id(cursor) => Some(cursor),
            Some(_) => {
                tracing::warn!("ignoring an x mentions cursor that is not a tweet id");
                None
            }
            None => None,
        };
        let max_pages = if since_id.is_some() {
            MAX_MENTION_PAGES
        } else {
            1
        };
        let url = format!("{}/2/users/{user_id}/mentions", self.api_base());
        let mut newest: Option<String> = None;
        let mut pagination_token: Option<String> = None;
        for _ in 0..max_pages {
            let mut query = vec![
                ("max_results", "100"),
                ("tweet.fields", MENTION_TWEET_FIELDS),
                ("expansions", "author_id"),
                ("user.fields", USER_FIELDS),
            ];
            if let Some(since_id) = since_id {
                query.push(("since_id", since_id));
            }
            if let Some(pagination_token) = pagination_token.as_deref() {
                query.push(("pagination_token", pagination_token));
            }
            let body = self
                .call(MENTIONS, user_id, RetryPolicy::READ, Ok, |client| {
                    client
                        .get(&url)
                        .query(&query)
                        .bearer_auth(token)
                        .timeout(self.settings.request_timeout)
                })
                .await?;
            let meta: PageMeta = serde_json::from_slice(&body).map_err(payload_error)?;
            let ids = page_ids(&meta);
            if ids.is_empty() {
                // `{"meta":{"result_count":0}}`: nothing newer; the loop ends here.
                break;
            }
            for id in ids {
                if newest
                    .as_deref()
                    .is_none_or(|current| id_is_newer(id, current))
                {
                    newest = Some(id.to_owned());
                }
            }
            let next_token = meta.meta.and_then(|meta| meta.next_token);
            bodies.push(PolledBody {
                endpoint: MENTIONS.to_owned(),
                body,
            });
            match next_token {
                Some(token) => pagination_token = Some(token),
                None => break,
            }
        }
        Ok(newest.filter(|newest| since_id.is_none_or(|since_id| id_is_newer(newest, since_id))))
    }

    /// Fetches the newest page of DM events, or `None` when it is empty. Older pages are not
    /// followed: each poll sees the latest 100 events, and the store deduplicates by event id.
    async fn poll_dm_events(
        &self,
        user_id: &str,
        token: &str,
    ) -> Result<Option<PolledBody>, ConnectorError> {
        let url = format!("{}/2/dm_events", self.api_base());
        let query = [
            ("dm_event.fields", DM_EVENT_FIELDS),
            ("event_types", "MessageCreate"),
            ("expansions", "sender_id"),
            ("user.fields", USER_FIELDS),
            ("max_results", "100"),
        ];
        let body = self
            .call(DM_EVENTS, user_id, RetryPolicy::READ, Ok, |client| {
                client
                    .get(&url)
                    .query(&query)
                    .bearer_auth(token)
                    .timeout(self.settings.request_timeout)
            })
            .await?;
        let meta: PageMeta = serde_json::from_slice(&body).map_err(payload_error)?;
        Ok((!page_ids(&meta).is_empty()).then(|| PolledBody {
            endpoint: DM_EVENTS.to_owned(),
            body,
        }))
    }

    /// Sends a reply tweet (`tweet:<…>` threads) or a DM (`dm:<user id>` threads).
    pub(crate) async fn send_reply(
        &self,
        channel: &Channel,
        credentials: &ChannelCredentials,
        reply: &ReplyRequest,
    ) -> Result<SentReply, ConnectorError> {
        let user_id = account_id(&channel.platform_id)?;
        let token = credentials.access_token.as_str();
        if reply.text.trim().is_empty() {
            return Err(ConnectorError::Permanent(
                "x cannot send an empty message (and has no templates)".into(),
            ));
        }
        let platform_id = if reply.thread_key.starts_with("tweet:") {
            let in_reply_to = reply
                .in_reply_to
                .as_ref()
                .filter(|id| is_numeric_id(id.as_str()))
                .ok_or_else(|| {
                    ConnectorError::Permanent(
                        "a reply on x needs the id of the tweet it answers".into(),
                    )
                })?;
            let url = format!("{}/2/tweets", self.api_base());
            let request = CreateTweet {
                text: &reply.text,
                reply: CreateTweetReply {
                    in_reply_to_tweet_id: in_reply_to.as_str(),
                },
            };
            let created: CreatedTweet = self
                .call(
                    "tweets",
                    user_id,
                    RetryPolicy::SEND,
                    |body| parse_sent(&body),
                    |client| {
                        client
                            .post(&url)
                            .json(&request)
                            .bearer_auth(token)
                            .timeout(self.settings.request_timeout)
                    },
                )
                .await?;
            created.data.id
        } else if let Some(participant) = reply.thread_key.strip_prefix("dm:") {
            if !is_numeric_id(participant) {
                return Err(ConnectorError::Permanent(
                    "this x conversation has no known participant to message".into(),
                ));
            }
            let url = format!(
                "{}/2/dm_conversations/with/{participant}/messages",
                self.api_base()
            );
            let request = CreateDirectMessage { text: &reply.text };
            let created: CreatedDirectMessage = self
                .call(
                    "dm_conversations",
                    user_id,
                    RetryPolicy::SEND,
                    |body| parse_sent(&body),
                    |client| {
                        client
                            .post(&url)
                            .json(&request)
                            .bearer_auth(token)
                            .timeout(self.settings.request_timeout)
                    },
                )
                .await?;
            created.data.dm_event_id
        } else {
            return Err(ConnectorError::Permanent(
                "not an x thread key (expected tweet:<id> or dm:<user id>)".into(),
            ));
        };
        let platform_id = ExternalId::parse(platform_id).map_err(|_| {
            ConnectorError::Unknown("x accepted the send but returned an unusable id".into())
        })?;
        tracing::debug!(channel = %channel.id, %platform_id, "sent an x reply");
        Ok(SentReply { platform_id })
    }

    /// Hides or unhides a reply (`PUT /2/tweets/:id/hidden`).
    pub(crate) async fn hide_reply(
        &self,
        channel: &Channel,
        credentials: &ChannelCredentials,
        platform_id: &ExternalId,
        action: Moderation,
    ) -> Result<(), ConnectorError> {
        let user_id = account_id(&channel.platform_id)?;
        if !is_numeric_id(platform_id.as_str()) {
            return Err(ConnectorError::Permanent("not an x tweet id".into()));
        }
        let token = credentials.access_token.as_str();
        let hidden = action == Moderation::Hide;
        let url = format!("{}/2/tweets/{platform_id}/hidden", self.api_base());
        let answer: HiddenResponse = self
            .call(
                "hidden",
                user_id,
                RetryPolicy::READ,
                |body| parse_json(&body),
                |client| {
                    client
                        .put(&url)
                        .json(&Hidden { hidden })
                        .bearer_auth(token)
                        .timeout(self.settings.request_timeout)
                },
            )
            .await?;
        if answer.data.hidden != hidden {
            return Err(ConnectorError::Payload(format!(
                "x answered hidden={} to a request for hidden={hidden}",
                answer.data.hidden
            )));
        }
        Ok(())
    }

    /// One call through the shared client: gate `x:<endpoint>:<user_id>`, X's rate-limit
    /// headers observed, the answer classified and a success read with `parse`.
    async fn call<T>(
        &self,
        endpoint: &str,
        user_id: &str,
        policy: RetryPolicy,
        parse: impl Fn(Vec<u8>) -> Result<T, ConnectorError>,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<T, ConnectorError> {
        self.client
            .execute(
                &gate_key(endpoint, user_id),
                policy,
                build,
                |raw| x_rate_limit_wait(&raw.headers, now_unix_secs()),
                |raw| classify(raw, now_unix_secs()).and_then(&parse),
            )
            .await
    }

    fn api_base(&self) -> &str {
        self.settings.api_base.trim_end_matches('/')
    }
}

/// Whether a post id (a snowflake: milliseconds since 2010-11-04 in its upper bits) is
/// younger than recent search's 7 days, with an hour's margin.
fn within_recent_search(id: &str, now_unix_secs: i64) -> bool {
    const TWEPOCH_MILLIS: i64 = 1_288_834_974_657;
    const REACH_MILLIS: i64 = 7 * 86_400_000 - 3_600_000;
    match id.parse::<u64>() {
        Ok(id) => {
            let written = (id >> 22) as i64 + TWEPOCH_MILLIS;
            now_unix_secs * 1000 - written < REACH_MILLIS
        }
        Err(_) => false,
    }
}

/// What `x-rate-limit-limit`, `-remaining` and `-reset` say, when all three are there.
fn search_budget(
    headers: &buzon_connector::HeaderMap,
    now_unix_secs: i64,
) -> Option<buzon_core::listening::SearchBudget> {
    let number =
        |name: &str| -> Option<i64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
    let limit = u32::try_from(number("x-rate-limit-limit")?).ok()?;
    let remaining = u32::try_from(number("x-rate-limit-remaining")?).ok()?;
    let reset = number("x-rate-limit-reset")?;
    Some(buzon_core::listening::SearchBudget {
        limit,
        remaining,
        resets_in: Duration::from_secs(u64::try_from(reset - now_unix_secs).unwrap_or(0)),
    })
}

/// The rate-limit gate of one endpoint for one account.
pub(crate) fn gate_key(endpoint: &str, user_id: &str) -> String {
    format!("x:{endpoint}:{user_id}")
}

/// Reads an X answer: 2xx is success (even with partial `errors[]` beside `data`); a usage
/// cap is `QuotaExhausted`; 429 or legacy code 88 is `RateLimited` until `x-rate-limit-reset`;
/// 401 is `AuthExpired`; 5xx is `Retryable`; anything else (403 reply gating, duplicate
/// content, 400, 404) is `Permanent`.
pub(crate) fn classify(raw: RawResponse, now_unix_secs: i64) -> Result<Vec<u8>, ConnectorError> {
    let status = raw.status;
    let problem: Problem = serde_json::from_slice(&raw.body).unwrap_or_default();
    if (200..300).contains(&status) {
        if only_errors(&raw.body) {
            return Err(ConnectorError::Permanent(format!(
                "x answered {status} with errors only: {}",
                describe(&problem)
            )));
        }
        return Ok(raw.body);
    }
    if is_usage_capped(&problem) {
        return Err(ConnectorError::QuotaExhausted(describe(&problem)));
    }
    if status == 429 || problem.errors.iter().any(|error| error.code == Some(88)) {
        return Err(ConnectorError::RateLimited {
            reason: format!("x answered {status}: {}", describe(&problem)),
            retry_after: Some(reset_wait(&raw, now_unix_secs).unwrap_or(DEFAULT_RATE_LIMIT_WAIT)),
        });
    }
    let reason = format!("x answered {status}: {}", describe(&problem));
    Err(match status {
        401 => ConnectorError::AuthExpired(reason),
        500..=599 => ConnectorError::Retryable {
            reason,
            retry_after: None,
        },
        _ => ConnectorError::Permanent(reason),
    })
}

/// The seconds until `x-rate-limit-reset`, plus one of slack (as `x_rate_limit_wait` counts).
fn reset_wait(raw: &RawResponse, now_unix_secs: i64) -> Option<Duration> {
    let reset: i64 = raw
        .headers
        .get("x-rate-limit-reset")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(
        (reset - now_unix_secs).max(0).unsigned_abs() + 1,
    ))
}

/// A problem whose `type` ends in `/problems/usage-capped` (host `api.twitter.com` or
/// `api.x.com`), at the top or in `errors[]`.
fn is_usage_capped(problem: &Problem) -> bool {
    let capped = |problem_type: Option<&str>| {
        problem_type.is_some_and(|problem_type| problem_type.ends_with("/problems/usage-capped"))
    };
    capped(problem.problem_type.as_deref())
        || problem
            .errors
            .iter()
            .any(|error| capped(error.problem_type.as_deref()))
}

/// A 2xx body with `errors[]` and neither `data` nor `meta`: nothing was returned at all.
fn only_errors(body: &[u8]) -> bool {
    let Ok(serde_json::Value::Object(object)) = serde_json::from_slice(body) else {
        return false;
    };
    object
        .get("errors")
        .and_then(serde_json::Value::as_array)
        .is_some_and(|errors| !errors.is_empty())
        && !object.contains_key("data")
        && !object.contains_key("meta")
}

/// The problem's own words (X's detail or title), bounded. They describe the failure, never
/// repeat message text.
fn describe(problem: &Problem) -> String {
    let first = problem.errors.first();
    let text = problem
        .detail
        .as_deref()
        .or(problem.title.as_deref())
        .or(first.and_then(|error| error.detail.as_deref()))
        .or(first.and_then(|error| error.message.as_deref()))
        .or(first.and_then(|error| error.title.as_deref()))
        .unwrap_or("no details");
    text.chars().take(200).collect()
}

/// The ids of a page's tweets or events, and its `meta.newest_id`; empty for an empty page.
fn page_ids(page: &PageMeta) -> Vec<&str> {
    let mut ids: Vec<&str> = page
        .data
        .as_ref()
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|item| item.get("id").and_then(serde_json::Value::as_str))
        .filter(|id| is_numeric_id(id))
        .collect();
    if !ids.is_empty() {
        if let Some(newest) = page
            .meta
            .as_ref()
            .and_then(|meta| meta.newest_id.as_deref())
        {
            if is_numeric_id(newest) {
                ids.push(newest);
            }
        }
    }
    ids
}

fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ConnectorError> {
    serde_json::from_slice(body).map_err(payload_error)
}

/// Reads the answer to a send. X has acted by then, so an unreadable answer is an unknown
/// outcome, not a failure to retry.
fn parse_sent<T: DeserializeOwned>(body: &[u8]) -> Result<T, ConnectorError> {
    serde_json::from_slice(body).map_err(|_| {
        ConnectorError::Unknown("x accepted the send but its answer could not be read".into())
    })
}

/// The channel's X user id, checked before it goes into a URL.
fn account_id(platform_id: &ExternalId) -> Result<&str, ConnectorError> {
    let user_id = platform_id.as_str();
    if is_numeric_id(user_id) {
        Ok(user_id)
    } else {
        Err(ConnectorError::Permanent(
            "the channel's x user id is not numeric".into(),
        ))
    }
}

fn now_unix_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|since| since.as_secs() as i64)
        .unwrap_or_default()
}

#[cfg(test)]
mod search_cursor_tests {
    #[test]
    fn a_since_id_older_than_recent_searchs_week_is_not_sent() {
        // 2129700704321800238 was written on 2026-12-06 at about 22:13 UTC.
        let written = 1_796_595_190;
        assert!(super::within_recent_search(
            "2129700704321800238",
            written + 86_400
        ));
        assert!(super::within_recent_search(
            "2129700704321800238",
            written + 6 * 86_400
        ));
        assert!(!super::within_recent_search(
            "2129700704321800238",
            written + 7 * 86_400
        ));
        assert!(!super::within_recent_search("not-an-id", written));
    }
}
