//! Events out: admins register webhooks (a URL, the events it wants, a secret); the database
//! queues one delivery per subscription and event in the transaction of the change (triggers:
//! a message received, a reply sent, a status changed, an escalation), and the sender posts
//! each, signed, retried with backoff, with a log. The payload is built here, at send time.

use crate::{target, Actor, App, AppError};
use buzon_core::*;
use buzon_store::{EventDelivery, EventSubscription, StoreError};
use serde::Deserialize;
use serde_json::{json, Value};

/// The events a subscription may ask for.
pub const EVENT_KINDS: [&str; 4] = [
    "message.received",
    "message.sent",
    "conversation.status_changed",
    "conversation.escalated",
];

/// A subscription as an admin writes it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"url": "https://crm.shop.example/buzon-events", "events": ["message.received", "conversation.status_changed"]}))]
pub struct SubscriptionInput {
    /// Where to post: `https://…` (or `http://`).
    pub url: String,
    /// Some of [`EVENT_KINDS`].
    pub events: Vec<String>,
    /// The signing secret (16 to 256 bytes); absent: buzon makes one and shows it once.
    #[serde(default)]
    pub secret: Option<String>,
}

/// A subscription as shown (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct SubscriptionView {
    /// Its id.
    pub id: i64,
    /// Where events go.
    pub url: String,
    /// The events it gets.
    pub events: Vec<String>,
    /// When it was added (RFC 3339).
    pub created_at: String,
}

impl From<&EventSubscription> for SubscriptionView {
    fn from(subscription: &EventSubscription) -> SubscriptionView {
        SubscriptionView {
            id: subscription.id,
            url: subscription.url.clone(),
            events: subscription.events.clone(),
            created_at: subscription.created_at.to_rfc3339(),
        }
    }
}

impl App {
    /// The subscriptions. Admins only.
    pub async fn event_subscriptions(
        &self,
        actor: &Actor,
    ) -> Result<Vec<SubscriptionView>, AppError> {
        actor.require(Role::Admin)?;
        Ok(self
            .store()
            .event_subscriptions()
            .await?
            .iter()
            .map(SubscriptionView::from)
            .collect())
    }

    /// Adds a subscription; returns it with its secret (shown this once). Admins only; a URL
    /// that points at this machine or a private network is refused unless allowed.
    pub async fn add_event_subscription(
        &self,
        actor: &Actor,
        input: &SubscriptionInput,
    ) -> Result<(SubscriptionView, String), AppError> {
        actor.require(Role::Admin)?;
        let url = input.url.trim();
        if url_host(url).is_none()
            || url.len() > 2_000
            || url.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(AppError::invalid(
                "bad_url",
                "the URL must be an http:// or https:// URL",
            ));
        }
        self.check_outgoing_url(Some(url))?;
        let mut events: Vec<&str> = Vec::new();
        for event in &input.events {
            match EVENT_KINDS.iter().find(|known| **known == event.trim()) {
                Some(known) if !events.contains(known) => events.push(known),
                Some(_) => {}
                None => {
                    return Err(AppError::invalid(
                        "unknown_event",
                        format!(
                            "unknown event {:?}: expected some of {}",
                            event.chars().take(64).collect::<String>(),
                            EVENT_KINDS.join(", ")
                        ),
                    ))
                }
            }
        }
        if events.is_empty() {
            return Err(AppError::invalid("no_events", "choose at least one event"));
        }
        let secret = match input.secret.as_deref().map(str::trim) {
            Some(secret) if !(16..=256).contains(&secret.len()) => {
                return Err(AppError::invalid(
                    "bad_secret",
                    "the secret must be 16 to 256 bytes",
                ))
            }
            Some(secret) => secret.to_owned(),
            None => hex::encode(rand::random::<[u8; 24]>()),
        };
        let mut tx = self.store().begin().await?;
        let id = tx.add_event_subscription(url, &events, &secret).await?;
        tx.audit(
            &actor.audit_name(),
            "webhook.create",
            &target("webhook", id),
            &json!({"url": url, "events": events}),
        )
        .await?;
        tx.commit().await?;
        let view = SubscriptionView {
            id,
            url: url.to_owned(),
            events: events.iter().map(|event| (*event).to_owned()).collect(),
            created_at: self.now().to_rfc3339(),
        };
        Ok((view, secret))
    }

    /// Deletes a subscription (its queued deliveries fail; the log keeps them). Admins only.
    pub async fn delete_event_subscription(&self, actor: &Actor, id: i64) -> Result<(), AppError> {
        actor.require(Role::Admin)?;
        let mut tx = self.store().begin().await?;
        tx.delete_event_subscription(id).await?;
        tx.audit(
            &actor.audit_name(),
            "webhook.delete",
            &target("webhook", id),
            &json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Queues a `test` event for a subscription. Admins only.
    pub async fn send_test_event(&self, actor: &Actor, id: i64) -> Result<i64, AppError> {
        actor.require(Role::Admin)?;
        let mut tx = self.store().begin().await?;
        let delivery = tx.queue_test_event(id).await?;
        tx.audit(
            &actor.audit_name(),
            "webhook.test",
            &target("webhook", id),
            &json!({}),
        )
        .await?;
        tx.commit().await?;
        self.wake_workers();
        Ok(delivery)
    }

    /// The delivery log (of one subscription when given), newest first. Admins only.
    pub async fn event_deliveries(
        &self,
        actor: &Actor,
        subscription: Option<i64>,
        limit: u32,
    ) -> Result<Vec<EventDelivery>, AppError> {
        actor.require(Role::Admin)?;
        Ok(self
            .store()
            .event_deliveries(subscription, limit.clamp(1, 500))
            .await?)
    }

    /// Puts a failed delivery back in the queue. Admins only.
    pub async fn retry_event_delivery(&self, actor: &Actor, id: i64) -> Result<(), AppError> {
        actor.require(Role::Admin)?;
        let mut tx = self.store().begin().await?;
        tx.retry_event_delivery(id).await?;
        tx.audit(
            &actor.audit_name(),
            "webhook.retry",
            &target("webhook_delivery", id),
            &json!({}),
        )
        .await?;
        tx.commit().await?;
        self.wake_workers();
        Ok(())
    }

    /// The event a delivery carries, as posted: `{"id","type","created_at","data"}`. Its id is
    /// the same on every retry, so a receiver can drop what it already has. What it was about
    /// may be gone by now (a message removed): then `data` says `"removed": true`.
    pub async fn event_payload(&self, delivery: &EventDelivery) -> Result<Value, AppError> {
        let missing = |err: StoreError| match err {
            StoreError::NotFound => Ok(json!({"removed": true, "subject_id": delivery.subject_id})),
            other => Err(AppError::from(other)),
        };
        let data = match delivery.event.as_str() {
            "message.received" | "message.sent" => {
                match self.store().message(MessageId(delivery.subject_id)).await {
                    Ok(message) => self.message_data(&message).await?,
                    Err(err) => missing(err)?,
                }
            }
            "conversation.status_changed" => {
                match self.store().status_change(delivery.subject_id).await {
                    Ok(change) => json!({
                        "conversation": self.conversation_data(change.conversation_id).await?,
                        "status": change.status,
                        "user_id": change.user_id,
                        "changed_at": change.changed_at.to_rfc3339(),
                    }),
                    Err(err) => missing(err)?,
                }
            }
            "conversation.escalated" => match self.store().escalation(delivery.subject_id).await {
                Ok(escalation) => json!({
                    "conversation": self.conversation_data(escalation.conversation_id).await?,
                    "by": escalation.escalated_by,
                    "note": escalation.note,
                    "escalated_at": escalation.escalated_at.to_rfc3339(),
                }),
                Err(err) => missing(err)?,
            },
            _ => json!({"message": "a test event from buzon"}),
        };
        Ok(json!({
            "id": format!("evt_{}", delivery.id),
            "type": delivery.event,
            "created_at": delivery.created_at.to_rfc3339(),
            "data": data,
        }))
    }

    async fn message_data(&self, message: &Message) -> Result<Value, AppError> {
        let author = match message.contact_id {
            Some(contact) => match self.store().contact(contact).await {
                Ok(contact) => {
                    json!({"id": contact.id, "name": contact.name, "handle": contact.handle})
                }
                Err(_) => Value::Null,
            },
            None => Value::Null,
        };
        Ok(json!({
            "message": {
                "id": message.id,
                "conversation_id": message.conversation_id,
                "channel_id": message.channel_id,
                "direction": message.direction.as_str(),
                "text": message.text,
                "language": message.language,
                "status": message.status.as_str(),
                "created_at": message.created_at.to_rfc3339(),
                "user_id": message.user_id,
                "automatic": message.automatic,
                "author": author,
            },
            "conversation": self.conversation_data(message.conversation_id).await?,
        }))
    }

    async fn conversation_data(&self, id: ConversationId) -> Result<Value, AppError> {
        Ok(match self.store().conversation(id).await {
            Ok(conversation) => json!({
                "id": conversation.id,
                "channel_id": conversation.channel_id,
                "channel": conversation.channel_kind.as_str(),
                "kind": conversation.kind.as_str(),
                "status": conversation.status.as_str(),
                "labels": conversation.labels,
                "assignee_id": conversation.assignee_id,
            }),
            Err(StoreError::NotFound) => json!({"id": id, "removed": true}),
            Err(err) => return Err(err.into()),
        })
    }

    /// Every subscription with its secret, for the sender. Buzon's own worker only.
    pub async fn subscriptions_for_sending(&self) -> Result<Vec<EventSubscription>, AppError> {
        Ok(self.store().event_subscriptions().await?)
    }
}
