//! The queue: every channel's conversations with filters, sorts, keyset pages and live
//! updates; the "trolls & spam" view holds flagged authors.

use crate::http::{Viewer, WebError};
use crate::i18n::{text, Lang};
use crate::view::{human_duration, render, url_encode, Page};
use crate::AppState;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use buzon_app::InboxParams;
use buzon_core::{bound_text, ChannelId, Contact, Conversation, Label, Timestamp};
use serde::{Deserialize, Serialize};

#[derive(Deserialize, Default)]
pub(crate) struct InboxQuery {
    status: Option<String>,
    channel: Option<String>,
    tag: Option<String>,
    assignee: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    cursor: Option<String>,
    view: Option<String>,
    fragment: Option<String>,
    language: Option<String>,
}

/// One row of the queue.
#[derive(Serialize)]
pub(crate) struct RowView {
    pub(crate) id: i64,
    channel: &'static str,
    author: String,
    author_tags: Vec<String>,
    snippet: String,
    tags: Vec<String>,
    waiting: Option<String>,
    waiting_since: Option<String>,
    windowed: bool,
    window_open: bool,
    window_left: Option<String>,
    status: &'static str,
    status_label: String,
    priority: bool,
    language: Option<String>,
    language_name: Option<String>,
    escalated: bool,
    returned: bool,
    /// The conversation open beside the queue (three panes).
    pub(crate) current: bool,
    /// In the monitoring view: it offers promote and dismiss.
    monitoring: bool,
    /// What listening found it by, in words (a saved search's query, a Page mention, a review).
    found: Option<String>,
}

#[derive(Serialize)]
struct RowsView {
    lang: &'static str,
    csrf: String,
    can_act: bool,
    rows: Vec<RowView>,
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Serialize)]
struct ChannelChoice {
    id: i64,
    kind: &'static str,
    name: String,
    selected: bool,
}

#[derive(Serialize)]
struct Filters {
    q: String,
    tag: String,
}

#[derive(Serialize)]
struct InboxView {
    heading: String,
    trolls_view: bool,
    escalated_view: bool,
    monitoring_view: bool,
    can_act: bool,
    rows: Vec<RowView>,
    latest_message_id: String,
    statuses: Vec<Choice>,
    channels: Vec<ChannelChoice>,
    assignees: Vec<Choice>,
    sorts: Vec<Choice>,
    language_choices: Vec<Choice>,
    closed_banner: Option<String>,
    banners: super::incidents::Banners,
    filters: Filters,
    self_url: String,
    next_url: Option<String>,
}

/// `GET /inbox`: the shared queue.
pub(crate) async fn show_inbox(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
    Query(query): Query<InboxQuery>,
) -> Result<Response, WebError> {
    let lang = caller.lang;
    let trolls_view = query.view.as_deref() == Some("trolls");
    let escalated_view = query.view.as_deref() == Some("escalated");
    let monitoring_view = query.view.as_deref() == Some("monitoring");
    let params = InboxParams {
        status: query.status.clone(),
        channel: query.channel.clone(),
        tag: query.tag.clone(),
        assignee: query.assignee.clone(),
        q: query.q.clone(),
        sort: query.sort.clone(),
        flagged: Some(if trolls_view { "only" } else { "exclude" }.to_owned()),
        language: query.language.clone(),
        limit: Some(50),
        cursor: query.cursor.clone(),
        view: if escalated_view {
            Some("escalated".to_owned())
        } else if monitoring_view {
            Some("monitoring".to_owned())
        } else {
            None
        },
    };
    // Read before the content, so the page's version is never newer than what it shows.
    let version = state.app().activity_version().await?;
    let page = state.app().inbox(&caller.actor, &params).await?;
    let now = Timestamp::now();
    let searches = if monitoring_view {
        state.app().search_queries(&caller.actor).await?
    } else {
        Default::default()
    };
    let rows: Vec<RowView> = page
        .conversations
        .iter()
        .map(|conversation| {
            let mut row = row_view(
                conversation,
                page.contacts.get(&conversation.contact_id),
                lang,
                now,
            );
            row.monitoring = monitoring_view;
            if monitoring_view {
                // Nobody is waiting on the team for a find until it is promoted.
                row.waiting = None;
                row.waiting_since = None;
            }
            row.found = conversation
                .found_by
                .map(|found| found_label(found, &searches, lang));
            row
        })
        .collect();
    let can_act = caller.actor.role().can_act();
    if query.fragment.as_deref() == Some("banners") {
        #[derive(Serialize)]
        struct BannersView {
            lang: &'static str,
            csrf: String,
            banners: super::incidents::Banners,
        }
        let view = BannersView {
            lang: lang.code(),
            csrf: caller.csrf().to_owned(),
            banners: super::incidents::banners(&state, &caller).await?,
        };
        return Ok(render(&state, "banners", &view)?.into_response());
    }
    if query.fragment.is_some() {
        let view = RowsView {
            lang: lang.code(),
            csrf: caller.csrf().to_owned(),
            can_act,
            rows,
        };
        return Ok(render(&state, "inbox_rows", &view)?.into_response());
    }
    let channels = state.app().channel_list(&caller.actor).await?;
    let channel_id: Option<ChannelId> = page.filter.channel_id;
    let opening = state.app().opening_state(channel_id).await?;
    let closed_banner = opening
        .back_at_text(lang.code())
        .map(|when| crate::i18n::text_with(lang, "hours-closed_banner", &[("when", when.into())]));
    let current_language = page.filter.language.clone().unwrap_or_default();
    let heading_key = if trolls_view {
        "inbox-trolls_title"
    } else if escalated_view {
        "inbox-escalated_title"
    } else if monitoring_view {
        "inbox-monitoring_title"
    } else {
        "inbox-title"
    };
    // The supervisors' and the monitoring views list every status unless told otherwise.
    let current_status = match query.status.clone().filter(|status| !status.is_empty()) {
        Some(status) => status,
        None if escalated_view || monitoring_view => "all".to_owned(),
        None => String::new(),
    };
    let current_assignee = query.assignee.clone().unwrap_or_default();
    let sort = page.filter.sort.as_str();
    let choices = |options: &[(&str, &str)], current: &dyn Fn(&str) -> bool| -> Vec<Choice> {
        options
            .iter()
            .map(|(value, key)| Choice {
                value: (*value).to_owned(),
                label: text(lang, key),
                selected: current(value),
            })
            .collect()
    };
    let params_url = |cursor: Option<&str>| -> String {
        let mut pairs: Vec<String> = Vec::new();
        for (key, value) in [
            ("status", &query.status),
            ("channel", &query.channel),
            ("tag", &query.tag),
            ("assignee", &query.assignee),
            ("q", &query.q),
            ("sort", &query.sort),
            ("view", &query.view),
            ("language", &query.language),
        ] {
            if let Some(value) = value.as_ref().filter(|v| !v.is_empty()) {
                pairs.push(format!("{key}={}", url_encode(value)));
            }
        }
        if let Some(cursor) = cursor {
            pairs.push(format!("cursor={}", url_encode(cursor)));
        }
        format!("/inbox?{}", pairs.join("&"))
    };
    let view = InboxView {
        heading: text(lang, heading_key),
        trolls_view,
        escalated_view,
        monitoring_view,
        can_act,
        rows,
        latest_message_id: version,
        statuses: choices(
            &[
                ("", "status-open"),
                ("pending", "status-pending"),
                ("snoozed", "status-snoozed"),
                ("resolved", "status-resolved"),
                ("all", "status-all"),
            ],
            &|value| value == current_status || (value.is_empty() && current_status == "open"),
        ),
        channels: channels
            .iter()
            .map(|channel| ChannelChoice {
                id: channel.id.get(),
                kind: channel.kind.as_str(),
                name: channel.name.clone(),
                selected: Some(channel.id) == channel_id,
            })
            .collect(),
        assignees: choices(
            &[
                ("", "inbox-anyone"),
                ("mine", "inbox-mine"),
                ("unassigned", "inbox-unassigned"),
            ],
            &|value| value == current_assignee,
        ),
        sorts: choices(
            &[
                ("newest", "inbox-sort_newest"),
                ("waiting", "inbox-sort_waiting"),
                ("window", "inbox-sort_window"),
            ],
            &|value| value == sort,
        ),
        language_choices: std::iter::once(("".to_owned(), text(lang, "language-any")))
            .chain(
                buzon_core::known_languages()
                    .map(|code| (code.to_owned(), text(lang, &format!("language-{code}")))),
            )
            .map(|(value, label)| Choice {
                selected: value == current_language,
                value,
                label,
            })
            .collect(),
        closed_banner,
        banners: super::incidents::banners(&state, &caller).await?,
        filters: Filters {
            q: query.q.clone().unwrap_or_default(),
            tag: query.tag.clone().unwrap_or_default(),
        },
        self_url: params_url(query.cursor.as_deref()),
        next_url: page
            .next_cursor
            .as_deref()
            .map(|cursor| params_url(Some(cursor))),
    };
    let mut page = Page::new(&caller, heading_key, "inbox", view);
    page.nav_inbox = !trolls_view && !escalated_view && !monitoring_view;
    page.nav_trolls = trolls_view;
    page.nav_escalated = escalated_view;
    page.nav_monitoring = monitoring_view;
    Ok(render(&state, "inbox", &page)?.into_response())
}

fn row_view(
    conversation: &Conversation,
    contact: Option<&Contact>,
    lang: Lang,
    now: Timestamp,
) -> RowView {
    let platform = crate::view::platform_of_conversation(conversation.kind);
    let author = contact
        .map(|contact| crate::view::display_name(contact, lang, platform))
        .unwrap_or_default();
    let window_left = conversation.reply_window_left(now);
    RowView {
        id: conversation.id.get(),
        channel: conversation.channel_kind.as_str(),
        author: bound_text(&author, 200),
        author_tags: contact
            .map(|contact| {
                contact
                    .labels
                    .iter()
                    .map(|l| l.as_str().to_owned())
                    .collect()
            })
            .unwrap_or_default(),
        snippet: conversation
            .last_message_text
            .as_deref()
            .map(|text| bound_text(text, 200))
            .unwrap_or_default(),
        tags: conversation
            .labels
            .iter()
            .map(Label::as_str)
            .map(str::to_owned)
            .collect(),
        waiting: conversation
            .waiting_since
            .map(|since| human_duration(now.as_millis() - since.as_millis())),
        waiting_since: conversation.waiting_since.map(Timestamp::to_rfc3339),
        windowed: conversation.has_reply_window(),
        window_open: window_left.is_some_and(|left| left > 0),
        window_left: window_left.map(human_duration),
        status: conversation.status.as_str(),
        status_label: text(lang, &format!("status-{}", conversation.status.as_str())),
        priority: conversation.priority > 0,
        language: conversation.language.clone(),
        language_name: conversation
            .language
            .as_deref()
            .map(|code| text(lang, &format!("language-{code}"))),
        escalated: conversation.escalated_at.is_some(),
        returned: conversation.returned_at.is_some(),
        current: false,
        monitoring: false,
        found: None,
    }
}

/// What listening found a conversation by, in words.
pub(crate) fn found_label(
    found: buzon_core::FoundBy,
    searches: &std::collections::HashMap<i64, String>,
    lang: Lang,
) -> String {
    use buzon_core::{FoundBy, Recommendation};
    match found {
        FoundBy::Search(id) => crate::i18n::text_with(
            lang,
            "listening-found-search",
            &[(
                "query",
                searches
                    .get(&id)
                    .map_or_else(|| format!("#{id}"), |query| bound_text(query, 80))
                    .into(),
            )],
        ),
        FoundBy::Mention => text(lang, "listening-found-mention"),
        FoundBy::Review(Recommendation::Positive) => text(lang, "listening-found-review_positive"),
        FoundBy::Review(Recommendation::Negative) => text(lang, "listening-found-review_negative"),
    }
}

/// The first rows of the open queue (the default view), for the pane beside a conversation.
pub(crate) async fn queue_rows(
    state: &AppState,
    caller: &crate::http::Caller,
    limit: u32,
) -> Result<Vec<RowView>, WebError> {
    let page = state
        .app()
        .inbox(
            &caller.actor,
            &InboxParams {
                limit: Some(limit),
                ..InboxParams::default()
            },
        )
        .await?;
    let now = Timestamp::now();
    Ok(page
        .conversations
        .iter()
        .map(|conversation| {
            row_view(
                conversation,
                page.contacts.get(&conversation.contact_id),
                caller.lang,
                now,
            )
        })
        .collect())
}
