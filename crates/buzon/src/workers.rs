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
use buzon_store::{EventEnd, EventResult, EventWrite, Store, StoreError};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
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

/// How often spike detection counts the last minutes' customer messages.
const SPIKE_CHECK_EVERY: Duration = Duration::from_secs(10);
/// How often escalation rules and snoozed conversations are looked at.
const SNOOZE_CHECK_EVERY: Duration = Duration::from_secs(2);

/// The connectors by platform.
pub type Connectors = HashMap<ChannelKind, Arc<dyn Connector>>;

/// Everything the workers share.
#[derive(Clone)]
pub struct Workers {
    store: Store,
    app: App,
    connectors: Connectors,
    config: WorkerConfig,
    /// When this node last looked for events that never finish (milliseconds).
    last_exhausted_check: Arc<AtomicI64>,
    /// New messages were stored: the profiles worker may have people to name.
    new_contacts: Arc<tokio::sync::Notify>,
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
            last_exhausted_check: Arc::default(),
            new_contacts: Arc::default(),
        }
    }

    /// Whether the search for events that never finish is due (every 10 seconds per node).
    fn exhausted_check_due(&self) -> bool {
        let now = Timestamp::now().as_millis();
        let last = self.last_exhausted_check.load(Ordering::Relaxed);
        now - last >= 10_000
            && self
                .last_exhausted_check
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
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
                        // New messages: the rules look at them (and the live updates).
                        self.app.wake_workers();
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

    /// Claims and processes one batch of inbound events; returns how many. The batch is
    /// worked out first (parsing, channel lookups on a reader) and then written in one
    /// transaction; if that fails, its events are written one by one, so one event the store
    /// refuses cannot hold up the others (it is retried after its lease, and given up after
    /// [`MAX_EVENT_ATTEMPTS`]).
    pub async fn normalize_once(&self) -> Result<usize, StoreError> {
        let now = Timestamp::now();
        // An event whose processing killed its worker again and again is given up on (failed,
        // with the reason, replayable) rather than taking the next worker down with it. The
        // search looks over every pending event, so it runs every few seconds, not per batch.
        let given_up = if self.exhausted_check_due() {
            self.store
                .fail_exhausted_inbound_events(now, MAX_EVENT_ATTEMPTS)
                .await?
        } else {
            0
        };
        if given_up > 0 {
            tracing::error!(
                events = given_up,
                "inbound events never finished processing after {MAX_EVENT_ATTEMPTS} attempts; marked failed"
            );
        }
        let events = self
            .store
            .claim_inbound_events(
                &self.config.node_id,
                NORMALIZE_BATCH,
                now,
                self.lease_until(now),
            )
            .await?;
        if events.is_empty() {
            return Ok(0);
        }
        let mut channels = ChannelCache::default();
        let mut results = Vec::with_capacity(events.len());
        for event in &events {
            let span = tracing::info_span!("event", event.id = %event.id, platform = %event.source);
            let result = self
                .process_event(event, &mut channels)
                .instrument(span)
                .await?;
            results.push(result);
        }
        let owner = &self.config.node_id;
        let written = match self
            .store
            .finish_inbound_events(owner, &results, &channels.touched)
            .await
        {
            Ok(written) => vec![(&results[..], written)],
            Err(err) => {
                tracing::warn!(error = %err, events = results.len(), "a batch of events could not be written; writing them one by one");
                let mut written = Vec::new();
                for (index, result) in results.iter().enumerate() {
                    let touched = if index == 0 {
                        &channels.touched[..]
                    } else {
                        &[]
                    };
                    match self
                        .store
                        .finish_inbound_events(owner, std::slice::from_ref(result), touched)
                        .await
                    {
                        Ok(one) => written.push((std::slice::from_ref(result), one)),
                        Err(err) => tracing::error!(
                            event.id = %result.id,
                            error = %err,
                            "inbound event could not be written; retried after its lease"
                        ),
                    }
                }
                written
            }
        };
        for (results, batch) in written {
            if batch.messages > 0 {
                self.new_contacts.notify_one();
            }
            if batch.settled_sends > 0 {
                tracing::info!(
                    sends = batch.settled_sends,
                    "sends of unknown outcome settled by the platform's status"
                );
            }
            for result in results {
                let source = events
                    .iter()
                    .find(|event| event.id == result.id)
                    .map(|event| event.source.as_str())
                    .unwrap_or_default();
                match &result.end {
                    EventEnd::Done => {}
                    EventEnd::Unparsed { channel, parts } => {
                        tracing::warn!(
                            event.id = %result.id,
                            parts = parts.len(),
                            "inbound event has parts buzon did not recognise; kept as unparsed for replay"
                        );
                        let channel_label = channel.map(|id| id.to_string()).unwrap_or_default();
                        self.app.metrics().count_unparsed(
                            source,
                            &channel_label,
                            parts.len() as u64,
                        );
                    }
                    EventEnd::Failed(reason) => {
                        tracing::warn!(event.id = %result.id, reason = %reason, "inbound event not understood; kept for replay");
                    }
                }
            }
        }
        Ok(events.len())
    }

    /// Works out what one event comes to, without writing anything.
    async fn process_event(
        &self,
        event: &InboundEvent,
        channels: &mut ChannelCache,
    ) -> Result<EventResult, StoreError> {
        let failed = |reason: String| EventResult {
            id: event.id,
            writes: Vec::new(),
            end: EventEnd::Failed(reason),
        };
        let Some(connector) = self.connectors.get(&event.source) else {
            return Ok(failed(format!(
                "no {} connector in this build",
                event.source
            )));
        };
        let channel = match event.channel_id {
            Some(id) => Some(channels.by_id(&self.store, id).await?),
            None => None,
        };
        let origin = match (event.origin.strip_prefix("poll:"), &channel) {
            (Some(endpoint), Some(channel)) => Origin::Poll {
                endpoint,
                account: &channel.platform_id,
            },
            (Some(_), None) => return Ok(failed("a polled page without its channel".into())),
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
                return Ok(EventResult {
                    id: event.id,
                    writes: Vec::new(),
                    end: EventEnd::Unparsed {
                        channel: channel.as_ref().map(|channel| channel.id),
                        parts: vec![UnparsedPart {
                            path: "$".into(),
                            reason: err.to_string(),
                        }],
                    },
                })
            }
        };
        let mut writes = Vec::new();
        let mut unparsed = Vec::new();
        let mut unparsed_channel = channel.as_ref().map(|channel| channel.id);
        for part in parts {
            match part.item {
                InboundItem::Unrecognized { account, reason } => {
                    if unparsed_channel.is_none() {
                        if let Some(account) = &account {
                            unparsed_channel = channels
                                .by_account(&self.store, event.source, account)
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
                item => match self.write_for(event.source, item, channels).await? {
                    Ok(write) => writes.push(write),
                    // Kept, not dropped: once the account's channel is connected, a replay
                    // stores it.
                    Err(account) => unparsed.push(UnparsedPart {
                        path: part.path,
                        reason: format!(
                            "no {} channel is connected for account {account}",
                            event.source
                        ),
                    }),
                },
            }
        }
        let end = if unparsed.is_empty() {
            EventEnd::Done
        } else {
            EventEnd::Unparsed {
                channel: unparsed_channel,
                parts: unparsed,
            }
        };
        Ok(EventResult {
            id: event.id,
            writes,
            end,
        })
    }

    /// The write a recognised part asks for, or the account it names when no channel here is
    /// connected for it.
    async fn write_for(
        &self,
        kind: ChannelKind,
        item: InboundItem,
        channels: &mut ChannelCache,
    ) -> Result<Result<EventWrite, ExternalId>, StoreError> {
        let account = match &item {
            InboundItem::Message(message) | InboundItem::Edited(message) => &message.account,
            InboundItem::Removed { account, .. }
            | InboundItem::Hidden { account, .. }
            | InboundItem::Status { account, .. }
            | InboundItem::Fetch { account, .. } => account,
            InboundItem::Known { .. } | InboundItem::Unrecognized { .. } => {
                unreachable!("sorted out by the caller before a part reaches here")
            }
        };
        let Some(channel) = channels.by_account(&self.store, kind, account).await? else {
            return Ok(Err(account.clone()));
        };
        Ok(Ok(match item {
            InboundItem::Message(message) => {
                let public = matches!(
                    message.kind,
                    MessageKind::Comment | MessageKind::Post | MessageKind::Mention
                );
                // An optional per-channel rule: new public messages of trolls and spammers
                // are hidden on the platform, the hide queued with the message itself.
                EventWrite::Message {
                    hide_if_flagged: public && channel.auto_hide_flagged,
                    message: to_new_message(&channel, message),
                }
            }
            InboundItem::Edited(message) => EventWrite::Edit(to_new_message(&channel, message)),
            InboundItem::Removed { platform_id, .. } => EventWrite::Removed {
                channel_id: channel.id,
                platform_id,
            },
            InboundItem::Fetch { object_id, .. } => EventWrite::Fetch {
                channel_id: channel.id,
                object_id,
            },
            InboundItem::Hidden {
                platform_id,
                hidden,
                ..
            } => EventWrite::Hidden {
                channel_id: channel.id,
                platform_id,
                hidden,
            },
            // With a reference, a send whose answer was lost is settled by the platform's
            // own word.
            InboundItem::Status {
                platform_id,
                status,
                error,
                reference,
                ..
            } => EventWrite::Status {
                channel_id: channel.id,
                platform_id,
                status,
                error,
                reference,
            },
            InboundItem::Known { .. } | InboundItem::Unrecognized { .. } => {
                unreachable!("sorted out by the caller before a part reaches here")
            }
        }))
    }

    /// The rules (out-of-hours auto-replies), until `stop` turns true: each new customer
    /// message is looked at once, on whichever node takes it first.
    pub async fn run_rules(self, mut stop: watch::Receiver<bool>) {
        let mut last_spike_check: Option<std::time::Instant> = None;
        let mut last_snooze_check: Option<std::time::Instant> = None;
        while !*stop.borrow() {
            // Bursts of customer messages are looked for every few seconds.
            if last_spike_check.is_none_or(|at| at.elapsed() >= SPIKE_CHECK_EVERY) {
                if let Err(err) = self.app.detect_spike().await {
                    tracing::warn!(error = %err, "rules: spike detection failed");
                }
                last_spike_check = Some(std::time::Instant::now());
            }
            // Conversations waiting past an escalation rule's target are escalated, and
            // snoozed conversations whose time has come return to the queue.
            if last_snooze_check.is_none_or(|at| at.elapsed() >= SNOOZE_CHECK_EVERY) {
                if let Err(err) = self.app.run_timed_rules().await {
                    tracing::warn!(error = %err, "rules: escalations and snoozes failed");
                }
                last_snooze_check = Some(std::time::Instant::now());
            }
            let worked = match self.app.run_rules().await {
                Ok(count) => count > 0,
                Err(err) => {
                    tracing::warn!(error = %err, "rules: store unavailable");
                    false
                }
            };
            if !worked && self.idle(&mut stop, Duration::from_millis(500)).await {
                break;
            }
        }
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
                // Nothing was sent. The secret key may be rotating (another node re-sealed
                // the credentials under a key this node reads again shortly): the reply waits
                // and is tried again, never failed for it.
                self.store
                    .fail_outbox(
                        item.id,
                        owner,
                        "the channel's credentials do not open with this node's secret key; retrying",
                        Some(Timestamp::now().plus_millis(30_000)),
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
            let (wait, held_back) = match self.name_people_once().await {
                // The platform holds calls back: wait for it instead of asking every second.
                Ok((_, Some(hold))) => (hold.max(Duration::from_secs(1)), true),
                Ok((asked, None)) if asked > 0 => (Duration::from_millis(200), false),
                Ok(_) => (Duration::from_secs(5), false),
                Err(err) => {
                    tracing::warn!(error = %err, "profiles: store unavailable");
                    (Duration::from_secs(5), false)
                }
            };
            // Woken by new messages (the normalizer's signal keeps a permit, so none is
            // missed) at most once a second, not once per batch of a burst. Held back by the
            // platform, new contacts wait too.
            let ran = tokio::time::Instant::now();
            tokio::select! {
                _ = stop.changed() => {}
                () = self.new_contacts.notified(), if !held_back => {}
                () = tokio::time::sleep(wait) => {}
            }
            if *stop.borrow() {
                break;
            }
            tokio::select! {
                _ = stop.changed() => {}
                () = tokio::time::sleep_until(ran + Duration::from_secs(1)) => {}
            }
        }
    }

    /// Asks about one batch of unnamed people; returns how many were asked about, and how
    /// long the platform asked to be left alone when it throttled.
    pub async fn name_people_once(&self) -> Result<(usize, Option<Duration>), StoreError> {
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
                    if name.is_some() {
                        self.app.activity_changed();
                    }
                }
                // A passing failure: asked again on a later round; this round stops here so a
                // struggling platform is not pressed.
                Ok(Err(err)) if err.is_retryable() || matches!(err, ConnectorError::Unknown(_)) => {
                    tracing::info!(error = %err, "profiles: the platform did not answer; later");
                    return Ok((asked, err.retry_after()));
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
        Ok((asked, None))
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

    /// Polls every channel whose turn has come and whose lease this node holds: its
    /// endpoints, the objects webhooks named without content (at once), and its saved
    /// searches when their turn within the request budget has come.
    async fn poll_due(
        &self,
        schedule: &mut HashMap<ChannelId, PollState>,
    ) -> Result<(), StoreError> {
        let channels = self.store.list_channels().await?;
        // Only channels with searches take the lease for them: on SQLite every write counts.
        let (fetching, searching) = self.store.listening_channels(Timestamp::now()).await?;
        for channel in channels {
            if channel.health == ChannelHealth::Paused {
                continue;
            }
            let Some(connector) = self.connectors.get(&channel.kind).cloned() else {
                continue;
            };
            let state = schedule.entry(channel.id).or_default();
            let instant = tokio::time::Instant::now();
            let poll_due = instant >= state.next_poll;
            let fetch_due = fetching.contains(&channel.id);
            let search_due = searching.contains(&channel.id) && instant >= state.next_search;
            if !poll_due && !fetch_due && !search_due {
                continue;
            }
            let credentials = match self.store.channel_credentials(channel.id).await {
                Ok(credentials) => credentials,
                Err(StoreError::Decrypt) => {
                    state.next_poll = tokio::time::Instant::now() + Duration::from_secs(300);
                    state.next_search = state.next_poll;
                    continue;
                }
                Err(err) => return Err(err),
            };
            let fingerprint = channel.credentials_version.to_string();
            if let Some(blocked) = &state.blocked_on_credentials {
                if *blocked == fingerprint {
                    // The token that failed is still the one stored: do not hammer the platform.
                    state.next_poll = tokio::time::Instant::now() + Duration::from_secs(5);
                    state.next_search = state.next_poll;
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
                state.next_search = state.next_poll;
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
                state.next_search = state.next_poll;
                continue;
            };
            if fetch_due {
                self.fetch_objects(connector.as_ref(), &channel, &credentials)
                    .instrument(span.clone())
                    .await?;
            }
            if search_due {
                let wait = self
                    .run_searches(connector.as_ref(), &channel, &credentials)
                    .instrument(span.clone())
                    .await?;
                state.next_search = tokio::time::Instant::now() + wait;
            }
            if poll_due {
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
        }
        Ok(())
    }

    /// Stores a polled body in the inbound event log (a repeat of the same bytes is one event).
    async fn store_polled(
        &self,
        channel: &Channel,
        body: &buzon_connector::PolledBody,
    ) -> Result<(), StoreError> {
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
        Ok(())
    }

    /// Fetches the objects webhooks named without their content (Facebook Page mentions) and
    /// stores each answer in the event log, where the normalizer makes it a message. An object
    /// that is gone (deleted, or not readable with the Page token) is given up; another failure
    /// is tried again later, backing off to once an hour.
    async fn fetch_objects(
        &self,
        connector: &dyn Connector,
        channel: &Channel,
        credentials: &ChannelCredentials,
    ) -> Result<(), StoreError> {
        let due = self
            .store
            .due_fetches(channel.id, Timestamp::now(), FETCH_BATCH)
            .await?;
        if due.is_empty() {
            return Ok(());
        }
        let ids: Vec<ExternalId> = due.iter().map(|(id, ..)| id.clone()).collect();
        let fetched = connector.fetch_objects(channel, credentials, &ids).await;
        let mut stored = 0;
        for (fetch, (_, requested_at, attempts)) in fetched.into_iter().zip(&due) {
            match fetch.outcome {
                Ok(body) => {
                    self.store_polled(channel, &body).await?;
                    self.store
                        .finish_fetch(channel.id, &fetch.object_id, *requested_at)
                        .await?;
                    stored += 1;
                }
                Err(ConnectorError::Permanent(reason)) => {
                    tracing::info!(object = %fetch.object_id, %reason, "a mentioned object cannot be read; given up");
                    self.store
                        .finish_fetch(channel.id, &fetch.object_id, *requested_at)
                        .await?;
                }
                Err(err) => {
                    // Never given up on while the platform may still answer (a mention is only
                    // here): 10 s, doubling, at most an hour apart; a throttle's own wait.
                    let backoff = Duration::from_secs(10)
                        .saturating_mul(1u32 << (*attempts).clamp(0, 9) as u32)
                        .min(Duration::from_secs(3600));
                    let wait = match &err {
                        ConnectorError::RateLimited {
                            retry_after: Some(wait),
                            ..
                        } => (*wait).max(backoff),
                        _ => backoff,
                    };
                    tracing::info!(object = %fetch.object_id, error = %err, "fetching a mentioned object failed; retried");
                    self.store
                        .delay_fetch(
                            channel.id,
                            &fetch.object_id,
                            *requested_at,
                            Timestamp::now().plus_millis(wait.as_millis() as i64),
                            &err.to_string(),
                        )
                        .await?;
                }
            }
        }
        if stored > 0 {
            self.app.wake_workers();
        }
        Ok(())
    }

    /// Runs the channel's saved searches whose turn has come, one request each, storing what
    /// they find and where each stands; returns how long until the next one is due. An
    /// invalid query (X's 400) is kept on the search, shown on the channel's health, and not
    /// tried again until the query changes; a 429 waits for its reset.
    async fn run_searches(
        &self,
        connector: &dyn Connector,
        channel: &Channel,
        credentials: &ChannelCredentials,
    ) -> Result<Duration, StoreError> {
        let searches = self.store.saved_searches(channel.id).await?;
        let count = searches.len();
        let now = Timestamp::now();
        let mut next_due = SEARCH_LOOK_AGAIN;
        for search in searches {
            if search.next_poll_at > now {
                next_due = next_due.min(Duration::from_millis(
                    (search.next_poll_at.as_millis() - now.as_millis()) as u64,
                ));
                continue;
            }
            let request = buzon_connector::SearchRequest {
                id: search.id,
                query: search.query.clone(),
                since_id: search.since_id.clone(),
                newest_id: search.newest_id.clone(),
                next_token: search.next_token.clone(),
                searches: count,
            };
            let (run, wait) = match connector.search(channel, credentials, &request).await {
                Ok(page) => {
                    if let Some(body) = &page.body {
                        self.store_polled(channel, body).await?;
                        self.app.wake_workers();
                    }
                    let run = buzon_store::SearchRun {
                        query: search.query.clone(),
                        since_id: page.since_id,
                        newest_id: page.newest_id,
                        next_token: page.next_token,
                        next_poll_at: Timestamp::now().plus_millis(page.wait.as_millis() as i64),
                        last_error: None,
                    };
                    (run, page.wait)
                }
                Err(err) => {
                    // A refusal (X's 400): when the run had a cursor, the cursor may be what X
                    // refused (a `next_token` gone stale), so the run ends there and starts
                    // again at once without it; without one it is the query, shown and not
                    // tried again until it changes (or a day, so a plan change is noticed).
                    let had_cursor = search.next_token.is_some() || search.since_id.is_some();
                    let (wait, error) = match &err {
                        ConnectorError::Permanent(reason) if had_cursor => {
                            tracing::info!(search = search.id, %reason, "x refused a saved search's cursor; starting over");
                            (Duration::from_secs(1), Some(reason.clone()))
                        }
                        ConnectorError::Permanent(reason) => {
                            tracing::warn!(search = search.id, %reason, "x refused a saved search");
                            (Duration::from_secs(86_400), Some(reason.clone()))
                        }
                        ConnectorError::RateLimited { retry_after, .. } => {
                            (retry_after.unwrap_or(Duration::from_secs(60)), None)
                        }
                        ConnectorError::QuotaExhausted(reason) => {
                            (Duration::from_secs(3_600), Some(reason.clone()))
                        }
                        other => {
                            tracing::info!(search = search.id, error = %other, "a saved search failed; retried");
                            (Duration::from_secs(10), search.last_error.clone())
                        }
                    };
                    let restart = matches!(err, ConnectorError::Permanent(_)) && had_cursor;
                    let run = buzon_store::SearchRun {
                        query: search.query.clone(),
                        since_id: if restart {
                            None
                        } else {
                            search.since_id.clone()
                        },
                        newest_id: if restart {
                            None
                        } else {
                            search.newest_id.clone()
                        },
                        next_token: if restart {
                            None
                        } else {
                            search.next_token.clone()
                        },
                        next_poll_at: Timestamp::now().plus_millis(wait.as_millis() as i64),
                        last_error: error,
                    };
                    (run, wait)
                }
            };
            if !self
                .store
                .save_search_run(
                    channel.id,
                    search.id,
                    &self.config.node_id,
                    Timestamp::now(),
                    &run,
                )
                .await?
            {
                tracing::info!(
                    "a saved search changed, or the poll lease moved, before its run was saved; not saved"
                );
            }
            next_due = next_due.min(wait);
        }
        Ok(next_due)
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
                    self.store_polled(channel, body).await?;
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
    /// When this channel's saved searches are next looked at (X).
    next_search: tokio::time::Instant,
    failures: i32,
    blocked_on_credentials: Option<String>,
    rate_limited: bool,
}

impl Default for PollState {
    fn default() -> PollState {
        PollState {
            next_poll: tokio::time::Instant::now(),
            next_search: tokio::time::Instant::now(),
            failures: 0,
            blocked_on_credentials: None,
            rate_limited: false,
        }
    }
}

/// How many times an inbound event is claimed, its worker dying each time, before it is failed.
const MAX_EVENT_ATTEMPTS: i32 = 5;

/// How many mentioned objects one poll fetches.
const FETCH_BATCH: u32 = 20;

/// The longest a channel's saved searches go unlooked-at (a search just saved waits no longer).
const SEARCH_LOOK_AGAIN: Duration = Duration::from_secs(5);

/// How many inbound events one normalizer claims and writes in one transaction.
const NORMALIZE_BATCH: u32 = 500;

/// The channels a batch of events names, looked up once per batch on a reader.
#[derive(Default)]
struct ChannelCache {
    by_id: HashMap<ChannelId, Channel>,
    by_account: HashMap<(ChannelKind, String), Option<Channel>>,
    /// Channels something arrived for: their health shows when they last heard anything.
    touched: Vec<ChannelId>,
}

impl ChannelCache {
    async fn by_id(&mut self, store: &Store, id: ChannelId) -> Result<Channel, StoreError> {
        if let Some(channel) = self.by_id.get(&id) {
            return Ok(channel.clone());
        }
        let channel = store.channel(id).await?;
        self.by_id.insert(id, channel.clone());
        Ok(channel)
    }

    async fn by_account(
        &mut self,
        store: &Store,
        kind: ChannelKind,
        account: &ExternalId,
    ) -> Result<Option<Channel>, StoreError> {
        let key = (kind, account.as_str().to_owned());
        if let Some(found) = self.by_account.get(&key) {
            return Ok(found.clone());
        }
        let found = store.channel_by_platform_id(kind, account.as_str()).await?;
        match &found {
            Some(channel) => {
                if !self.touched.contains(&channel.id) {
                    self.touched.push(channel.id);
                }
            }
            None => {
                tracing::info!(platform = %kind, "inbound item for an account with no channel here; kept as unparsed")
            }
        }
        self.by_account.insert(key, found.clone());
        Ok(found)
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
        found_by: message.found_by,
    }
}

/// Up to `millis` milliseconds, so nodes and workers do not all wake at the same instant.
fn jitter(millis: u64) -> Duration {
    Duration::from_millis(rand::random::<u64>() % millis.max(1))
}
