//! The workers: the normalizer (inbound event log → messages), the pollers (one lease per
//! channel across all nodes) and the outbox dispatcher. Each claims its work with leases, so
//! any number of nodes can run them side by side. What an outcome means (retry when, give up,
//! unknown, the channel's health) is decided by the pure functions of `buzon_core::engine`;
//! this module only carries the decisions out. Use cases with an audit line (hiding a
//! flagged author's comment, storing a renewed token) go through the application layer.

use buzon_app::{Actor, App};
use buzon_connector::{
    Connector, ConnectorError, InboundItem, KeyAliases, MessageKind, Origin, PlatformMessage,
};
use buzon_core::engine::{
    decide_after_moderation, decide_after_poll, decide_after_refresh, decide_after_send,
    decide_before_send, refresh_due, BeforeSend, HealthChange, ModerationDecision, PollContext,
    PollDecision, PollOutcome, RateLimitChange, SendAction, SendAttempt,
};
use buzon_core::*;
use buzon_store::{Store, StoreError};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
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
    /// How long finished work is kept.
    pub retention: buzon_store::Retention,
    /// Renamed fields to read as known ones, per platform, applied before parsing.
    pub key_aliases: HashMap<ChannelKind, KeyAliases>,
}

/// The connectors by platform.
pub type Connectors = HashMap<ChannelKind, Arc<dyn Connector>>;

/// Everything the workers share.
#[derive(Clone)]
pub struct Workers {
    store: Store,
    app: App,
    connectors: Connectors,
    config: WorkerConfig,
}

impl Workers {
    /// Workers over `store` with `connectors`; the application layer wakes them when new work
    /// arrives and records what they do that is audited.
    pub fn new(store: Store, app: App, connectors: Connectors, config: WorkerConfig) -> Workers {
        Workers {
            store,
            app,
            connectors,
            config,
        }
    }

    fn lease_until(&self, now: Timestamp) -> Timestamp {
        now.plus_millis(self.config.lease.as_millis() as i64)
    }

    /// Waits for `wait`, new work or the stop signal; returns whether to stop.
    async fn idle(&self, stop: &mut watch::Receiver<bool>, wait: Duration) -> bool {
        let wake = self.app.worker_signal();
        tokio::select! {
            _ = stop.changed() => {}
            () = wake.notified() => {}
            () = tokio::time::sleep(wait) => {}
        }
        *stop.borrow()
    }

    /// The normalizer, until `stop` turns true.
    pub async fn run_normalizer(self, mut stop: watch::Receiver<bool>) {
        while !*stop.borrow() {
            let worked = match self.normalize_once().await {
                Ok(count) => {
                    if count > 0 {
                        self.app.activity_changed();
                    }
                    count > 0
                }
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
        // An event whose processing killed its worker again and again is given up on (failed,
        // with the reason, replayable) rather than taking the next worker down with it.
        let given_up = self
            .store
            .fail_exhausted_inbound_events(now, MAX_EVENT_ATTEMPTS)
            .await?;
        if given_up > 0 {
            tracing::error!(
                events = given_up,
                "inbound events never finished processing after {MAX_EVENT_ATTEMPTS} attempts; marked failed"
            );
        }
        let events = self
            .store
            .claim_inbound_events(&self.config.node_id, 25, now, self.lease_until(now))
            .await?;
        for event in &events {
            let span = tracing::info_span!("event", event.id = %event.id, platform = %event.source);
            match self.process_event(event).instrument(span).await {
                Ok(Processed::Done) => {
                    self.store
                        .complete_inbound_event(event.id, &self.config.node_id)
                        .await?;
                }
                Ok(Processed::Unparsed { channel, parts }) => {
                    tracing::warn!(
                        parts = parts.len(),
                        "inbound event has parts buzon did not recognise; kept as unparsed for replay"
                    );
                    let channel_label = channel.map(|id| id.to_string()).unwrap_or_default();
                    self.app.metrics().count_unparsed(
                        event.source.as_str(),
                        &channel_label,
                        parts.len() as u64,
                    );
                    self.store
                        .mark_inbound_event_unparsed(
                            event.id,
                            &self.config.node_id,
                            channel,
                            &parts,
                        )
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

    async fn process_event(&self, event: &InboundEvent) -> Result<Processed, EventError> {
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
        let aliased = self
            .config
            .key_aliases
            .get(&event.source)
            .and_then(|aliases| aliases.apply(&event.body));
        let body = aliased.as_deref().unwrap_or(&event.body);
        let parts = match connector.normalize(origin, body) {
            Ok(parts) => parts,
            // The body as a whole is not this platform's delivery: kept, like any part buzon
            // does not recognise.
            Err(err) => {
                return Ok(Processed::Unparsed {
                    channel: channel.as_ref().map(|channel| channel.id),
                    parts: vec![UnparsedPart {
                        path: "$".into(),
                        reason: err.to_string(),
                    }],
                })
            }
        };
        let mut channels: HashMap<String, Option<Channel>> = HashMap::new();
        let mut unparsed = Vec::new();
        let mut unparsed_channel = channel.as_ref().map(|channel| channel.id);
        for part in parts {
            match part.item {
                InboundItem::Unrecognized { account, reason } => {
                    if unparsed_channel.is_none() {
                        if let Some(account) = &account {
                            unparsed_channel = self
                                .channel_for(event.source, account, &mut channels)
                                .await?
                                .map(|channel| channel.id);
                        }
                    }
                    unparsed.push(UnparsedPart {
                        path: part.path,
                        reason,
                    });
                }
                InboundItem::Known { kind, .. } => {
                    tracing::debug!(path = %part.path, kind, "known event with no message");
                }
                item => {
                    if let Applied::NoChannel(account) =
                        self.apply_item(event.source, item, &mut channels).await?
                    {
                        // Kept, not dropped: once the account's channel is connected, a replay
                        // stores it.
                        unparsed.push(UnparsedPart {
                            path: part.path,
                            reason: format!(
                                "no {} channel is connected for account {account}",
                                event.source
                            ),
                        });
                    }
                }
            }
        }
        if unparsed.is_empty() {
            Ok(Processed::Done)
        } else {
            Ok(Processed::Unparsed {
                channel: unparsed_channel,
                parts: unparsed,
            })
        }
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
                tracing::info!(platform = %kind, "inbound item for an account with no channel here; kept as unparsed")
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
    ) -> Result<Applied, StoreError> {
        let account = match &item {
            InboundItem::Message(message) | InboundItem::Edited(message) => &message.account,
            InboundItem::Removed { account, .. }
            | InboundItem::Hidden { account, .. }
            | InboundItem::Status { account, .. } => account,
            // Sorted out by the caller before a part reaches here.
            InboundItem::Known { .. } | InboundItem::Unrecognized { .. } => {
                return Ok(Applied::Stored)
            }
        };
        let Some(channel) = self.channel_for(kind, account, cache).await? else {
            return Ok(Applied::NoChannel(account.clone()));
        };
        match item {
            InboundItem::Message(message) => {
                let public = matches!(
                    message.kind,
                    MessageKind::Comment | MessageKind::Post | MessageKind::Mention
                );
                let new = to_new_message(&channel, message);
                // An optional per-channel rule: new public messages of trolls and spammers
                // are hidden on the platform, the hide queued with the message itself.
                if public && channel.auto_hide_flagged {
                    self.store.ingest_message_hiding_flagged(&new).await?;
                } else {
                    self.store.ingest_message(&new).await?;
                }
            }
            InboundItem::Edited(message) => {
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
            InboundItem::Removed { platform_id, .. } => {
                self.store.mark_removed(channel.id, &platform_id).await?;
            }
            InboundItem::Hidden {
                platform_id,
                hidden,
                ..
            } => {
                self.store
                    .mark_hidden(channel.id, &platform_id, hidden)
                    .await?;
            }
            InboundItem::Status {
                platform_id,
                status,
                error,
                reference,
                ..
            } => {
                // A send whose answer was lost, settled by the platform's own word.
                if let Some(reference) = &reference {
                    if self
                        .store
                        .settle_send_by_reference(channel.id, reference, &platform_id)
                        .await?
                    {
                        tracing::info!(
                            platform_id = %platform_id,
                            "a send of unknown outcome settled by the platform's status"
                        );
                    }
                }
                self.store
                    .apply_delivery_status(
                        channel.id,
                        &platform_id,
                        status,
                        error.as_deref(),
                        reference.as_deref(),
                    )
                    .await?;
            }
            InboundItem::Known { .. } | InboundItem::Unrecognized { .. } => {}
        }
        Ok(Applied::Stored)
    }

    /// The dispatcher, until `stop` turns true.
    pub async fn run_dispatcher(self, mut stop: watch::Receiver<bool>) {
        while !*stop.borrow() {
            let worked = match self.dispatch_once(&stop).await {
                Ok(count) => {
                    if count > 0 {
                        self.app.activity_changed();
                    }
                    count > 0
                }
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

    /// Claims and sends one batch of due outbox rows; returns how many it claimed. When
    /// `stop` turns true mid-batch, the rows not yet sent go back to the queue.
    pub async fn dispatch_once(&self, stop: &watch::Receiver<bool>) -> Result<usize, StoreError> {
        let now = Timestamp::now();
        let stuck = self.store.expire_stuck_sends(now).await?;
        if stuck > 0 {
            tracing::warn!(
                count = stuck,
                "sends whose dispatcher died mid-send are now of unknown outcome"
            );
            // The platform may have said already that it took them.
            self.store.settle_unknown_sends_from_kept_statuses().await?;
        }
        let items = self
            .store
            .claim_outbox(&self.config.node_id, 10, now, self.lease_until(now))
            .await?;
        for item in &items {
            if *stop.borrow() {
                self.hand_back(item, "not sent: the node is stopping").await;
                continue;
            }
            let span = tracing::info_span!("send", outbox.id = %item.id, channel.id = %item.channel_id, attempt = item.attempts);
            if let Err(err) = self.send_one(item).instrument(span).await {
                // One row's trouble does not strand the others.
                tracing::warn!(error = %err, outbox.id = %item.id, "dispatcher: a row could not be handled");
            }
        }
        Ok(items.len())
    }

    /// Puts a claimed row that was not sent back in the queue, due now (if it is still ours).
    async fn hand_back(&self, item: &OutboxItem, reason: &str) {
        let handed = self
            .store
            .fail_outbox(
                item.id,
                &self.config.node_id,
                reason,
                Some(Timestamp::now()),
            )
            .await;
        if let Err(err) = handed {
            tracing::warn!(error = %err, outbox.id = %item.id, "could not hand a row back; its lease will run out");
        }
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
        let payload = match &item.payload {
            Ok(payload) => payload,
            Err(err) => {
                // An action buzon does not know is never guessed at.
                self.store
                    .fail_outbox(
                        item.id,
                        owner,
                        &format!("the queued action is not understood: {err}"),
                        None,
                    )
                    .await?;
                return Ok(());
            }
        };
        let paused = channel.health == ChannelHealth::Paused;
        // The lease is renewed just before the call, so a send never starts without it.
        let now = Timestamp::now();
        let renewed = self
            .store
            .renew_outbox_lease(item.id, owner, now, self.lease_until(now))
            .await?;
        match decide_before_send(now, renewed, paused) {
            BeforeSend::Send => {}
            BeforeSend::LeaseLost => {
                tracing::warn!("the lease ran out before the send; not sent");
                self.hand_back(item, "not sent: the lease ran out first")
                    .await;
                return Ok(());
            }
            BeforeSend::Paused { retry_at } => {
                self.store
                    .fail_outbox(item.id, owner, "the channel is paused", Some(retry_at))
                    .await?;
                return Ok(());
            }
        }
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
        match payload {
            OutboxPayload::Moderate(moderation) => {
                self.moderate_one(connector.as_ref(), &channel, &credentials, item, moderation)
                    .await
            }
            OutboxPayload::Reply(reply) => {
                let request = buzon_connector::ReplyRequest {
                    thread_key: reply.thread_key.clone(),
                    in_reply_to: reply.in_reply_to.clone(),
                    text: reply.text.clone(),
                    template: reply.template.as_ref().map(|template| {
                        buzon_connector::TemplateRequest {
                            name: template.name.clone(),
                            language: template.language.clone(),
                            parameters: template.parameters.clone(),
                        }
                    }),
                    idempotency_key: item.idempotency_key.clone(),
                };
                let sent = connector.send(&channel, &credentials, &request).await;
                let now = Timestamp::now();
                let decision = decide_after_send(
                    sent.as_ref().map(|sent| &sent.platform_id),
                    SendAttempt {
                        attempts: item.attempts,
                        queued_at: item.created_at,
                        now,
                        give_up_after: self.config.send_give_up,
                        jitter: jitter(1000),
                    },
                );
                if decision.count_retry {
                    self.app.metrics().count_outbox_retry(channel.id.get());
                }
                match decision.action {
                    SendAction::Complete(platform_id) => {
                        self.store
                            .complete_outbox(item.id, owner, &platform_id)
                            .await?;
                        tracing::info!("reply sent");
                    }
                    SendAction::RetryAt { at, reason } => {
                        tracing::info!(error = %reason, "send failed; will retry");
                        self.store
                            .fail_outbox(item.id, owner, &reason, Some(at))
                            .await?;
                    }
                    SendAction::Unknown(reason) => {
                        tracing::warn!(reason = %reason, "send outcome unknown; not repeated");
                        self.store
                            .mark_outbox_unknown(item.id, owner, &reason)
                            .await?;
                    }
                    SendAction::GiveUp(reason) => {
                        tracing::warn!(error = %reason, "send failed for good");
                        self.store
                            .fail_outbox(item.id, owner, &reason, None)
                            .await?;
                    }
                }
                self.apply_health(&channel, decision.health).await
            }
        }
    }

    async fn moderate_one(
        &self,
        connector: &dyn Connector,
        channel: &Channel,
        credentials: &ChannelCredentials,
        item: &OutboxItem,
        moderation: &ModerationPayload,
    ) -> Result<(), StoreError> {
        let owner = &self.config.node_id;
        let action = match moderation.action {
            ModerationAction::Hide => buzon_connector::Moderation::Hide,
            ModerationAction::Unhide => buzon_connector::Moderation::Unhide,
        };
        let done = connector
            .moderate(channel, credentials, &moderation.platform_id, action)
            .await;
        let now = Timestamp::now();
        match decide_after_moderation(done.as_ref().map(|_| ()), item.attempts, now, jitter(1000)) {
            ModerationDecision::Done => {
                self.store
                    .complete_outbox(item.id, owner, &moderation.platform_id)
                    .await?;
                self.store
                    .mark_hidden(
                        channel.id,
                        &moderation.platform_id,
                        moderation.action == ModerationAction::Hide,
                    )
                    .await?;
            }
            ModerationDecision::RetryAt { at, reason } => {
                self.store
                    .fail_outbox(item.id, owner, &reason, Some(at))
                    .await?;
            }
            ModerationDecision::GiveUp(reason) => {
                self.store
                    .fail_outbox(item.id, owner, &reason, None)
                    .await?;
            }
        }
        Ok(())
    }

    async fn apply_health(
        &self,
        channel: &Channel,
        health: HealthChange,
    ) -> Result<(), StoreError> {
        match health {
            HealthChange::Keep => Ok(()),
            HealthChange::Healthy if channel.health == ChannelHealth::Healthy => Ok(()),
            HealthChange::Healthy => {
                self.store
                    .set_channel_health(channel.id, ChannelHealth::Healthy, None)
                    .await
            }
            HealthChange::Unhealthy(reason) => {
                self.store
                    .set_channel_health(channel.id, ChannelHealth::Unhealthy, Some(&reason))
                    .await
            }
        }
    }

    /// Asks the platforms for the names of people they deliver only by id (Messenger senders),
    /// until `stop` turns true. Separate from ingest: a slow or refusing platform never holds
    /// a message up; until a name arrives the pages show a readable label.
    pub async fn run_profiles(self, mut stop: watch::Receiver<bool>) {
        while !*stop.borrow() {
            let wait = match self.name_people_once().await {
                Ok(asked) if asked > 0 => Duration::from_millis(200),
                Ok(_) => Duration::from_secs(5),
                Err(err) => {
                    tracing::warn!(error = %err, "profiles: store unavailable");
                    Duration::from_secs(5)
                }
            };
            if self.idle(&mut stop, wait).await {
                break;
            }
        }
    }

    /// Asks about one batch of unnamed people; returns how many were asked about.
    pub async fn name_people_once(&self) -> Result<usize, StoreError> {
        let requests = self.store.contacts_to_name(Timestamp::now(), 20).await?;
        let mut asked = 0;
        for request in &requests {
            let channel = self.store.channel(request.channel).await?;
            let Some(connector) = self.connectors.get(&channel.kind) else {
                continue;
            };
            let credentials = match self.store.channel_credentials(channel.id).await {
                Ok(credentials) => credentials,
                Err(StoreError::Decrypt) => {
                    self.store
                        .set_contact_profile(request.contact, None, None, Timestamp::now())
                        .await?;
                    continue;
                }
                Err(err) => return Err(err),
            };
            let answer = tokio::time::timeout(
                Duration::from_secs(15),
                connector.fetch_profile(&channel, &credentials, &request.platform_id),
            )
            .await;
            asked += 1;
            match answer {
                Ok(Ok(profile)) => {
                    let (name, picture) = profile
                        .map(|profile| (profile.name, profile.picture_url))
                        .unwrap_or_default();
                    self.store
                        .set_contact_profile(
                            request.contact,
                            name.as_deref(),
                            picture.as_deref(),
                            Timestamp::now(),
                        )
                        .await?;
                }
                // A passing failure: asked again on a later round; this round stops here so a
                // struggling platform is not pressed.
                Ok(Err(err)) if err.is_retryable() || matches!(err, ConnectorError::Unknown(_)) => {
                    tracing::info!(error = %err, "profiles: the platform did not answer; later");
                    break;
                }
                Err(_) => {
                    tracing::info!("profiles: the platform did not answer in time; later");
                    break;
                }
                // Refused (no permission, an id it does not know): asked again in a day if
                // they write again; the label stays meanwhile.
                Ok(Err(err)) => {
                    tracing::info!(error = %err, "profiles: the platform refused; the label stays");
                    self.store
                        .set_contact_profile(request.contact, None, None, Timestamp::now())
                        .await?;
                }
            }
        }
        Ok(asked)
    }

    /// Prunes finished work once an hour (the first time a minute after start), until `stop`
    /// turns true.
    pub async fn run_pruner(self, mut stop: watch::Receiver<bool>) {
        let mut wait = Duration::from_secs(60);
        loop {
            tokio::select! {
                _ = stop.changed() => {}
                () = tokio::time::sleep(wait) => {}
            }
            if *stop.borrow() {
                break;
            }
            match self
                .store
                .prune(Timestamp::now(), self.config.retention)
                .await
            {
                Ok(pruned) => tracing::info!(
                    events = pruned.events,
                    outbox = pruned.outbox,
                    sessions = pruned.sessions,
                    "pruned finished work"
                ),
                Err(err) => tracing::warn!(error = %err, "pruning failed; tried again later"),
            }
            wait = Duration::from_secs(60 * 60);
        }
    }

    /// The pollers, until `stop` turns true.
    pub async fn run_pollers(self, mut stop: watch::Receiver<bool>) {
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
                .refresh_if_due(connector.as_ref(), &channel, credentials)
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
        let polled = connector
            .poll(channel, credentials, channel.cursor.as_deref())
            .await;
        let outcome = match &polled {
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
                            hex::encode(Sha256::digest(&body.body))
                        ),
                        body: body.body.clone(),
                    };
                    self.store.insert_inbound_event(&event).await?;
                }
                if !page.bodies.is_empty() {
                    self.app.wake_workers();
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
                PollOutcome::Fetched {
                    wait_at_least: page.wait_at_least,
                }
            }
            Err(err) => PollOutcome::Failed(err),
        };
        let context = PollContext {
            now: Timestamp::now(),
            poll_interval: self.config.poll_interval,
            failures: state.failures,
            was_rate_limited: state.rate_limited,
            can_refresh_token: connector.can_refresh(credentials),
            jitter: jitter(2000),
        };
        let mut decision = decide_after_poll(outcome, context);
        if let Some(kind) = decision.count_error {
            self.app.metrics().count_poll_error(channel.id.get(), kind);
        }
        if let Err(err) = &polled {
            tracing::info!(error = %err, "poll failed");
        }
        if decision.try_refresh {
            // A token of unknown expiry ran out: try its refresh token once.
            let renewed = self.refresh(connector, channel, credentials).await?;
            let renewed =
                renewed.is_some_and(|renewed| renewed.access_token != credentials.access_token);
            decision = decide_after_refresh(decision, renewed);
        }
        self.apply_poll_decision(channel, state, fingerprint, &decision)
            .await?;
        Ok(decision.wait)
    }

    async fn apply_poll_decision(
        &self,
        channel: &Channel,
        state: &mut PollState,
        fingerprint: String,
        decision: &PollDecision,
    ) -> Result<(), StoreError> {
        state.failures = decision.failures;
        if decision.block_on_credentials {
            state.blocked_on_credentials = Some(fingerprint);
        }
        match decision.rate_limited_until {
            RateLimitChange::Keep => {}
            RateLimitChange::Clear => {
                self.store
                    .set_channel_rate_limited(channel.id, None)
                    .await?;
                state.rate_limited = false;
            }
            RateLimitChange::Until(until) => {
                self.store
                    .set_channel_rate_limited(channel.id, Some(until))
                    .await?;
                state.rate_limited = true;
            }
        }
        match &decision.health {
            // A poll that worked always records the time of the success.
            HealthChange::Healthy => {
                self.store
                    .set_channel_health(channel.id, ChannelHealth::Healthy, None)
                    .await
            }
            other => self.apply_health(channel, other.clone()).await,
        }
    }

    /// Renews credentials that expire within the margin, before polling. Returns the
    /// credentials to poll with, or `None` when they expired and could not be renewed (the
    /// channel then shows why).
    async fn refresh_if_due(
        &self,
        connector: &dyn Connector,
        channel: &Channel,
        credentials: ChannelCredentials,
    ) -> Result<Option<ChannelCredentials>, StoreError> {
        let now = Timestamp::now();
        if !connector.can_refresh(&credentials) || !refresh_due(credentials.expires_at, now) {
            return Ok(Some(credentials));
        }
        match self.refresh(connector, channel, &credentials).await? {
            Some(renewed) => Ok(Some(renewed)),
            None => {
                let still_valid = credentials.expires_at.is_some_and(|at| at > now);
                Ok(still_valid.then_some(credentials))
            }
        }
    }

    /// Exchanges a channel's refresh token for new credentials through its connector and
    /// stores them (audited); a failure marks the channel unhealthy and returns `None`.
    async fn refresh(
        &self,
        connector: &dyn Connector,
        channel: &Channel,
        credentials: &ChannelCredentials,
    ) -> Result<Option<ChannelCredentials>, StoreError> {
        match connector
            .refresh_credentials(credentials, Timestamp::now())
            .await
        {
            Ok(renewed) => {
                let stored = self
                    .app
                    .store_renewed_credentials(
                        &Actor::System("token refresh"),
                        channel.id,
                        &renewed,
                    )
                    .await;
                if let Err(err) = stored {
                    tracing::warn!(error = %err, "a renewed token could not be stored");
                    return Ok(None);
                }
                tracing::info!("access token refreshed");
                Ok(Some(renewed))
            }
            Err(err) => {
                tracing::warn!(error = %err, "access token refresh failed");
                self.store
                    .set_channel_health(
                        channel.id,
                        ChannelHealth::Unhealthy,
                        Some(&format!("the access token could not be refreshed: {err}")),
                    )
                    .await?;
                Ok(None)
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

/// What processing an event came to.
enum Processed {
    /// Every part stored or known.
    Done,
    /// These parts were not recognised (the others are stored).
    Unparsed {
        channel: Option<ChannelId>,
        parts: Vec<UnparsedPart>,
    },
}

/// How many times an inbound event is claimed, its worker dying each time, before it is failed.
const MAX_EVENT_ATTEMPTS: i32 = 5;

/// What became of one recognised part.
enum Applied {
    Stored,
    /// No channel here is connected for the part's account.
    NoChannel(ExternalId),
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
        conversation_kind: message.conversation,
        author: message.author,
        text: message.text,
        attachments: message.attachments,
        created_at: message.created_at,
        raw: message.raw,
    }
}

/// Up to `millis` milliseconds, so nodes and workers do not all wake at the same instant.
fn jitter(millis: u64) -> Duration {
    Duration::from_millis(rand::random::<u64>() % millis.max(1))
}
