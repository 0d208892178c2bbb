//! A conversation: its thread, notes, the customer's other profiles, and its actions (reply,
//! template, note, status, assignment, labels, person link, hide/unhide), each a call to the
//! application layer followed by `303` back to the conversation.

use crate::http::{see_other, Agent, CsrfForm, Viewer, WebError};
use crate::i18n::{text, Lang};
use crate::view::{
    display_name, human_duration, minute, platform_of_channel, platform_of_conversation, render,
    Page,
};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use buzon_app::Thread;
use buzon_core::*;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, Default)]
pub(crate) struct ConversationQuery {
    fragment: Option<String>,
}

#[derive(Serialize)]
struct MessageView {
    id: i64,
    direction: &'static str,
    outbound: bool,
    author: String,
    created_at: String,
    created_at_text: String,
    text: String,
    attachments: Vec<Attachment>,
    delivery: &'static str,
    delivery_label: String,
    error: Option<String>,
    hidden: bool,
    deleted: bool,
    hideable: bool,
    /// The platform's answer to this send was lost: an agent checks and settles it.
    unknown: bool,
    /// Written by a rule of buzon (the out-of-hours auto-reply).
    automatic: bool,
    /// The language detected in a customer's text, and its name in the reader's language.
    language: Option<String>,
    language_name: Option<String>,
}

#[derive(Serialize)]
struct ConversationRef {
    id: i64,
}

#[derive(Serialize)]
struct ThreadView {
    lang: &'static str,
    messages: Vec<MessageView>,
    can_act: bool,
    csrf: String,
    conversation: ConversationRef,
}

#[derive(Serialize)]
struct ConversationSummary {
    id: i64,
    channel: &'static str,
    status: &'static str,
    status_label: String,
    tags: Vec<String>,
    waiting: Option<String>,
}

#[derive(Serialize)]
struct AuthorView {
    id: i64,
    name: String,
    handle: Option<String>,
    tags: Vec<String>,
}

#[derive(Serialize)]
struct LabelButton {
    label: &'static str,
    active: bool,
    action: &'static str,
}

#[derive(Serialize)]
struct NoteView {
    author: String,
    text: String,
    created_at_text: String,
}

#[derive(Serialize)]
struct TemplateView {
    id: i64,
    name: String,
    language: String,
    body: String,
}

#[derive(Serialize)]
struct StatusAction {
    value: &'static str,
    label: String,
}

#[derive(Serialize)]
struct ProfileView {
    channel: &'static str,
    name: String,
    handle: Option<String>,
}

#[derive(Serialize)]
struct HistoryView {
    id: i64,
    channel: &'static str,
    snippet: String,
    status: &'static str,
    status_label: String,
    when: String,
}

/// A canned reply offered by the `/` picker.
#[derive(Serialize)]
struct CannedView {
    id: i64,
    name: String,
    shortcut: String,
    text: String,
    language: Option<String>,
}

/// A placeholder and what it means here.
#[derive(Serialize)]
struct PlaceholderView {
    token: String,
    value: String,
}

/// A canned reply sent to this person before.
#[derive(Serialize)]
struct CannedUseView {
    name: String,
    shortcut: String,
    when: String,
}

#[derive(Serialize)]
struct ConversationView {
    conversation: ConversationSummary,
    author: AuthorView,
    author_label_buttons: Vec<LabelButton>,
    messages: Vec<MessageView>,
    notes: Vec<NoteView>,
    can_act: bool,
    window_closed: bool,
    templates: Vec<TemplateView>,
    status_actions: Vec<StatusAction>,
    assigned_to_me: bool,
    idempotency_key: String,
    latest_message_id: String,
    person: Option<Vec<ProfileView>>,
    history: Vec<HistoryView>,
    closed_banner: Option<String>,
    canned: Vec<CannedView>,
    placeholders: Vec<PlaceholderView>,
    canned_uses: Vec<CannedUseView>,
    escalated: bool,
    returned: bool,
    snoozed_until_text: Option<String>,
    queue: Vec<super::inbox::RowView>,
    /// Listening: still in the monitoring view (promote and dismiss are offered).
    watching: bool,
    /// Listening: what found it, in words.
    found: Option<String>,
    /// What a reply here is, where the platform may refuse it (listening's finds).
    reply_note: Option<String>,
}

/// `GET /conversations/{id}` (`?fragment` renders only the thread, for live updates).
pub(crate) async fn show_conversation(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
    Path(id): Path<i64>,
    Query(query): Query<ConversationQuery>,
) -> Result<Response, WebError> {
    let lang = caller.lang;
    let can_act = caller.actor.require(Role::Agent).is_ok();
    if query.fragment.is_some() {
        let thread = state
            .app()
            .thread(&caller.actor, ConversationId(id))
            .await?;
        let view = ThreadView {
            lang: lang.code(),
            messages: message_views(&thread, lang),
            can_act,
            csrf: caller.csrf().to_owned(),
            conversation: ConversationRef { id },
        };
        return Ok(render(&state, "thread", &view)?.into_response());
    }
    // The version is read before the content, so it is never newer than what the page shows:
    // whatever changes after it reaches the page through the live stream.
    let version = state.app().activity_version().await?;
    let detail = state
        .app()
        .conversation(&caller.actor, ConversationId(id))
        .await?;
    let now = Timestamp::now();
    let conversation = &detail.thread.conversation;
    let search_queries = match conversation.found_by {
        Some(buzon_core::FoundBy::Search(_)) => state.app().search_queries(&caller.actor).await?,
        _ => Default::default(),
    };
    let opening = state
        .app()
        .opening_state(Some(conversation.channel_id))
        .await?;
    let closed_banner = opening
        .back_at_text(lang.code())
        .map(|when| crate::i18n::text_with(lang, "hours-closed_banner", &[("when", when.into())]));
    let author = &detail.author;
    let platform = platform_of_conversation(conversation.kind);
    let (canned, placeholders) = if can_act {
        let values = state
            .app()
            .placeholder_values(&caller.actor, conversation)
            .await?;
        let placeholders = values
            .values
            .into_iter()
            .filter_map(|(name, value)| {
                value.map(|value| PlaceholderView {
                    token: format!("{{{{{name}}}}}"),
                    value,
                })
            })
            .collect();
        (
            state.app().canned_for(&caller.actor, conversation).await?,
            placeholders,
        )
    } else {
        (Vec::new(), Vec::new())
    };
    // The queue beside the thread (wide screens show it as the first of three panes).
    let mut queue = super::inbox::queue_rows(&state, &caller, 30).await?;
    for row in &mut queue {
        row.current = row.id == id;
    }
    let status_actions = match conversation.status {
        ConversationStatus::Resolved => vec![("open", "conversation-reopen")],
        _ => vec![
            ("resolved", "conversation-resolve"),
            ("pending", "conversation-pending"),
        ],
    }
    .into_iter()
    .map(|(value, key)| StatusAction {
        value,
        label: text(lang, key),
    })
    .collect();
    let labels = |labels: &[Label]| labels.iter().map(|l| l.as_str().to_owned()).collect();
    let view = ConversationView {
        conversation: ConversationSummary {
            id: conversation.id.get(),
            channel: conversation.channel_kind.as_str(),
            status: conversation.status.as_str(),
            status_label: text(lang, &format!("status-{}", conversation.status.as_str())),
            tags: labels(&conversation.labels),
            waiting: conversation
                .waiting_since
                .map(|since| human_duration(now.as_millis() - since.as_millis())),
        },
        author: AuthorView {
            id: author.id.get(),
            name: display_name(author, lang, platform),
            handle: author.handle.clone(),
            tags: labels(&author.labels),
        },
        author_label_buttons: [
            Label::TROLL,
            Label::SPAM,
            Label::INFLUENCER,
            Label::VIP,
            Label::BLOCKED,
        ]
        .into_iter()
        .map(|label| {
            let active = author.labels.iter().any(|l| l.as_str() == label);
            LabelButton {
                label,
                active,
                action: if active { "remove" } else { "add" },
            }
        })
        .collect(),
        messages: message_views(&detail.thread, lang),
        notes: detail
            .notes
            .iter()
            .map(|note| NoteView {
                author: note
                    .user_id
                    .and_then(|user| detail.thread.user_names.get(&user).cloned())
                    .unwrap_or_default(),
                text: note.text.clone(),
                created_at_text: minute(note.created_at),
            })
            .collect(),
        can_act,
        window_closed: conversation.reply_window_closed(now),
        templates: detail
            .templates
            .iter()
            .map(|template| TemplateView {
                id: template.id,
                name: template.name.clone(),
                language: template.language.clone(),
                body: template.body.clone(),
            })
            .collect(),
        status_actions,
        assigned_to_me: conversation.assignee_id.is_some()
            && conversation.assignee_id == caller.actor.user_id(),
        idempotency_key: hex::encode(rand::random::<[u8; 12]>()),
        latest_message_id: version,
        person: (!detail.other_profiles.is_empty()).then(|| {
            detail
                .other_profiles
                .iter()
                .map(|(contact, kind)| ProfileView {
                    channel: kind.map(ChannelKind::as_str).unwrap_or_default(),
                    name: display_name(
                        contact,
                        lang,
                        kind.map(platform_of_channel).unwrap_or("facebook"),
                    ),
                    handle: contact.handle.clone(),
                })
                .collect()
        }),
        history: detail
            .history
            .iter()
            .map(|other| HistoryView {
                id: other.id.get(),
                channel: other.channel_kind.as_str(),
                snippet: other
                    .last_message_text
                    .as_deref()
                    .map(|text| bound_text(text, 120))
                    .unwrap_or_default(),
                status: other.status.as_str(),
                status_label: text(lang, &format!("status-{}", other.status.as_str())),
                when: minute(other.last_activity_at),
            })
            .collect(),
        closed_banner,
        canned: canned
            .into_iter()
            .map(|reply| CannedView {
                id: reply.id,
                name: reply.name,
                shortcut: reply.shortcut,
                text: reply.text,
                language: reply.language,
            })
            .collect(),
        placeholders,
        canned_uses: detail
            .canned_uses
            .iter()
            .map(|used| CannedUseView {
                name: used.name.clone(),
                shortcut: used.shortcut.clone(),
                when: minute(used.used_at),
            })
            .collect(),
        watching: conversation.monitor == Some(buzon_core::Monitor::Watching),
        found: conversation
            .found_by
            .map(|found| super::inbox::found_label(found, &search_queries, lang)),
        reply_note: match (conversation.kind, conversation.found_by) {
            (buzon_core::ConversationKind::PageMention, _) => {
                Some(text(lang, "listening-reply_mention"))
            }
            (buzon_core::ConversationKind::PageReview, _) => {
                Some(text(lang, "listening-reply_review"))
            }
            (_, Some(buzon_core::FoundBy::Search(_))) => {
                Some(text(lang, "listening-reply_x_gated"))
            }
            _ => None,
        },
        escalated: conversation.escalated_at.is_some(),
        returned: conversation.returned_at.is_some(),
        snoozed_until_text: (conversation.status == ConversationStatus::Snoozed)
            .then_some(conversation.snoozed_until)
            .flatten()
            .map(minute),
        queue,
    };
    let mut page = Page::titled(
        &caller,
        display_name(author, lang, platform),
        "conversation",
        view,
    );
    page.nav_inbox = true;
    Ok(render(&state, "conversation", &page)?.into_response())
}

fn message_views(thread: &Thread, lang: Lang) -> Vec<MessageView> {
    let conversation = &thread.conversation;
    thread
        .messages
        .iter()
        .map(|message| {
            let who = match (message.contact_id, message.user_id) {
                (Some(contact), _) => thread
                    .contacts
                    .get(&contact)
                    .map(|contact| {
                        display_name(contact, lang, platform_of_conversation(conversation.kind))
                    })
                    .unwrap_or_default(),
                (None, Some(user)) => thread.user_names.get(&user).cloned().unwrap_or_default(),
                (None, None) => "buzon".to_owned(),
            };
            let delivery = message.status.as_str();
            MessageView {
                id: message.id.get(),
                direction: message.direction.as_str(),
                outbound: message.direction == Direction::Outbound,
                author: bound_text(&who, 200),
                created_at: message.created_at.to_rfc3339(),
                created_at_text: minute(message.created_at),
                text: message.text.clone(),
                attachments: message.attachments.clone(),
                delivery,
                delivery_label: text(lang, &format!("delivery-{delivery}")),
                error: message.error.clone(),
                hidden: message.hidden,
                deleted: message.deleted,
                hideable: message.direction == Direction::Inbound
                    && message.platform_id.is_some()
                    && !message.deleted
                    && conversation.kind.can_hide_messages(),
                unknown: message.status == DeliveryStatus::Unknown,
                automatic: message.automatic,
                language: message.language.clone(),
                language_name: message
                    .language
                    .as_deref()
                    .map(|code| text(lang, &format!("language-{code}"))),
            }
        })
        .collect()
}

fn back_to(id: i64) -> Response {
    see_other(&format!("/conversations/{id}"))
}

#[derive(Deserialize)]
pub(crate) struct TextForm {
    #[serde(default)]
    text: String,
    #[serde(default)]
    idempotency_key: String,
    /// Set by the `/` picker: the canned reply the text came from (its use is counted).
    #[serde(default)]
    canned_reply_id: String,
}

/// `POST /conversations/{id}/reply`: queues the reply; it shows at once as "sending".
pub(crate) async fn post_reply(
    State(state): State<AppState>,
    Agent(caller): Agent,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<TextForm>,
) -> Result<Response, WebError> {
    let key = bound_text(form.idempotency_key.trim(), 64);
    let key = Some(key.as_str()).filter(|key| !key.is_empty());
    match form.canned_reply_id.trim().parse::<i64>().ok() {
        Some(canned) => {
            state
                .app()
                .reply_canned(
                    &caller.actor,
                    ConversationId(id),
                    canned,
                    Some(&form.text),
                    key,
                )
                .await?;
        }
        None => {
            state
                .app()
                .reply(&caller.actor, ConversationId(id), &form.text, key)
                .await?;
        }
    }
    // Back in the thread, which takes the focus and says the reply is on its way.
    Ok(see_other(&format!("/conversations/{id}?sent=1")))
}

#[derive(Deserialize)]
pub(crate) struct TemplateForm {
    #[serde(default)]
    template_id: String,
}

/// `POST /conversations/{id}/template`: sends an approved template (window closed).
pub(crate) async fn post_template(
    State(state): State<AppState>,
    Agent(caller): Agent,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<TemplateForm>,
) -> Result<Response, WebError> {
    let template_id = form
        .template_id
        .trim()
        .parse()
        .map_err(|_| WebError::bad_request("unknown template"))?;
    state
        .app()
        .reply_with_template(&caller.actor, ConversationId(id), template_id, None)
        .await?;
    Ok(back_to(id))
}

/// `POST /conversations/{id}/notes`.
pub(crate) async fn post_note(
    State(state): State<AppState>,
    Agent(caller): Agent,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<TextForm>,
) -> Result<Response, WebError> {
    state
        .app()
        .add_note(&caller.actor, ConversationId(id), &form.text)
        .await?;
    Ok(back_to(id))
}

#[derive(Deserialize)]
pub(crate) struct StatusForm {
    #[serde(default)]
    status: String,
    /// Set by the page's buttons: then the agent lands on the next conversation of the queue.
    #[serde(default)]
    next: Option<String>,
    /// With `snoozed`: a choice (`later`, `tomorrow`, `monday`) or a local date and time.
    #[serde(default)]
    until: String,
    /// A local date and time picked in the snooze menu (wins over `until`).
    #[serde(default)]
    at: String,
    /// The viewer's time zone (IANA), from the browser.
    #[serde(default)]
    zone: String,
}

/// `POST /conversations/{id}/status`.
pub(crate) async fn post_status(
    State(state): State<AppState>,
    Agent(caller): Agent,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<StatusForm>,
) -> Result<Response, WebError> {
    let status = ConversationStatus::parse(form.status.trim())
        .map_err(|err| WebError::from(buzon_app::AppError::from(err)))?;
    let choice = [form.at.trim(), form.until.trim()]
        .into_iter()
        .find(|choice| !choice.is_empty());
    match (status, choice) {
        (ConversationStatus::Snoozed, Some(choice)) => {
            state
                .app()
                .snooze_until_choice(
                    &caller.actor,
                    ConversationId(id),
                    choice,
                    Some(form.zone.as_str()),
                )
                .await?;
        }
        _ => {
            state
                .app()
                .set_status(&caller.actor, ConversationId(id), status)
                .await?;
        }
    }
    if form.next.is_some() && status != ConversationStatus::Open {
        return next_after(&state, &caller, id).await;
    }
    Ok(back_to(id))
}

#[derive(Deserialize)]
pub(crate) struct EscalateForm {
    #[serde(default)]
    note: String,
}

/// `POST /conversations/{id}/escalate`: to the supervisors, with a note.
pub(crate) async fn post_escalate(
    State(state): State<AppState>,
    Agent(caller): Agent,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<EscalateForm>,
) -> Result<Response, WebError> {
    state
        .app()
        .escalate(&caller.actor, ConversationId(id), &form.note)
        .await?;
    Ok(back_to(id))
}

#[derive(Deserialize)]
pub(crate) struct MonitorForm {
    /// `monitoring` when the button was in the monitoring view (the work goes on there).
    #[serde(default)]
    back: String,
}

/// `POST /conversations/{id}/promote`: from the monitoring view into the queue.
pub(crate) async fn post_promote(
    State(state): State<AppState>,
    Agent(caller): Agent,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<MonitorForm>,
) -> Result<Response, WebError> {
    state
        .app()
        .promote(&caller.actor, ConversationId(id))
        .await?;
    Ok(after_monitoring(id, &form, "promoted"))
}

/// `POST /conversations/{id}/dismiss`: out of the monitoring view.
pub(crate) async fn post_dismiss(
    State(state): State<AppState>,
    Agent(caller): Agent,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<MonitorForm>,
) -> Result<Response, WebError> {
    state
        .app()
        .dismiss(&caller.actor, ConversationId(id))
        .await?;
    Ok(after_monitoring(id, &form, "dismissed"))
}

fn after_monitoring(id: i64, form: &MonitorForm, done: &str) -> Response {
    if form.back == "monitoring" {
        see_other(&format!("/inbox?view=monitoring&done={done}"))
    } else {
        back_to(id)
    }
}

/// Where the work goes after a conversation is done with: the next one in the queue (the
/// open queue, newest activity first, flagged authors left out), or the queue saying it is
/// empty.
async fn next_after(
    state: &AppState,
    caller: &crate::http::Caller,
    done: i64,
) -> Result<Response, WebError> {
    let page = state
        .app()
        .inbox(
            &caller.actor,
            &buzon_app::InboxParams {
                limit: Some(5),
                ..buzon_app::InboxParams::default()
            },
        )
        .await?;
    let next = page
        .conversations
        .iter()
        .find(|conversation| conversation.id.get() != done);
    Ok(match next {
        Some(next) => see_other(&format!("/conversations/{}?from=next", next.id.get())),
        None => see_other("/inbox?done=empty"),
    })
}

#[derive(Deserialize)]
pub(crate) struct AssignForm {
    #[serde(default)]
    assignee: String,
    /// Set by the page's button: then the agent lands on the next conversation.
    #[serde(default)]
    next: Option<String>,
}

/// `POST /conversations/{id}/assign`: `me`, a user id, or empty for nobody.
pub(crate) async fn post_assign(
    State(state): State<AppState>,
    Agent(caller): Agent,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<AssignForm>,
) -> Result<Response, WebError> {
    let assignee = match form.assignee.trim() {
        "" => None,
        "me" => Some(
            caller
                .actor
                .user_id()
                .ok_or(WebError::bad_request("unknown assignee"))?,
        ),
        other => Some(UserId(
            other
                .parse()
                .map_err(|_| WebError::bad_request("unknown assignee"))?,
        )),
    };
    state
        .app()
        .assign(&caller.actor, ConversationId(id), assignee)
        .await?;
    if form.next.is_some() && assignee.is_some() {
        return next_after(&state, &caller, id).await;
    }
    Ok(back_to(id))
}

#[derive(Deserialize)]
pub(crate) struct TagForm {
    #[serde(default)]
    add: String,
    #[serde(default)]
    remove: String,
    #[serde(default)]
    conversation_id: Option<i64>,
}

/// Labels as typed in a form: separated by commas or spaces, at most 16.
fn labels_in(text: &str) -> Vec<String> {
    text.split([',', ' '])
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .take(16)
        .map(str::to_owned)
        .collect()
}

/// `POST /conversations/{id}/tags`.
pub(crate) async fn post_conversation_tags(
    State(state): State<AppState>,
    Agent(caller): Agent,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<TagForm>,
) -> Result<Response, WebError> {
    state
        .app()
        .tag_conversation(
            &caller.actor,
            ConversationId(id),
            &labels_in(&form.add),
            &labels_in(&form.remove),
        )
        .await?;
    Ok(back_to(id))
}

/// `POST /contacts/{id}/tags`: labels on the author (troll, spam, influencer, vip, blocked).
pub(crate) async fn post_contact_tags(
    State(state): State<AppState>,
    Agent(caller): Agent,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<TagForm>,
) -> Result<Response, WebError> {
    state
        .app()
        .tag_contact(
            &caller.actor,
            ContactId(id),
            &labels_in(&form.add),
            &labels_in(&form.remove),
        )
        .await?;
    match form.conversation_id {
        Some(conversation) => Ok(back_to(conversation)),
        None => Ok(see_other("/inbox")),
    }
}

#[derive(Deserialize)]
pub(crate) struct LinkForm {
    #[serde(default)]
    query: String,
}

/// `POST /conversations/{id}/link`: links the author with the best match for `query` on
/// another channel (by name, handle or platform id).
pub(crate) async fn post_link(
    State(state): State<AppState>,
    Agent(caller): Agent,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<LinkForm>,
) -> Result<Response, WebError> {
    state
        .app()
        .link_person(&caller.actor, ConversationId(id), &form.query)
        .await?;
    Ok(back_to(id))
}

use crate::http::NoFields;

/// `POST /conversations/{id}/messages/{message}/ACTION`: `hide`/`unhide` (queued, never done
/// inside the request), or settling a send whose outcome is unknown: `arrived` (the agent saw
/// it on the platform) or `send-again`.
pub(crate) async fn post_message_action(
    State(state): State<AppState>,
    Agent(caller): Agent,
    Path((id, message, action)): Path<(i64, i64, String)>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    let app = state.app();
    let (conversation, message) = (ConversationId(id), MessageId(message));
    match action.as_str() {
        "arrived" => {
            app.settle_send(&caller.actor, conversation, message, true)
                .await?
        }
        "send-again" => {
            app.settle_send(&caller.actor, conversation, message, false)
                .await?
        }
        other => {
            let action = ModerationAction::parse(other).map_err(|_| WebError::not_found())?;
            app.moderate(&caller.actor, conversation, message, action)
                .await?
        }
    }
    Ok(back_to(id))
}
