//! The workers: the normalizer (inbound event log → messages), the pollers (one lease per
//! channel across all nodes) and the outbox dispatcher. Each claims its work with leases, so
//! any number of nodes can run them side by side.

use buzon_connector::{
    Connector, ConnectorError, HttpClient, InboundItem, MessageKind, Moderation, OAuthApp, Origin,
    PlatformMessage, ReplyRequest,
};
use buzon_core::*;
use buzon_store::{Store, StoreError};
use buzon_web::Metrics;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};
use tracing::Instrument;

/// How the workers behave.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// This node's name, the owner of its leases.
    pub node_id: String,
    /// Seconds between polls of one channel.
    pub poll_interval: Duration,
    /// How long a claim or lease lasts.
    pub lease: Duration,
    /// How long a reply keeps being retried before it is given up.
    pub send_give_up: Duration,
    /// X's OAuth 2.0 client, to refresh access tokens before they expire.
    pub x_oauth: Option<OAuthApp>,
}

/// An X access token is refreshed when it expires within this margin.
const REFRESH_MARGIN_MILLIS: i64 = 10 * 60 * 1000;

/// The connectors by platform.
pub type Connectors = HashMap<ChannelKind, Arc<dyn Connector>>;

/// Everything the workers share.
#[derive(Clone)]
pub struct Workers {
    store: Store,
    connectors: Connectors,
    metrics: Metrics,
    config: WorkerConfig,
    wake: Arc<Notify>,
    oauth_http: HttpClient,
}

impl Workers {
    /// Workers over `store` with `connectors`; `wake` is notified when new work arrives.
    pub fn new(
        store: Store,
        connectors: Connectors,
        metrics: Metrics,
        config: WorkerConfig,
        wake: Arc<Notify>,
    ) -> Workers {
        Workers {
            store,
            connectors,
            metrics,
            config,
            wake,
            oauth_http: HttpClient::new(Duration::from_secs(20)),
        }
    }

    /// Runs every worker until `stop` turns true, then returns once they have finished the
    /// item in hand.
    pub async fn run(self, stop: watch::Receiver<bool>) {
        let normalizer = tokio::spawn(self.clone().loop_normalizer(stop.clone()));
        let dispatcher = tokio::spawn(self.clone().loop_dispatcher(stop.clone()));
        let pollers = tokio::spawn(self.clone().loop_pollers(stop.clone()));
        let _ = tokio::join!(normalizer, dispatcher, pollers);
    }

    fn lease_until(&self, now: Timestamp) -> Timestamp {
        now.plus_millis(self.config.lease.as_millis() as i64)
    }

    async fn idle(&self, stop: &mut watch::Receiver<bool>, wait: Duration) -> bool {
        tokio::select! {
            _ = stop.changed() => {}
            () = self.wake.notified() => {}
            () = tokio::time::sleep(wait) => {}
        }
        *stop.borrow()
    }

    async fn loop_normalizer(self, mut stop: watch::Receiver<bool>) {
        while !*stop.borrow() {
            let worked = match self.normalize_once().await {
                Ok(count) => count > 0,
                Err(err) => {
                    tracing::warn!(error = %err, "normalizer: store unavailable");
                    false
                }
            };
            if !worked && self.idle(&mut stop, Duration::from_millis(500)).await {
                break;
            }
        }
    }

    /// Claims and processes one batch of inbound events; returns how many.
    pub async fn normalize_once(&self) -> Result<usize, StoreError> {
        let now = Timestamp::now();
        let events = self
            .store
            .claim_inbound_events(&self.config.node_id, 25, now, self.lease_until(now))
            .await?;
        for event in &events {
            let span = tracing::info_span!("event", event.id = %event.id, platform = %event.source);
            match self.process_event(event).instrument(span).await {
                Ok(()) => {
                    self.store
                        .complete_inbound_event(event.id, &self.config.node_id)
                        .await?;
                }
                Err(EventError::NotUnderstood(reason)) => {
                    tracing::warn!(reason = %reason, "inbound event not understood; kept for replay");
                    self.store
                        .fail_inbound_event(event.id, &self.config.node_id, &reason)
                        .await?;
                }
                Err(EventError::Store(err)) => return Err(err),
            }
        }
        Ok(events.len())
    }

    async fn process_event(&self, event: &InboundEvent) -> Result<(), EventError> {
        let Some(connector) = self.connectors.get(&event.source) else {
            return Err(EventError::NotUnderstood(format!(
                "no {} connector in this build",
                event.source
            )));
        };
        let channel = match event.channel_id {
            Some(id) => Some(self.store.channel(id).await?),
            None => None,
        };
        let origin = match (event.origin.strip_prefix("poll:"), &channel) {
            (Some(endpoint), Some(channel)) => Origin::Poll {
                endpoint,
                account: &channel.platform_id,
            },
            (Some(_), None) => {
                return Err(EventError::NotUnderstood(
                    "a polled page without its channel".into(),
                ))
            }
            (None, _) => Origin::Webhook,
        };
        let items = connector
            .normalize(origin, &event.body)
            .map_err(|err| EventError::NotUnderstood(err.to_string()))?;
        let mut channels: HashMap<String, Option<Channel>> = HashMap::new();
        for item in items {
            self.apply_item(event.source, item, &mut channels).await?;
        }
        Ok(())
    }

    async fn channel_for(
        &self,
        kind: ChannelKind,
        account: &ExternalId,
        cache: &mut HashMap<String, Option<Channel>>,
    ) -> Result<Option<Channel>, StoreError> {
        if let Some(found) = cache.get(account.as_str()) {
            return Ok(found.clone());
        }
        let found = self
            .store
            .channel_by_platform_id(kind, account.as_str())
            .await?;
        match &found {
            // Something arrived for the channel: its health shows when it last heard anything.
            Some(channel) => self.store.touch_channel(channel.id).await?,
            None => {
                tracing::info!(platform = %kind, "inbound item for an account with no channel here; skipped")
            }
        }
        cache.insert(account.as_str().to_owned(), found.clone());
        Ok(found)
    }

    async fn apply_item(
        &self,
        kind: ChannelKind,
        item: InboundItem,
        cache: &mut HashMap<String, Option<Channel>>,
    ) -> Result<(), StoreError> {
        match item {
            InboundItem::Message(message) => {
                if let Some(channel) = self.channel_for(kind, &message.account, cache).await? {
                    let public = matches!(
                        message.kind,
                        MessageKind::Comment | MessageKind::Post | MessageKind::Mention
                    );
                    let outcome = self
                        .store
                        .ingest_message(&to_new_message(&channel, message))
                        .await?;
                    if let IngestOutcome::Inserted { message_id, .. } = outcome {
                        // An optional per-channel rule: new public comments of trolls and
                        // spammers are hidden on the platform (through the outbox, as always).
                        if public
                            && channel.auto_hide_flagged
                            && self.store.author_flagged(message_id).await?
                        {
                            self.store.queue_moderation(message_id, true).await?;
                            self.wake.notify_waiters();
                        }
                    }
                }
            }
            InboundItem::Edited(message) => {
                if let Some(channel) = self.channel_for(kind, &message.account, cache).await? {
                    if !self
                        .store
                        .apply_edit(channel.id, &message.platform_id, &message.text)
                        .await?
                    {
                        self.store
                            .ingest_message(&to_new_message(&channel, message))
                            .await?;
                    }
                }
            }
            InboundItem::Removed {
                account,
                platform_id,
            } => {
                if let Some(channel) = self.channel_for(kind, &account, cache).await? {
                    self.store.mark_removed(channel.id, &platform_id).await?;
                }
            }
            InboundItem::Hidden {
                account,
                platform_id,
                hidden,
            } => {
                if let Some(channel) = self.channel_for(kind, &account, cache).await? {
                    self.store
                        .mark_hidden(channel.id, &platform_id, hidden)
                        .await?;
                }
            }
            InboundItem::Status {
                account,
                platform_id,
                status,
                error,
                ..
            } => {
                if let Some(channel) = self.channel_for(kind, &account, cache).await? {
                    self.store
                        .apply_delivery_status(channel.id, &platform_id, status, error.as_deref())
                        .await?;
                }
            }
            InboundItem::Ignored { reason } => {
                tracing::debug!(reason = %reason, "inbound item ignored");
            }
        }
        Ok(())
    }

    async fn loop_dispatcher(self, mut stop: watch::Receiver<bool>) {
        while !*stop.borrow() {
            let worked = match self.dispatch_once().await {
                Ok(count) => count > 0,
                Err(err) => {
                    tracing::warn!(error = %err, "dispatcher: store unavailable");
                    false
                }
            };
            if !worked && self.idle(&mut stop, Duration::from_millis(500)).await {
                break;
            }
        }
    }

    /// Claims and sends one batch of due replies; returns how many.
    pub async fn dispatch_once(&self) -> Result<usize, StoreError> {
        let now = Timestamp::now();
        let stuck = self.store.expire_stuck_sends(now).await?;
        if stuck > 0 {
            tracing::warn!(
                count = stuck,
                "sends whose dispatcher died mid-send are now of unknown outcome"
            );
        }
        let items = self
            .store
            .claim_outbox(&self.config.node_id, 10, now, self.lease_until(now))
            .await?;
        for item in &items {
            let span = tracing::info_span!("send", outbox.id = %item.id, channel.id = %item.channel_id, attempt = item.attempts);
            self.send_one(item).instrument(span).await?;
        }
        Ok(items.len())
    }

    async fn send_one(&self, item: &OutboxItem) -> Result<(), StoreError> {
        let owner = &self.config.node_id;
        let channel = self.store.channel(item.channel_id).await?;
        let Some(connector) = self.connectors.get(&channel.kind) else {
            self.store
                .fail_outbox(
                    item.id,
                    owner,
                    &format!("no {} connector in this build", channel.kind),
                    None,
                )
                .await?;
            return Ok(());
        };
        if channel.health == ChannelHealth::Paused {
            let later = Timestamp::now().plus_millis(60_000);
            self.store
                .fail_outbox(item.id, owner, "the channel is paused", Some(later))
                .await?;
            return Ok(());
        }
        if let Some(action) = moderation_action(item) {
            return self
                .moderate_one(connector.as_ref(), &channel, item, action)
                .await;
        }
        let request = match reply_request(item) {
            Ok(request) => request,
            Err(reason) => {
                self.store
                    .fail_outbox(item.id, owner, &reason, None)
                    .await?;
                return Ok(());
            }
        };
        let credentials = match self.store.channel_credentials(channel.id).await {
            Ok(credentials) => credentials,
            Err(StoreError::Decrypt) => {
                self.store
                    .fail_outbox(
                        item.id,
                        owner,
                        "the channel's credentials cannot be decrypted with this secret key",
                        None,
                    )
                    .await?;
                return Ok(());
            }
            Err(err) => return Err(err),
        };
        match connector.send(&channel, &credentials, &request).await {
            Ok(sent) => {
                self.store
                    .complete_outbox(item.id, owner, &sent.platform_id)
                    .await?;
                if channel.health != ChannelHealth::Healthy {
                    self.store
                        .set_channel_health(channel.id, ChannelHealth::Healthy, None)
                        .await?;
                }
                tracing::info!("reply sent");
            }
            Err(ConnectorError::Unknown(reason)) => {
                tracing::warn!(reason = %reason, "send outcome unknown; not repeated");
                self.store
                    .mark_outbox_unknown(item.id, owner, &reason)
                    .await?;
            }
            Err(err) => {
                let age = Timestamp::now().as_millis() - item.created_at.as_millis();
                let give_up = age > self.config.send_give_up.as_millis() as i64;
                let retry_after = match &err {
                    ConnectorError::Retryable { .. } | ConnectorError::RateLimited { .. } => {
                        Some(err.retry_after().unwrap_or_else(|| backoff(item.attempts)))
                    }
                    ConnectorError::AuthExpired(reason) => {
                        self.store
                            .set_channel_health(
                                channel.id,
                                ChannelHealth::Unhealthy,
                                Some(&format!("access token expired or revoked: {reason}")),
                            )
                            .await?;
                        Some(Duration::from_secs(300).max(backoff(item.attempts)))
                    }
                    _ => None,
                };
                match retry_after.filter(|_| !give_up) {
                    Some(wait) => {
                        self.metrics.count_outbox_retry(channel.id.get());
                        let at = Timestamp::now().plus_millis(wait.as_millis() as i64);
                        tracing::info!(error = %err, ?wait, "send failed; will retry");
                        self.store
                            .fail_outbox(item.id, owner, &err.to_string(), Some(at))
                            .await?;
                    }
                    None => {
                        let reason = if give_up {
                            format!("gave up after retrying: {err}")
                        } else {
                            err.to_string()
                        };
                        tracing::warn!(error = %err, "send failed for good");
                        self.store
                            .fail_outbox(item.id, owner, &reason, None)
                            .await?;
                    }
                }
            }
        }
        Ok(())
    }

    async fn moderate_one(
        &self,
        connector: &dyn Connector,
        channel: &Channel,
        item: &OutboxItem,
        (action, platform_id): (Moderation, ExternalId),
    ) -> Result<(), StoreError> {
        let owner = &self.config.node_id;
        let credentials = self.store.channel_credentials(channel.id).await?;
        match connector
            .moderate(channel, &credentials, &platform_id, action)
            .await
        {
            Ok(()) => {
                self.store
                    .complete_outbox(item.id, owner, &platform_id)
                    .await?;
                self.store
                    .mark_hidden(channel.id, &platform_id, action == Moderation::Hide)
                    .await?;
            }
            Err(err) if err.is_retryable() => {
                let wait = err.retry_after().unwrap_or_else(|| backoff(item.attempts));
                let at = Timestamp::now().plus_millis(wait.as_millis() as i64);
                self.store
                    .fail_outbox(item.id, owner, &err.to_string(), Some(at))
                    .await?;
            }
            Err(err) => {
                self.store
                    .fail_outbox(item.id, owner, &err.to_string(), None)
                    .await?;
            }
        }
        Ok(())
    }

    async fn loop_pollers(self, mut stop: watch::Receiver<bool>) {
        let mut schedule: HashMap<ChannelId, PollState> = HashMap::new();
        while !*stop.borrow() {
            if let Err(err) = self.poll_due(&mut schedule).await {
                tracing::warn!(error = %err, "pollers: store unavailable");
            }
            tokio::select! {
                _ = stop.changed() => {}
                () = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
        }
    }

    /// Polls every channel whose turn has come and whose lease this node holds.
    async fn poll_due(
        &self,
        schedule: &mut HashMap<ChannelId, PollState>,
    ) -> Result<(), StoreError> {
        let channels = self.store.list_channels().await?;
        for channel in channels {
            if channel.health == ChannelHealth::Paused {
                continue;
            }
            let Some(connector) = self.connectors.get(&channel.kind).cloned() else {
                continue;
            };
            let state = schedule.entry(channel.id).or_default();
            if tokio::time::Instant::now() < state.next_poll {
                continue;
            }
            let credentials = match self.store.channel_credentials(channel.id).await {
                Ok(credentials) => credentials,
                Err(StoreError::Decrypt) => {
                    state.next_poll = tokio::time::Instant::now() + Duration::from_secs(300);
                    continue;
                }
                Err(err) => return Err(err),
            };
            let fingerprint = channel.credentials_version.to_string();
            if let Some(blocked) = &state.blocked_on_credentials {
                if *blocked == fingerprint {
                    // The token that failed is still the one stored: do not hammer the platform.
                    state.next_poll = tokio::time::Instant::now() + Duration::from_secs(5);
                    continue;
                }
                state.blocked_on_credentials = None;
            }
            let now = Timestamp::now();
            if !self
                .store
                .acquire_poll_lease(channel.id, &self.config.node_id, now, self.lease_until(now))
                .await?
            {
                state.next_poll = tokio::time::Instant::now() + self.config.poll_interval;
                continue;
            }
            let span =
                tracing::info_span!("poll", channel.id = %channel.id, platform = %channel.kind);
            let Some(credentials) = self
                .refresh_if_due(&channel, credentials)
                .instrument(span.clone())
                .await?
            else {
                state.next_poll = tokio::time::Instant::now() + Duration::from_secs(60);
                continue;
            };
            let wait = self
                .poll_channel(
                    connector.as_ref(),
                    &channel,
                    &credentials,
                    state,
                    fingerprint,
                )
                .instrument(span)
                .await?;
            state.next_poll = tokio::time::Instant::now() + wait;
        }
        Ok(())
    }

    async fn poll_channel(
        &self,
        connector: &dyn Connector,
        channel: &Channel,
        credentials: &ChannelCredentials,
        state: &mut PollState,
        fingerprint: String,
    ) -> Result<Duration, StoreError> {
        match connector
            .poll(channel, credentials, channel.cursor.as_deref())
            .await
        {
            Ok(page) => {
                for body in &page.bodies {
                    let event = NewInboundEvent {
                        source: channel.kind,
                        channel_id: Some(channel.id),
                        origin: format!("poll:{}", body.endpoint),
                        dedup_key: format!(
                            "poll:{}:{}:{}",
                            channel.id,
                            body.endpoint,
                            hex_digest_bytes(&body.body)
                        ),
                        body: body.body.clone(),
                    };
                    self.store.insert_inbound_event(&event).await?;
                }
                if !page.bodies.is_empty() {
                    self.wake.notify_waiters();
                }
                if let Some(cursor) = &page.next_cursor {
                    if !self
                        .store
                        .save_cursor(channel.id, &self.config.node_id, Timestamp::now(), cursor)
                        .await?
                    {
                        tracing::warn!(
                            "lost the poll lease before saving the cursor; another node polls now"
                        );
                    }
                }
                self.store
                    .set_channel_health(channel.id, ChannelHealth::Healthy, None)
                    .await?;
                if state.rate_limited {
                    self.store
                        .set_channel_rate_limited(channel.id, None)
                        .await?;
                    state.rate_limited = false;
                }
                state.failures = 0;
                // After a rate limit, poll one interval (and a little jitter) after the budget
                // reopens, so replies due at the reopening get it first.
                Ok(match page.wait_at_least {
                    Some(wait) => wait + self.config.poll_interval + jitter(),
                    None => self.config.poll_interval,
                })
            }
            Err(err) => {
                self.metrics
                    .count_poll_error(channel.id.get(), error_kind(&err));
                state.failures += 1;
                match &err {
                    ConnectorError::AuthExpired(_)
                        if channel.kind == ChannelKind::X
                            && credentials.refresh_token.is_some()
                            && self.config.x_oauth.is_some() =>
                    {
                        // A token of unknown expiry ran out: try its refresh token once.
                        let renewed = self.refresh_x_token(channel, credentials.clone()).await?;
                        match renewed {
                            Some(renewed) if renewed.access_token != credentials.access_token => {
                                Ok(Duration::from_secs(1))
                            }
                            _ => {
                                state.blocked_on_credentials = Some(fingerprint);
                                Ok(Duration::from_secs(5))
                            }
                        }
                    }
                    ConnectorError::AuthExpired(reason) => {
                        tracing::warn!("poll refused: access token expired or revoked; waiting for new credentials");
                        self.store
                            .set_channel_health(
                                channel.id,
                                ChannelHealth::Unhealthy,
                                Some(&format!("access token expired or revoked: {reason}")),
                            )
                            .await?;
                        state.blocked_on_credentials = Some(fingerprint);
                        Ok(Duration::from_secs(5))
                    }
                    ConnectorError::QuotaExhausted(reason) | ConnectorError::Permanent(reason) => {
                        self.store
                            .set_channel_health(channel.id, ChannelHealth::Unhealthy, Some(reason))
                            .await?;
                        Ok(Duration::from_secs(900))
                    }
                    ConnectorError::RateLimited { retry_after, .. } => {
                        let wait = retry_after
                            .unwrap_or_else(|| backoff(state.failures))
                            .max(self.config.poll_interval);
                        tracing::info!(?wait, "poll rate limited; waiting for the reset");
                        let until = Timestamp::now().plus_millis(wait.as_millis() as i64);
                        self.store
                            .set_channel_rate_limited(channel.id, Some(until))
                            .await?;
                        state.rate_limited = true;
                        Ok(wait)
                    }
                    _ => {
                        tracing::info!(error = %err, "poll failed; backing off");
                        let wait = match err.retry_after() {
                            Some(wait) => wait + self.config.poll_interval + jitter(),
                            None => backoff(state.failures).max(self.config.poll_interval),
                        };
                        Ok(wait)
                    }
                }
            }
        }
    }
}

impl Workers {
    /// Refreshes an X access token that expires within [`REFRESH_MARGIN_MILLIS`] and stores
    /// the new tokens (X rotates the refresh token, so the old one is spent). Returns the
    /// credentials to poll with, or `None` when the token expired and could not be refreshed
    /// (the channel then shows why).
    async fn refresh_if_due(
        &self,
        channel: &Channel,
        credentials: ChannelCredentials,
    ) -> Result<Option<ChannelCredentials>, StoreError> {
        let now = Timestamp::now();
        let due = credentials
            .expires_at
            .is_some_and(|at| at.as_millis() - now.as_millis() < REFRESH_MARGIN_MILLIS);
        if !due {
            return Ok(Some(credentials));
        }
        self.refresh_x_token(channel, credentials).await
    }

    /// Exchanges an X channel's refresh token for new tokens and stores them. Returns the
    /// credentials to use: the new ones, the old ones when they are still valid after a failed
    /// refresh (the channel then shows why), or `None`.
    async fn refresh_x_token(
        &self,
        channel: &Channel,
        credentials: ChannelCredentials,
    ) -> Result<Option<ChannelCredentials>, StoreError> {
        let now = Timestamp::now();
        let (Some(app), Some(refresh_token)) = (
            self.config.x_oauth.as_ref(),
            credentials.refresh_token.as_deref(),
        ) else {
            return Ok(Some(credentials));
        };
        if channel.kind != ChannelKind::X {
            return Ok(Some(credentials));
        }
        match app.refresh(&self.oauth_http, refresh_token).await {
            Ok(tokens) => {
                let renewed = ChannelCredentials {
                    access_token: tokens.access_token,
                    refresh_token: tokens.refresh_token.or(credentials.refresh_token),
                    expires_at: tokens
                        .expires_in
                        .map(|lifetime| now.plus_millis(lifetime.as_millis() as i64)),
                };
                self.store
                    .set_channel_credentials(channel.id, &renewed)
                    .await?;
                self.store
                    .audit(
                        "system",
                        "channel.token_refresh",
                        &format!("channel:{}", channel.id),
                        &serde_json::json!({}),
                    )
                    .await?;
                tracing::info!("x access token refreshed");
                Ok(Some(renewed))
            }
            Err(err) => {
                tracing::warn!(error = %err, "x access token refresh failed");
                self.store
                    .set_channel_health(
                        channel.id,
                        ChannelHealth::Unhealthy,
                        Some(&format!("the access token could not be refreshed: {err}")),
                    )
                    .await?;
                let still_valid = credentials.expires_at.is_some_and(|at| at > now);
                Ok(still_valid.then_some(credentials))
            }
        }
    }
}

#[derive(Debug)]
struct PollState {
    next_poll: tokio::time::Instant,
    failures: i32,
    blocked_on_credentials: Option<String>,
    rate_limited: bool,
}

impl Default for PollState {
    fn default() -> PollState {
        PollState {
            next_poll: tokio::time::Instant::now(),
            failures: 0,
            blocked_on_credentials: None,
            rate_limited: false,
        }
    }
}

enum EventError {
    NotUnderstood(String),
    Store(StoreError),
}

impl From<StoreError> for EventError {
    fn from(err: StoreError) -> EventError {
        EventError::Store(err)
    }
}

fn to_new_message(channel: &Channel, message: PlatformMessage) -> NewInboundMessage {
    NewInboundMessage {
        channel_id: channel.id,
        platform_id: message.platform_id,
        thread_key: message.thread_key,
        author: message.author,
        text: message.text,
        attachments: message.attachments,
        created_at: message.created_at,
    }
}

/// The moderation an outbox row asks for, if it is a moderation row.
fn moderation_action(item: &OutboxItem) -> Option<(Moderation, ExternalId)> {
    let payload: serde_json::Value = serde_json::from_str(&item.payload).ok()?;
    if payload["kind"] != "moderate" {
        return None;
    }
    let action = match payload["action"].as_str()? {
        "hide" => Moderation::Hide,
        _ => Moderation::Unhide,
    };
    let platform_id = ExternalId::parse(payload["platform_id"].as_str()?).ok()?;
    Some((action, platform_id))
}

/// The reply request stored in an outbox row's payload.
fn reply_request(item: &OutboxItem) -> Result<ReplyRequest, String> {
    let payload: serde_json::Value = serde_json::from_str(&item.payload)
        .map_err(|_| "the queued reply is corrupt".to_owned())?;
    let text = payload["text"].as_str().unwrap_or_default().to_owned();
    let thread_key = payload["thread_key"]
        .as_str()
        .ok_or("the queued reply names no thread")?
        .to_owned();
    let in_reply_to = payload["in_reply_to"]
        .as_str()
        .and_then(|id| ExternalId::parse(id).ok());
    let template = payload
        .get("template")
        .filter(|t| t.is_object())
        .map(|template| buzon_connector::TemplateRequest {
            name: template["name"].as_str().unwrap_or_default().to_owned(),
            language: template["language"].as_str().unwrap_or("en_US").to_owned(),
            parameters: template["parameters"]
                .as_array()
                .map(|values| {
                    values
                        .iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
        });
    Ok(ReplyRequest {
        thread_key,
        in_reply_to,
        text,
        template,
        idempotency_key: item.idempotency_key.clone(),
    })
}

/// Up to two seconds, so nodes and workers do not all wake at the same instant.
fn jitter() -> Duration {
    Duration::from_millis(rand::random::<u64>() % 2000)
}

/// Exponential backoff with a little jitter: 2 s, 4 s, 8 s … capped at 5 minutes.
fn backoff(attempts: i32) -> Duration {
    let exponent = attempts.clamp(1, 8) as u32;
    let base = Duration::from_secs(1u64 << exponent).min(Duration::from_secs(300));
    let jitter = Duration::from_millis(rand::random::<u64>() % 1000);
    base + jitter
}

fn error_kind(err: &ConnectorError) -> &'static str {
    match err {
        ConnectorError::Retryable { .. } => "retryable",
        ConnectorError::RateLimited { .. } => "rate_limited",
        ConnectorError::AuthExpired(_) => "auth_expired",
        ConnectorError::WindowClosed(_) => "window_closed",
        ConnectorError::QuotaExhausted(_) => "quota_exhausted",
        ConnectorError::Permanent(_) => "permanent",
        ConnectorError::BadSignature => "bad_signature",
        ConnectorError::Payload(_) => "payload",
        ConnectorError::Unknown(_) => "unknown",
    }
}

fn hex_digest_bytes(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
