//! Working the queue: the inbox and a conversation (reads), and replies, template replies,
//! notes, status and snooze, assignment, conversation and author labels, person links and
//! hiding messages on the platform (writes, each audited in its own transaction).

use crate::{target, Actor, App, AppError};
use buzon_core::*;
use buzon_store::StoreError;
use serde_json::json;
use std::collections::HashMap;

/// The longest reply, in bytes.
pub const MAX_REPLY_BYTES: usize = 8192;
/// The most labels one request may add or remove.
const MAX_LABELS_PER_CHANGE: usize = 32;
/// The longest note, in bytes.
const MAX_NOTE_BYTES: usize = 16 * 1024;

/// What a queue listing asks for, as the pages and the API receive it (every value optional
/// text): parsed and checked once, here.
#[derive(Debug, Clone, Default)]
pub struct InboxParams {
    /// `open` (the default), `pending`, `snoozed`, `resolved` or `all`.
    pub status: Option<String>,
    /// A channel id.
    pub channel: Option<String>,
    /// A conversation label.
    pub tag: Option<String>,
    /// `me`/`mine`, `none`/`unassigned`, or a user id.
    pub assignee: Option<String>,
    /// Full-text search.
    pub q: Option<String>,
    /// `newest` (the default), `waiting` or `window`.
    pub sort: Option<String>,
    /// Flagged authors (troll, spam, blocked): `exclude` (the default), `only` or `include`.
    pub flagged: Option<String>,
    /// The language the customer last wrote in (ISO 639-1: `es`, `en`…).
    pub language: Option<String>,
    /// `escalated`: the conversations escalated to the supervisors (any status but resolved,
    /// unless `status` says otherwise).
    pub view: Option<String>,
    /// Page size (1 to 200, default 50).
    pub limit: Option<u32>,
    /// The cursor of the previous page.
    pub cursor: Option<String>,
}

/// One page of the queue, with the authors of its conversations.
#[derive(Debug, Clone)]
pub struct InboxPage {
    /// The conversations, in the requested order.
    pub conversations: Vec<Conversation>,
    /// Their authors.
    pub contacts: HashMap<ContactId, Contact>,
    /// The cursor of the next page, if there is one.
    pub next_cursor: Option<String>,
    /// The filter the parameters meant.
    pub filter: ConversationFilter,
}

/// A conversation's messages with the people who wrote them.
#[derive(Debug, Clone)]
pub struct Thread {
    /// The conversation.
    pub conversation: Conversation,
    /// Its messages, oldest first.
    pub messages: Vec<Message>,
    /// The authors of its inbound messages (the customer first of all).
    pub contacts: HashMap<ContactId, Contact>,
    /// The names of the users who wrote its outbound messages.
    pub user_names: HashMap<UserId, String>,
}

/// Everything the conversation page shows.
#[derive(Debug, Clone)]
pub struct ConversationDetail {
    /// The conversation and its messages.
    pub thread: Thread,
    /// The customer.
    pub author: Contact,
    /// Internal notes, oldest first, with their authors' names in `thread.user_names`.
    pub notes: Vec<Note>,
    /// Approved templates that may be sent, when the reply window is closed.
    pub templates: Vec<ReplyTemplate>,
    /// The customer's other profiles (the same person on other channels).
    pub other_profiles: Vec<(Contact, Option<ChannelKind>)>,
    /// The person's other conversations (on every linked profile), newest first.
    pub history: Vec<Conversation>,
    /// The canned replies last sent to the person, newest first.
    pub canned_uses: Vec<buzon_store::CannedUse>,
}

/// A reply in the outbox.
#[derive(Debug, Clone)]
pub struct Queued {
    /// The outbound message (status queued).
    pub message: Message,
    /// The platform of its conversation.
    pub channel_kind: ChannelKind,
}

impl App {
    /// One page of the queue. Every role may read it.
    pub async fn inbox(&self, actor: &Actor, params: &InboxParams) -> Result<InboxPage, AppError> {
        actor.require(Role::Viewer)?;
        let filter = self.filter_of(actor, params)?;
        let page = self
            .store()
            .list_conversations(&filter, page_size(params.limit), params.cursor.as_deref())
            .await?;
        let mut author_ids: Vec<ContactId> = page
            .items
            .iter()
            .map(|conversation| conversation.contact_id)
            .collect();
        author_ids.sort();
        author_ids.dedup();
        let contacts = self
            .store()
            .contacts(&author_ids)
            .await?
            .into_iter()
            .map(|contact| (contact.id, contact))
            .collect();
        Ok(InboxPage {
            conversations: page.items,
            contacts,
            next_cursor: page.next_cursor,
            filter,
        })
    }

    fn filter_of(
        &self,
        actor: &Actor,
        params: &InboxParams,
    ) -> Result<ConversationFilter, AppError> {
        let text = |value: &Option<String>| {
            value
                .as_deref()
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .map(str::to_owned)
        };
        let channel_id = match text(&params.channel) {
            None => None,
            Some(raw) => Some(ChannelId(raw.parse().map_err(|_| {
                AppError::invalid("bad_channel", "channel must be a channel id")
            })?)),
        };
        let assignee = match text(&params.assignee).as_deref() {
            None => AssigneeFilter::Any,
            Some("none") | Some("unassigned") => AssigneeFilter::Unassigned,
            Some("me") | Some("mine") => actor
                .user_id()
                .map(AssigneeFilter::User)
                .ok_or_else(|| AppError::invalid("no_user", "this token acts for no user"))?,
            Some(raw) => AssigneeFilter::User(UserId(raw.parse().map_err(|_| {
                AppError::invalid("bad_assignee", "assignee must be a user id, me or none")
            })?)),
        };
        let flagged = match text(&params.flagged).as_deref() {
            None | Some("exclude") => FlaggedFilter::Exclude,
            Some("only") => FlaggedFilter::Only,
            Some("include") => FlaggedFilter::Include,
            Some(_) => {
                return Err(AppError::invalid(
                    "bad_flagged",
                    "flagged must be exclude, only or include",
                ))
            }
        };
        let language = language_code(params.language.as_deref())?;
        let (escalated, monitoring) = match text(&params.view).as_deref() {
            None | Some("queue") => (false, false),
            Some("escalated") => (true, false),
            Some("monitoring") => (false, true),
            Some(_) => {
                return Err(AppError::invalid(
                    "bad_view",
                    "view must be queue, escalated or monitoring",
                ))
            }
        };
        let status = match (escalated || monitoring, text(&params.status)) {
            (true, None) => StatusFilter::parse(Some("all"))?,
            (_, status) => StatusFilter::parse(status.as_deref())?,
        };
        Ok(ConversationFilter {
            escalated,
            monitoring,
            language,
            sort: SortOrder::parse_lenient(params.sort.as_deref()),
            status,
            channel_id,
            label: text(&params.tag).as_deref().map(Label::parse).transpose()?,
            assignee,
            flagged,
            query: text(&params.q),
        })
    }

    /// A conversation with its messages and their authors. Every role may read it.
    pub async fn thread(&self, actor: &Actor, id: ConversationId) -> Result<Thread, AppError> {
        actor.require(Role::Viewer)?;
        let conversation = self.store().conversation(id).await?;
        let messages = self.store().messages_in(conversation.id).await?;
        let mut contact_ids: Vec<ContactId> = messages
            .iter()
            .filter_map(|message| message.contact_id)
            .chain([conversation.contact_id])
            .collect();
        contact_ids.sort();
        contact_ids.dedup();
        let contacts = self
            .store()
            .contacts(&contact_ids)
            .await?
            .into_iter()
            .map(|contact| (contact.id, contact))
            .collect();
        let mut user_ids: Vec<UserId> = messages.iter().filter_map(|m| m.user_id).collect();
        user_ids.sort();
        user_ids.dedup();
        let user_names = self.names_of(&user_ids).await?;
        Ok(Thread {
            conversation,
            messages,
            contacts,
            user_names,
        })
    }

    /// Everything the conversation page shows. Every role may read it.
    pub async fn conversation(
        &self,
        actor: &Actor,
        id: ConversationId,
    ) -> Result<ConversationDetail, AppError> {
        let mut thread = self.thread(actor, id).await?;
        let conversation = &thread.conversation;
        let author = match thread.contacts.get(&conversation.contact_id) {
            Some(author) => author.clone(),
            None => self.store().contact(conversation.contact_id).await?,
        };
        let notes = self.store().notes(conversation.id).await?;
        let note_users: Vec<UserId> = notes
            .iter()
            .filter_map(|note| note.user_id)
            .filter(|user| !thread.user_names.contains_key(user))
            .collect();
        let more = self.names_of(&note_users).await?;
        thread.user_names.extend(more);
        let templates = if conversation.reply_window_closed(Timestamp::now()) {
            self.store().templates(conversation.channel_kind).await?
        } else {
            Vec::new()
        };
        let person = self.store().person_contacts(author.id).await?;
        let person_ids: Vec<ContactId> = person.iter().map(|contact| contact.id).collect();
        let canned_uses = self.store().canned_uses(&person_ids, 5).await?;
        let history: Vec<Conversation> = self
            .store()
            .person_conversations(author.id, 20)
            .await?
            .into_iter()
            .filter(|other| other.id != conversation.id)
            .collect();
        let other_profiles = if person.len() > 1 {
            let kinds: HashMap<ChannelId, ChannelKind> = self
                .store()
                .list_channels()
                .await?
                .into_iter()
                .map(|channel| (channel.id, channel.kind))
                .collect();
            person
                .into_iter()
                .filter(|contact| contact.id != author.id)
                .map(|contact| {
                    let kind = kinds.get(&contact.channel_id).copied();
                    (contact, kind)
                })
                .collect()
        } else {
            Vec::new()
        };
        Ok(ConversationDetail {
            thread,
            author,
            notes,
            templates,
            other_profiles,
            history,
            canned_uses,
        })
    }

    /// Queues a reply: the outbound message and its outbox row, with the audit line, in one
    /// transaction, before any platform call. Agents and admins only; free text is refused
    /// while the platform's reply window is closed (with the templates that may be sent). The
    /// same `idempotency_key` from the same actor returns the first reply.
    pub async fn reply(
        &self,
        actor: &Actor,
        id: ConversationId,
        text: &str,
        idempotency_key: Option<&str>,
    ) -> Result<Queued, AppError> {
        actor.require(Role::Agent)?;
        let conversation = self.store().conversation(id).await?;
        self.send_text(actor, conversation, text, None, idempotency_key)
            .await
    }

    /// A typed (or canned) reply's way out: checked, refused while the reply window is closed,
    /// its placeholders filled once, signed when the channel wants it, and queued (counting the
    /// canned reply it came from, once, with the message).
    pub(crate) async fn send_text(
        &self,
        actor: &Actor,
        conversation: Conversation,
        text: &str,
        canned: Option<i64>,
        idempotency_key: Option<&str>,
    ) -> Result<Queued, AppError> {
        let text = reply_text(text)?;
        if conversation.reply_window_closed(self.now()) {
            let templates = self.store().templates(conversation.channel_kind).await?;
            return Err(AppError::WindowClosed { templates });
        }
        let mut text = reply_text(&self.fill_reply(actor, &conversation, &text).await?)?;
        if actor.user_id().is_some()
            && self
                .store()
                .channel_signature(conversation.channel_id)
                .await?
        {
            let first = self.agent_first_name(actor).await?;
            text = reply_text(&format!("{text}\n— {first}"))?;
        }
        self.queue_reply(actor, conversation, text, None, canned, idempotency_key)
            .await
    }

    /// Queues an approved template (the way to answer once the reply window has closed).
    pub async fn reply_with_template(
        &self,
        actor: &Actor,
        id: ConversationId,
        template_id: i64,
        idempotency_key: Option<&str>,
    ) -> Result<Queued, AppError> {
        actor.require(Role::Agent)?;
        let conversation = self.store().conversation(id).await?;
        let template = self
            .store()
            .templates(conversation.channel_kind)
            .await?
            .into_iter()
            .find(|template| template.id == template_id)
            .ok_or(AppError::NotFound)?;
        let text = reply_text(&template.body)?;
        let payload = TemplatePayload {
            name: template.name,
            language: template.language,
            parameters: Vec::new(),
        };
        self.queue_reply(
            actor,
            conversation,
            text,
            Some(payload),
            None,
            idempotency_key,
        )
        .await
    }

    async fn queue_reply(
        &self,
        actor: &Actor,
        conversation: Conversation,
        text: String,
        template: Option<TemplatePayload>,
        canned: Option<i64>,
        idempotency_key: Option<&str>,
    ) -> Result<Queued, AppError> {
        // Keys are the actor's own: two people (or tokens) never share a reply by accident.
        let idempotency_key = match idempotency_key.map(str::trim).filter(|key| !key.is_empty()) {
            Some(key) if key.len() > 200 => {
                return Err(AppError::invalid(
                    "bad_idempotency_key",
                    "the idempotency key must be at most 200 bytes",
                ))
            }
            Some(key) => format!("{}:{key}", actor.key_namespace()),
            None => format!("auto:{}", hex::encode(rand::random::<[u8; 16]>())),
        };
        let in_reply_to = self
            .store()
            .latest_inbound_platform_id(conversation.id)
            .await?;
        let reply = NewOutboundReply {
            conversation_id: conversation.id,
            user_id: actor.user_id(),
            text: text.clone(),
            idempotency_key: idempotency_key.clone(),
            payload: ReplyPayload {
                thread_key: conversation.thread_key.clone(),
                conversation_kind: Some(conversation.kind),
                in_reply_to,
                text,
                template,
            },
            automatic: false,
        };
        let mut tx = self.store().begin().await?;
        let queued = match tx.queue_reply(&reply).await {
            Ok(queued) => queued,
            Err(StoreError::Conflict) => {
                // Another request with the same key committed first: answer with its reply.
                drop(tx);
                let existing = self
                    .store()
                    .outbox_by_key(&idempotency_key)
                    .await?
                    .ok_or(AppError::NotFound)?;
                let message = self.store().message(existing.message_id).await?;
                return Ok(Queued {
                    message,
                    channel_kind: conversation.channel_kind,
                });
            }
            Err(err) => return Err(err.into()),
        };
        if queued.new {
            if let Some(canned) = canned {
                tx.record_canned_use(canned, queued.message.id, conversation.contact_id)
                    .await?;
            }
            // Answering a find of listening takes it into the queue: it is the team's now.
            if conversation.monitor.is_some()
                && tx
                    .promote_conversation(conversation.id, self.now(), false)
                    .await?
            {
                tx.audit(
                    &actor.audit_name(),
                    "conversation.promote",
                    &target("conversation", conversation.id),
                    &json!({"why": "reply"}),
                )
                .await?;
            }
            tx.audit(
                &actor.audit_name(),
                "conversation.reply",
                &target("conversation", conversation.id),
                &json!({"message_id": queued.message.id, "canned_reply_id": canned}),
            )
            .await?;
        }
        tx.commit().await?;
        if queued.new {
            self.wake_workers();
        }
        Ok(Queued {
            message: queued.message,
            channel_kind: conversation.channel_kind,
        })
    }

    /// Adds an internal note (only the team sees it). Agents and admins.
    pub async fn add_note(
        &self,
        actor: &Actor,
        id: ConversationId,
        text: &str,
    ) -> Result<(), AppError> {
        actor.require(Role::Agent)?;
        let text = text.trim();
        if text.is_empty() {
            return Err(AppError::invalid("empty_note", "the note is empty"));
        }
        let text = bound_text(text, MAX_NOTE_BYTES);
        let mut tx = self.store().begin().await?;
        tx.conversation(id).await?;
        tx.add_note(id, actor.user_id(), &text).await?;
        tx.audit(
            &actor.audit_name(),
            "conversation.note",
            &target("conversation", id),
            &json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Moves a conversation to another status (open, pending, snoozed, resolved). Agents and
    /// admins.
    pub async fn set_status(
        &self,
        actor: &Actor,
        id: ConversationId,
        status: ConversationStatus,
    ) -> Result<(), AppError> {
        actor.require(Role::Agent)?;
        let mut tx = self.store().begin().await?;
        let before = tx.conversation(id).await?.status;
        tx.set_conversation_status(id, status).await?;
        if status == ConversationStatus::Resolved && before != ConversationStatus::Resolved {
            // The closing question, queued with the resolution or not at all.
            self.ask_on_resolve(&mut tx, actor, id).await?;
        }
        tx.audit(
            &actor.audit_name(),
            "conversation.status",
            &target("conversation", id),
            &json!({"status": status.as_str()}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Snoozes a conversation until a time (or until the customer writes again). Agents and
    /// admins.
    pub async fn snooze(
        &self,
        actor: &Actor,
        id: ConversationId,
        until: Option<Timestamp>,
    ) -> Result<(), AppError> {
        actor.require(Role::Agent)?;
        if until.is_some_and(|until| until <= self.now()) {
            return Err(AppError::invalid(
                "snooze_in_the_past",
                "a conversation can only be snoozed until a time in the future",
            ));
        }
        let mut tx = self.store().begin().await?;
        tx.snooze_conversation(id, until).await?;
        tx.audit(
            &actor.audit_name(),
            "conversation.status",
            &target("conversation", id),
            &json!({"status": "snoozed", "until": until.map(Timestamp::to_rfc3339)}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Assigns a conversation to a user (who must exist), or to nobody. Agents and admins.
    pub async fn assign(
        &self,
        actor: &Actor,
        id: ConversationId,
        assignee: Option<UserId>,
    ) -> Result<(), AppError> {
        actor.require(Role::Agent)?;
        let mut tx = self.store().begin().await?;
        if let Some(user) = assignee {
            match tx.user(user).await {
                Err(StoreError::NotFound) => {
                    return Err(AppError::invalid("unknown_assignee", "unknown assignee"))
                }
                other => other?,
            };
        }
        tx.assign_conversation(id, assignee).await?;
        tx.audit(
            &actor.audit_name(),
            "conversation.assign",
            &target("conversation", id),
            &json!({"assignee": assignee}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds and removes labels on a conversation; returns the labels it then has. Agents and
    /// admins.
    pub async fn tag_conversation(
        &self,
        actor: &Actor,
        id: ConversationId,
        add: &[String],
        remove: &[String],
    ) -> Result<Vec<Label>, AppError> {
        actor.require(Role::Agent)?;
        let (add, remove) = (labels_of(add)?, labels_of(remove)?);
        let mut tx = self.store().begin().await?;
        let labels = tx.tag_conversation(id, &add, &remove).await?;
        tx.audit(
            &actor.audit_name(),
            "conversation.tags",
            &target("conversation", id),
            &json!({"add": add, "remove": remove}),
        )
        .await?;
        tx.commit().await?;
        Ok(labels)
    }

    /// Adds and removes labels on an author (troll, spam, influencer, vip, blocked…); returns
    /// the labels they then have. Flagging labels apply to the author's past and future
    /// messages. Agents and admins.
    pub async fn tag_contact(
        &self,
        actor: &Actor,
        id: ContactId,
        add: &[String],
        remove: &[String],
    ) -> Result<Vec<Label>, AppError> {
        actor.require(Role::Agent)?;
        let (add, remove) = (labels_of(add)?, labels_of(remove)?);
        let mut tx = self.store().begin().await?;
        let labels = tx.tag_contact(id, &add, &remove).await?;
        tx.audit(
            &actor.audit_name(),
            "contact.tags",
            &target("contact", id),
            &json!({"add": add, "remove": remove}),
        )
        .await?;
        tx.commit().await?;
        Ok(labels)
    }

    /// Links the author of a conversation with their profile on another channel: the best
    /// match for `query` (a name, handle or platform id). Agents and admins.
    pub async fn link_person(
        &self,
        actor: &Actor,
        id: ConversationId,
        query: &str,
    ) -> Result<PersonId, AppError> {
        actor.require(Role::Agent)?;
        let query = query.trim();
        if query.chars().count() < 2 {
            return Err(AppError::invalid(
                "link_query_short",
                "type at least two characters to find the other profile",
            ));
        }
        let conversation = self.store().conversation(id).await?;
        let other = self
            .store()
            .search_contacts(query, 10)
            .await?
            .into_iter()
            .find(|contact| contact.id != conversation.contact_id)
            .ok_or_else(|| {
                AppError::invalid(
                    "link_no_match",
                    format!("no profile matches {:?}", bound_text(query, 100)),
                )
            })?;
        let mut tx = self.store().begin().await?;
        let person = tx.link_contacts(conversation.contact_id, other.id).await?;
        tx.audit(
            &actor.audit_name(),
            "contact.link",
            &target("contact", conversation.contact_id),
            &json!({"with": other.id}),
        )
        .await?;
        tx.commit().await?;
        Ok(person)
    }

    /// Queues hiding (or showing again) a customer's message on the platform; never done
    /// inside the request. Agents, admins and buzon's own rules.
    pub async fn moderate(
        &self,
        actor: &Actor,
        conversation: ConversationId,
        message: MessageId,
        action: ModerationAction,
    ) -> Result<(), AppError> {
        actor.require(Role::Agent)?;
        let mut tx = self.store().begin().await?;
        let found = tx.message(message).await?;
        if found.conversation_id != conversation {
            return Err(AppError::NotFound);
        }
        // Hiding a message the platform cannot hide (a private chat) is queued all the same and
        // fails visibly in the outbox: the pages only offer it where it can work.
        tx.queue_moderation(message, action).await?;
        tx.audit(
            &actor.audit_name(),
            match action {
                ModerationAction::Hide => "message.hide",
                ModerationAction::Unhide => "message.unhide",
            },
            &target("message", message),
            &json!({}),
        )
        .await?;
        tx.commit().await?;
        self.wake_workers();
        Ok(())
    }

    /// Settles a reply whose outcome is unknown (the platform's answer was lost): an agent who
    /// checked on the platform says it arrived, or has it sent again. Never automatic: buzon
    /// does not send blindly twice. Agents and admins.
    pub async fn settle_send(
        &self,
        actor: &Actor,
        conversation: ConversationId,
        message: MessageId,
        arrived: bool,
    ) -> Result<(), AppError> {
        actor.require(Role::Agent)?;
        let mut tx = self.store().begin().await?;
        if tx.message(message).await?.conversation_id != conversation {
            return Err(AppError::NotFound);
        }
        tx.settle_unknown_send(message, arrived).await?;
        tx.audit(
            &actor.audit_name(),
            if arrived {
                "message.arrived"
            } else {
                "message.send_again"
            },
            &target("message", message),
            &json!({}),
        )
        .await?;
        tx.commit().await?;
        if !arrived {
            self.wake_workers();
        }
        Ok(())
    }

    /// Registers a WhatsApp template approved in the WhatsApp Manager, as approved: its name
    /// (lowercase letters, digits and `_`), language (`es`, `en_US`) and body, so that agents
    /// can send it when the 24-hour window has closed. Templates with parameters (`{{1}}`) are
    /// refused: buzon does not fill them yet. Admins.
    pub async fn add_template(
        &self,
        actor: &Actor,
        name: &str,
        language: &str,
        body: &str,
    ) -> Result<ReplyTemplate, AppError> {
        actor.require(Role::Admin)?;
        let invalid = |message: &str| AppError::invalid("invalid_template", message.to_owned());
        let (name, language, body) = (name.trim(), language.trim(), body.trim());
        if name.is_empty()
            || name.len() > 512
            || !name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(invalid(
                "the name is the template's name in WhatsApp: lowercase letters, digits and _",
            ));
        }
        let (code, region) = match language.split_once('_') {
            Some((code, region)) => (code, Some(region)),
            None => (language, None),
        };
        let code_ok = (2..=3).contains(&code.len()) && code.chars().all(|c| c.is_ascii_lowercase());
        let region_ok = region.is_none_or(|region| {
            region.len() == 2 && region.chars().all(|c| c.is_ascii_uppercase())
        });
        if !code_ok || !region_ok {
            return Err(invalid("the language is a code such as es, en or en_US"));
        }
        if body.is_empty() || body.chars().count() > 1024 {
            return Err(invalid("the body is 1 to 1,024 characters, as approved"));
        }
        // buzon sends a template without parameters: WhatsApp refuses one that has some
        // (error 132000), so such a template is not offered rather than failing later.
        if body.contains("{{") {
            return Err(invalid(
                "buzon sends templates without parameters for now: register one whose body has no {{1}}",
            ));
        }
        let mut tx = self.store().begin().await?;
        let id = match tx
            .insert_template(ChannelKind::Whatsapp, name, language, body)
            .await
        {
            Err(buzon_store::StoreError::Conflict) => {
                return Err(AppError::Conflict {
                    code: "template_exists",
                    message: format!("{name} ({language}) is registered already"),
                })
            }
            other => other?,
        };
        tx.audit(
            &actor.audit_name(),
            "template.add",
            &crate::target("template", id),
            &serde_json::json!({"name": name, "language": language}),
        )
        .await?;
        tx.commit().await?;
        Ok(ReplyTemplate {
            id,
            kind: ChannelKind::Whatsapp,
            name: name.to_owned(),
            language: language.to_owned(),
            body: body.to_owned(),
        })
    }

    /// Forgets a registered template. Admins.
    pub async fn delete_template(&self, actor: &Actor, id: i64) -> Result<(), AppError> {
        actor.require(Role::Admin)?;
        let mut tx = self.store().begin().await?;
        tx.delete_template(id).await?;
        tx.audit(
            &actor.audit_name(),
            "template.delete",
            &crate::target("template", id),
            &serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The approved templates of a platform. Every role may read them.
    pub async fn templates(
        &self,
        actor: &Actor,
        kind: ChannelKind,
    ) -> Result<Vec<ReplyTemplate>, AppError> {
        actor.require(Role::Viewer)?;
        Ok(self.store().templates(kind).await?)
    }

    pub(crate) async fn names_of(
        &self,
        ids: &[UserId],
    ) -> Result<HashMap<UserId, String>, AppError> {
        let mut names = HashMap::new();
        for id in ids {
            match self.store().user(*id).await {
                Ok(user) => {
                    names.insert(*id, user.name);
                }
                Err(StoreError::NotFound) => {}
                Err(err) => return Err(err.into()),
            }
        }
        Ok(names)
    }
}

/// A reply's text: trimmed, not empty, at most [`MAX_REPLY_BYTES`].
pub(crate) fn reply_text(text: &str) -> Result<String, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AppError::invalid("empty_reply", "text must not be empty"));
    }
    if text.len() > MAX_REPLY_BYTES {
        return Err(AppError::invalid(
            "reply_too_long",
            format!("text must be at most {MAX_REPLY_BYTES} bytes"),
        ));
    }
    Ok(text.to_owned())
}

/// A language as typed (ISO 639-1, any case; empty: none), checked against the known ones.
pub(crate) fn language_code(raw: Option<&str>) -> Result<Option<String>, AppError> {
    match raw
        .map(str::trim)
        .filter(|code| !code.is_empty())
        .map(str::to_lowercase)
    {
        None => Ok(None),
        Some(code) if is_known_language(&code) => Ok(Some(code)),
        Some(_) => Err(AppError::invalid(
            "bad_language",
            format!(
                "language must be one of {}",
                known_languages().collect::<Vec<_>>().join(", ")
            ),
        )),
    }
}

/// Labels as typed, checked; at most [`MAX_LABELS_PER_CHANGE`].
pub(crate) fn labels_of(raw: &[String]) -> Result<Vec<Label>, AppError> {
    if raw.len() > MAX_LABELS_PER_CHANGE {
        return Err(AppError::invalid(
            "too_many_labels",
            format!("at most {MAX_LABELS_PER_CHANGE} labels at a time"),
        ));
    }
    raw.iter()
        .map(|label| Label::parse(label).map_err(AppError::from))
        .collect()
}
