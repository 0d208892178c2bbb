//! buzon-facebook: the Facebook Page connector. It verifies and parses Page webhooks (`feed`
//! comments and visitor posts, Messenger messages), polls a Page's recent posts for comments,
//! replies to comments and Messenger threads, hides or shows comments, and asks the User
//! Profile API for a Messenger sender's name, all through the Graph API.
//!
//! Every part of a delivery becomes exactly one outcome: something to store, a known event
//! named from [`KNOWN_EVENTS`], or an unrecognized part; `normalize` (the private module of
//! that name) says which variants it accepts and where each came from.
//!
//! It is the only crate that knows Meta's Page and Messenger JSON. It must not depend on the
//! store or the web crate, and it never logs tokens or message text.

#![forbid(unsafe_code)]

mod graph;
mod listening;
mod login;
mod normalize;
mod wire;

pub use graph::classify_graph_error;
pub use normalize::KNOWN_EVENTS;

use buzon_connector::{
    constant_time_eq, hmac_sha256, meta_usage_wait, Connector, ConnectorError, HeaderMap,
    HttpClient, Moderation, Origin, Part, PollPage, PolledBody, Profile, RawResponse, ReplyRequest,
    RetryPolicy, SentReply,
};
use buzon_core::{Channel, ChannelCredentials, ChannelKind, ExternalId};
use graph::{path_segment, read_answer, read_profile, read_raw};
use normalize::{COMMENTS_ENDPOINT_PREFIX, FEED_ENDPOINT};
use std::fmt;
use std::time::Duration;

/// The connector's share of the configuration.
#[derive(Clone)]
pub struct FacebookSettings {
    /// The Graph API base URL with its version, e.g. `https://graph.facebook.com/v21.0`.
    pub api_base: String,
    /// The Meta app secret that signs webhooks; without it every webhook is refused.
    pub app_secret: Option<String>,
    /// The longest one Graph request may take.
    pub request_timeout: Duration,
}

impl Default for FacebookSettings {
    fn default() -> FacebookSettings {
        FacebookSettings {
            api_base: "https://graph.facebook.com/v21.0".to_owned(),
            app_secret: None,
            request_timeout: Duration::from_secs(15),
        }
    }
}

impl fmt::Debug for FacebookSettings {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("FacebookSettings")
            .field("api_base", &self.api_base)
            .field(
                "app_secret",
                &self.app_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("request_timeout", &self.request_timeout)
            .finish()
    }
}

/// Facebook Pages and Messenger, as a [`Connector`].
#[derive(Debug, Clone)]
pub struct FacebookConnector {
    settings: FacebookSettings,
    client: HttpClient,
}

/// The Page webhook fields buzon reads, subscribed when a Page is connected.
const SUBSCRIBED_FIELDS: &str =
    "feed,mention,ratings,messages,message_echoes,message_edits,message_reactions,messaging_postbacks";

/// How many recent Page posts a poll looks at for new comments.
const POLLED_POSTS: u32 = 10;
/// How many comments one comments page holds.
const COMMENTS_PER_PAGE: u32 = 100;
/// How many comments pages of one post a poll follows when it has a cursor.
const MAX_COMMENT_PAGES: usize = 5;
/// Hiding is a state, so repeating it is harmless; otherwise as patient as a send.
const MODERATE_POLICY: RetryPolicy = RetryPolicy {
    idempotent: true,
    ..RetryPolicy::SEND
};

impl FacebookConnector {
    /// A connector that calls Graph at `settings.api_base` through `client`.
    pub fn new(settings: FacebookSettings, client: HttpClient) -> FacebookConnector {
        FacebookConnector { settings, client }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.settings.api_base.trim_end_matches('/'))
    }

    /// One Graph call under the Page's rate-limit gate. Returns the parsed answer and how long
    /// the usage headers ask us to hold back.
    async fn call<T>(
        &self,
        page_id: &str,
        policy: RetryPolicy,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
        read: impl Fn(RawResponse) -> Result<T, ConnectorError>,
    ) -> Result<(T, Option<Duration>), ConnectorError> {
        let timeout = self.settings.request_timeout;
        self.client
            .execute(
                &format!("facebook:{page_id}"),
                policy,
                |client| build(client).timeout(timeout),
                |raw| meta_usage_wait(&raw.headers),
                |raw: RawResponse| {
                    let wait = meta_usage_wait(&raw.headers);
                    read(raw).map(|value| (value, wait))
                },
            )
            .await
    }

    /// `GET /{object-id}/comments`, newest first, replies included, since `since` when set.
    async fn comments_page(
        &self,
        page_id: &str,
        token: &str,
        post_id: &str,
        since: Option<i64>,
        after: Option<&str>,
    ) -> Result<(Vec<u8>, Option<Duration>), ConnectorError> {
        let url = self.url(&format!("{}/comments", path_segment(post_id)?));
        let mut query = vec![
            ("filter", "stream".to_owned()),
            ("order", "reverse_chronological".to_owned()),
            (
                "fields",
                "id,message,created_time,from,parent{id}".to_owned(),
            ),
            ("limit", COMMENTS_PER_PAGE.to_string()),
        ];
        if let Some(since) = since {
            query.push(("since", since.to_string()));
        }
        if let Some(after) = after {
            query.push(("after", after.to_owned()));
        }
        let (body, wait) = self
            .call(
                page_id,
                RetryPolicy::READ,
                |client| client.get(&url).bearer_auth(token).query(&query),
                read_raw,
            )
            .await?;
        Ok((body, wait))
    }

    async fn post_comment(
        &self,
        page_id: &str,
        token: &str,
        object_id: &str,
        text: &str,
    ) -> Result<SentReply, ConnectorError> {
        let url = self.url(&format!("{}/comments", path_segment(object_id)?));
        let request = wire::CommentRequest { message: text };
        let (created, _): (wire::CreatedObject, _) = self
            .call(
                page_id,
                RetryPolicy::SEND,
                |client| client.post(&url).bearer_auth(token).json(&request),
                |raw| read_answer(raw, ConnectorError::Unknown),
            )
            .await?;
        sent(created.id)
    }

    /// One page of a listening edge (`tagged` or `ratings`) of the Page, as a polled body;
    /// `None` when Graph refuses it (a token without the permission, an edge the Page does not
    /// have): listening is then quiet, and the feed is still polled.
    async fn listening_edge(
        &self,
        page_id: &str,
        token: &str,
        edge: &str,
        fields: &str,
    ) -> Result<(Option<PolledBody>, Option<Duration>), ConnectorError> {
        let url = self.url(&format!("{page_id}/{edge}"));
        let query = [("fields", fields), ("limit", "25")];
        match self
            .call(
                page_id,
                RetryPolicy::READ,
                |client| client.get(&url).bearer_auth(token).query(&query),
                read_raw,
            )
            .await
        {
            Ok((body, wait)) => Ok((
                Some(PolledBody {
                    endpoint: edge.to_owned(),
                    body,
                }),
                wait,
            )),
            Err(ConnectorError::Permanent(reason)) => {
                tracing::info!(edge, %reason, "Graph refused a listening edge; skipped");
                Ok((None, None))
            }
            Err(err) => Err(err),
        }
    }

    async fn send_messenger(
        &self,
        page_id: &str,
        token: &str,
        psid: &str,
        text: &str,
    ) -> Result<SentReply, ConnectorError> {
        let url = self.url(&format!("{page_id}/messages"));
        let request = wire::SendMessageRequest {
            recipient: wire::Recipient { id: psid },
            messaging_type: "RESPONSE",
            message: wire::TextMessage { text },
        };
        let (answer, _): (wire::SendMessageResponse, _) = self
            .call(
                page_id,
                RetryPolicy::SEND,
                |client| client.post(&url).bearer_auth(token).json(&request),
                |raw| read_answer(raw, ConnectorError::Unknown),
            )
            .await?;
        sent(answer.message_id)
    }
}

#[async_trait::async_trait]
impl Connector for FacebookConnector {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Facebook
    }

    fn verify_webhook(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), ConnectorError> {
        let secret = self
            .settings
            .app_secret
            .as_deref()
            .filter(|secret| !secret.is_empty())
            .ok_or(ConnectorError::BadSignature)?;
        let claimed = headers
            .get("x-hub-signature-256")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().strip_prefix("sha256="))
            .and_then(|digits| hex::decode(digits).ok())
            .ok_or(ConnectorError::BadSignature)?;
        let expected = hmac_sha256(secret.as_bytes(), body);
        if constant_time_eq(&claimed, &expected) {
            Ok(())
        } else {
            Err(ConnectorError::BadSignature)
        }
    }

    fn normalize(&self, origin: Origin<'_>, body: &[u8]) -> Result<Vec<Part>, ConnectorError> {
        match origin {
            Origin::Webhook => normalize::webhook(body),
            Origin::Poll { endpoint, account } => normalize::polled(endpoint, account, body),
        }
    }

    fn known_events(&self) -> &'static [&'static str] {
        KNOWN_EVENTS
    }

    /// The User Profile API: `GET /{psid}?fields=first_name,last_name,profile_pic` with the
    /// Page token (<https://developers.facebook.com/docs/messenger-platform/identity/user-profile>).
    /// `Ok(None)` when Graph has no name for the PSID, including its "(#100) No profile
    /// available for this user" (code 100, subcode 2018218: a person with Messenger but no
    /// Facebook account).
    #[tracing::instrument(skip_all, fields(platform = "facebook", channel = %channel.id))]
    async fn fetch_profile(
        &self,
        channel: &Channel,
        credentials: &ChannelCredentials,
        person: &ExternalId,
    ) -> Result<Option<Profile>, ConnectorError> {
        let page_id = path_segment(channel.platform_id.as_str())?;
        let url = self.url(path_segment(person.as_str())?);
        let token = credentials.access_token.as_str();
        let query = [("fields", "first_name,last_name,profile_pic")];
        let (profile, _) = self
            .call(
                page_id,
                RetryPolicy::READ,
                |client| client.get(&url).bearer_auth(token).query(&query),
                read_profile,
            )
            .await?;
        Ok(profile)
    }

    #[tracing::instrument(skip_all, fields(platform = "facebook", channel = %channel.id))]
    async fn poll(
        &self,
        channel: &Channel,
        credentials: &ChannelCredentials,
        cursor: Option<&str>,
    ) -> Result<PollPage, ConnectorError> {
        let page_id = path_segment(channel.platform_id.as_str())?;
        let token = credentials.access_token.as_str();
        // An unreadable cursor is treated as none: the comments are fetched again and the
        // store drops the duplicates.
        let since: Option<i64> = cursor.and_then(|cursor| cursor.trim().parse().ok());
        let feed_url = self.url(&format!("{page_id}/feed"));
        let feed_query = [
            ("fields", "id,message,created_time,from".to_owned()),
            ("limit", POLLED_POSTS.to_string()),
        ];
        let (feed_body, feed_wait) = self
            .call(
                page_id,
                RetryPolicy::READ,
                |client| client.get(&feed_url).bearer_auth(token).query(&feed_query),
                read_raw,
            )
            .await?;
        let feed: wire::GraphList<serde_json::Value> = serde_json::from_slice(&feed_body)
            .map_err(|_| ConnectorError::Payload("the feed page has an unexpected shape".into()))?;
        // A post whose id cannot be read has no comments to ask for; the feed page itself
        // keeps it (its part is unrecognized when the page is normalized).
        let post_ids: Vec<String> = feed.data.iter().filter_map(object_id).collect();
        let mut wait_at_least = feed_wait;
        let mut newest = since;
        let mut bodies = vec![PolledBody {
            endpoint: FEED_ENDPOINT.to_owned(),
            body: feed_body,
        }];
        let mut throttled = false;
        'posts: for post_id in &post_ids {
            let post_id = post_id.as_str();
            let mut after: Option<String> = None;
            for _ in 0..MAX_COMMENT_PAGES {
                let answer = self
                    .comments_page(page_id, token, post_id, since, after.as_deref())
                    .await;
                let (body, wait) = match answer {
                    Ok(answer) => answer,
                    // Keep what was fetched, but not a cursor that would skip the posts not
                    // read yet; the next poll starts from the old cursor.
                    Err(ConnectorError::RateLimited { retry_after, .. }) => {
                        throttled = true;
                        let wait = retry_after.unwrap_or(graph::DEFAULT_RATE_LIMIT_WAIT);
                        wait_at_least = wait_at_least.max(Some(wait));
                        break 'posts;
                    }
                    // A post deleted since the feed was read, or one the token may not
                    // read: skip it, or it would block the channel forever.
                    Err(ConnectorError::Permanent(reason)) => {
                        tracing::debug!(post = post_id, %reason, "skipping a post's comments");
                        continue 'posts;
                    }
                    Err(err) => return Err(err),
                };
                wait_at_least = wait_at_least.max(wait);
                let comments: wire::GraphList<serde_json::Value> = serde_json::from_slice(&body)
                    .map_err(|_| {
                        ConnectorError::Payload("a comments page has an unexpected shape".into())
                    })?;
                let page_newest = comments
                    .data
                    .iter()
                    .filter_map(object_time)
                    .map(|time| time.as_millis().div_euclid(1000))
                    .max();
                newest = newest.max(page_newest);
                // Without a cursor only the newest page is wanted; with one, older pages
                // may still hold comments newer than the cursor.
                after = comments
                    .paging
                    .filter(|paging| paging.next.is_some() && since.is_some())
                    .and_then(|paging| paging.cursors)
                    .and_then(|cursors| cursors.after);
                let empty = comments.data.is_empty();
                bodies.push(PolledBody {
                    endpoint: format!("{COMMENTS_ENDPOINT_PREFIX}{post_id}"),
                    body,
                });
                if empty || after.is_none() {
                    break;
                }
            }
        }
        // Listening: what webhooks may have missed of the Page's mentions elsewhere and its
        // reviews (the store drops what it already has).
        if !throttled {
            for (edge, fields) in [
                (listening::TAGGED_ENDPOINT, listening::TAGGED_FIELDS),
                (listening::RATINGS_ENDPOINT, listening::RATINGS_FIELDS),
            ] {
                match self.listening_edge(page_id, token, edge, fields).await {
                    Ok((body, wait)) => {
                        wait_at_least = wait_at_least.max(wait);
                        bodies.extend(body);
                    }
                    Err(ConnectorError::RateLimited { retry_after, .. }) => {
                        let wait = retry_after.unwrap_or(graph::DEFAULT_RATE_LIMIT_WAIT);
                        wait_at_least = wait_at_least.max(Some(wait));
                        break;
                    }
                    Err(err) => return Err(err),
                }
            }
        }
        tracing::debug!(
            posts = post_ids.len(),
            pages = bodies.len(),
            "polled the Page"
        );
        Ok(PollPage {
            bodies,
            next_cursor: newest
                .filter(|newest| !throttled && Some(*newest) != since)
                .map(|newest| newest.to_string()),
            wait_at_least,
        })
    }

    /// `GET /{id}?fields=id,message,from,created_time,permalink_url` for each mentioning
    /// post or comment, with the Page token.
    #[tracing::instrument(skip_all, fields(platform = "facebook", channel = %channel.id))]
    async fn fetch_objects(
        &self,
        channel: &Channel,
        credentials: &ChannelCredentials,
        objects: &[ExternalId],
    ) -> Vec<buzon_connector::Fetched> {
        let token = credentials.access_token.as_str();
        let mut fetched = Vec::with_capacity(objects.len());
        for object_id in objects {
            let outcome = async {
                let page_id = path_segment(channel.platform_id.as_str())?;
                let url = self.url(path_segment(object_id.as_str())?);
                let query = [("fields", listening::OBJECT_FIELDS)];
                let (body, _) = self
                    .call(
                        page_id,
                        RetryPolicy::READ,
                        |client| client.get(&url).bearer_auth(token).query(&query),
                        read_raw,
                    )
                    .await?;
                Ok(PolledBody {
                    endpoint: listening::OBJECT_ENDPOINT.to_owned(),
                    body,
                })
            }
            .await;
            fetched.push(buzon_connector::Fetched {
                object_id: object_id.clone(),
                outcome,
            });
        }
        fetched
    }

    /// The Page installs the app for the fields buzon reads:
    /// `POST /{page-id}/subscribed_apps?subscribed_fields=feed,mention,ratings,messages,…`
    /// (PLATFORMS.md A.2, A.3b).
    async fn after_connect(
        &self,
        platform_id: &ExternalId,
        credentials: &ChannelCredentials,
    ) -> Result<(), ConnectorError> {
        let page_id = path_segment(platform_id.as_str())?;
        let url = self.url(&format!("{page_id}/subscribed_apps"));
        let token = credentials.access_token.as_str();
        let query = [("subscribed_fields", SUBSCRIBED_FIELDS)];
        let (answer, _): (wire::SuccessResponse, _) = self
            .call(
                page_id,
                RetryPolicy::READ,
                |client| client.post(&url).bearer_auth(token).query(&query),
                |raw| read_answer(raw, ConnectorError::Payload),
            )
            .await?;
        if answer.success {
            Ok(())
        } else {
            Err(ConnectorError::Permanent(
                "Graph did not confirm the webhook subscription".to_owned(),
            ))
        }
    }

    #[tracing::instrument(skip_all, fields(platform = "facebook", channel = %channel.id))]
    async fn send(
        &self,
        channel: &Channel,
        credentials: &ChannelCredentials,
        reply: &ReplyRequest,
    ) -> Result<SentReply, ConnectorError> {
        if reply.template.is_some() {
            return Err(ConnectorError::Permanent(
                "message templates are not available on Facebook".to_owned(),
            ));
        }
        if reply.text.trim().is_empty() {
            return Err(ConnectorError::Permanent(
                "the reply has no text".to_owned(),
            ));
        }
        let page_id = path_segment(channel.platform_id.as_str())?;
        let token = credentials.access_token.as_str();
        let (kind, target) = reply.thread_key.split_once(':').ok_or_else(|| {
            ConnectorError::Permanent("the conversation has no Facebook thread key".to_owned())
        })?;
        match kind {
            // A mention elsewhere and a review are answered with a comment on them too.
            "comment" | "post" | "mention" | "review" => {
                self.post_comment(page_id, token, target, &reply.text).await
            }
            "messenger" => {
                self.send_messenger(page_id, token, path_segment(target)?, &reply.text)
                    .await
            }
            _ => Err(ConnectorError::Permanent(
                "the conversation has no Facebook thread key".to_owned(),
            )),
        }
    }

    #[tracing::instrument(skip_all, fields(platform = "facebook", channel = %channel.id, message = %platform_id))]
    async fn moderate(
        &self,
        channel: &Channel,
        credentials: &ChannelCredentials,
        platform_id: &ExternalId,
        action: Moderation,
    ) -> Result<(), ConnectorError> {
        let page_id = path_segment(channel.platform_id.as_str())?;
        let url = self.url(path_segment(platform_id.as_str())?);
        let token = credentials.access_token.as_str();
        let request = wire::HideRequest {
            is_hidden: action == Moderation::Hide,
        };
        let (answer, _): (wire::SuccessResponse, _) = self
            .call(
                page_id,
                MODERATE_POLICY,
                |client| client.post(&url).bearer_auth(token).json(&request),
                |raw| read_answer(raw, ConnectorError::Payload),
            )
            .await?;
        if answer.success {
            Ok(())
        } else {
            Err(ConnectorError::Permanent(
                "Graph did not confirm the change of visibility".to_owned(),
            ))
        }
    }

    async fn check_credentials(
        &self,
        platform_id: &ExternalId,
        credentials: &ChannelCredentials,
    ) -> Result<String, ConnectorError> {
        self.check_page(platform_id, credentials).await
    }

    async fn granted_accounts(
        &self,
        app: &buzon_connector::OAuthApp,
        tokens: &buzon_connector::OAuthTokens,
    ) -> Result<Vec<buzon_connector::GrantedAccount>, ConnectorError> {
        self.pages_of(app, tokens).await
    }
}

/// The `id` of a polled Graph object, when it has a readable one.
fn object_id(object: &serde_json::Value) -> Option<String> {
    match object.get("id")? {
        serde_json::Value::String(id) => Some(id.clone()),
        serde_json::Value::Number(id) if id.is_u64() || id.is_i64() => Some(id.to_string()),
        _ => None,
    }
}

/// The `created_time` of a polled Graph object, when it has a readable one.
fn object_time(object: &serde_json::Value) -> Option<buzon_core::Timestamp> {
    let time = object.get("created_time")?;
    serde_json::from_value::<wire::FlexTime>(time.clone())
        .ok()
        .map(|wire::FlexTime(time)| time)
}

fn sent(id: wire::FlexId) -> Result<SentReply, ConnectorError> {
    ExternalId::parse(id.0)
        .map(|platform_id| SentReply { platform_id })
        .map_err(|_| {
            ConnectorError::Unknown("Graph accepted the reply but gave no valid id".to_owned())
        })
}

#[cfg(test)]
mod tests;
