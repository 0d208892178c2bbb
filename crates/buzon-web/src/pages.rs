//! The web pages: sign-in, the inbox, the conversation view and their actions. Sessions are
//! cookies (HttpOnly, SameSite=Lax, Secure over https) whose hash is stored; every form
//! carries the session's CSRF token; every action checks the role.

use crate::i18n::{self, Lang};
use crate::{AppError, AppState};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use buzon_connector::constant_time_eq;
use buzon_core::*;
use buzon_store::{Session, StoreError};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;

/// The session cookie's name.
pub(crate) const SESSION_COOKIE: &str = "buzon_session";
/// The pre-login CSRF cookie's name (double-submit on the sign-in form).
const LOGIN_CSRF_COOKIE: &str = "buzon_login_csrf";
/// How long a session lasts.
const SESSION_MILLIS: i64 = 12 * 60 * 60 * 1000;
/// Failed sign-ins allowed per email in the throttling window.
const MAX_LOGIN_FAILURES: i64 = 5;
/// Failed sign-ins allowed per address (higher: a shop's team may share one address).
const MAX_LOGIN_FAILURES_PER_ADDRESS: i64 = 30;
/// The throttling window.
const LOGIN_WINDOW_MILLIS: i64 = 15 * 60 * 1000;

/// The value of cookie `name` in a request.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// A signed-in page viewer.
pub(crate) struct Viewer {
    pub session: Session,
    pub lang: Lang,
}

impl Viewer {
    fn can_act(&self) -> bool {
        self.session.user.role.can_act()
    }

    fn actor(&self) -> String {
        format!("user:{}", self.session.user.id)
    }

    /// Refuses a form whose CSRF token is not the session's.
    fn check_csrf(&self, given: &str) -> Result<(), PageError> {
        if constant_time_eq(given.as_bytes(), self.session.csrf_token.as_bytes()) {
            Ok(())
        } else {
            Err(PageError::Csrf)
        }
    }

    fn require_agent(&self) -> Result<(), PageError> {
        if self.can_act() {
            Ok(())
        } else {
            Err(PageError::Forbidden)
        }
    }
}

/// How a page request can fail.
pub(crate) enum PageError {
    /// Not signed in: go to /login.
    SignIn,
    /// The form's CSRF token is missing or wrong.
    Csrf,
    /// The role may not do this.
    Forbidden,
    /// Anything else, shown as an error page or JSON.
    App(AppError),
}

impl From<AppError> for PageError {
    fn from(err: AppError) -> PageError {
        PageError::App(err)
    }
}

impl From<StoreError> for PageError {
    fn from(err: StoreError) -> PageError {
        PageError::App(err.into())
    }
}

impl From<DomainError> for PageError {
    fn from(err: DomainError) -> PageError {
        PageError::App(err.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::SignIn => Redirect::to("/login").into_response(),
            PageError::Csrf => (StatusCode::FORBIDDEN, Html(plain_page("Refused: the form is missing its security token. Reload the page and try again."))).into_response(),
            PageError::Forbidden => (StatusCode::FORBIDDEN, Html(plain_page("Your role may not do this."))).into_response(),
            PageError::App(AppError::NotFound) => (StatusCode::NOT_FOUND, Html(plain_page("Not found."))).into_response(),
            PageError::App(AppError::BadRequest(message)) => (StatusCode::BAD_REQUEST, Html(plain_page(&message))).into_response(),
            PageError::App(AppError::Conflict { message, .. }) => (StatusCode::CONFLICT, Html(plain_page(&message))).into_response(),
            PageError::App(other) => other.into_response(),
        }
    }
}

/// A static page that cannot fail to render; `message` is escaped.
fn plain_page(message: &str) -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>buzon</title><link rel=\"stylesheet\" href=\"/static/app.css\"></head>\
         <body><main><p>{}</p><p><a href=\"/inbox\">buzon</a></p></main></body></html>",
        handlebars::html_escape(message)
    )
}

/// The signed-in viewer of a request, or `SignIn`.
pub(crate) async fn viewer(state: &AppState, headers: &HeaderMap) -> Result<Viewer, PageError> {
    let secret = cookie(headers, SESSION_COOKIE).ok_or(PageError::SignIn)?;
    let session = state
        .store()
        .session(&secret, Timestamp::now())
        .await?
        .ok_or(PageError::SignIn)?;
    Ok(Viewer {
        session,
        lang: Lang::of(headers),
    })
}

fn set_cookie(state: &AppState, name: &str, value: &str, max_age_secs: i64) -> HeaderValue {
    let secure = if state.settings().secure_cookies {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}"
    ))
    .expect("cookie values are URL-safe")
}

/// The base view data every page template needs.
pub(crate) fn base(viewer: Option<&Viewer>, lang: Lang, title: &str, page: &str) -> Value {
    let mut data = json!({
        "lang": lang.code(),
        "other_lang": if lang == Lang::Es { "en" } else { "es" },
        "title": title,
        "page": page,
        "user": Value::Null,
        "csrf": "",
        "is_admin": false,
        "nav_inbox": false,
        "nav_trolls": false,
    });
    if let Some(viewer) = viewer {
        data["user"] = json!({
            "name": viewer.session.user.name,
            "role": viewer.session.user.role.as_str(),
        });
        data["csrf"] = json!(viewer.session.csrf_token);
        data["is_admin"] = json!(viewer.session.user.role.can_admin());
    }
    data
}

pub(crate) fn render(
    state: &AppState,
    name: &str,
    data: &Value,
) -> Result<Html<String>, PageError> {
    state
        .templates()
        .render(name, data)
        .map(Html)
        .map_err(|err| {
            PageError::App(AppError::Internal(anyhow::anyhow!(
                "rendering {name}: {err}"
            )))
        })
}

/// The signed-in agent (or admin) behind a form, with the form's CSRF token checked.
async fn acting_agent(
    state: &AppState,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<Viewer, PageError> {
    let viewer = viewer(state, headers).await?;
    viewer.check_csrf(csrf)?;
    viewer.require_agent()?;
    Ok(viewer)
}

/// `GET /`.
pub(crate) async fn home(State(state): State<AppState>, headers: HeaderMap) -> Redirect {
    match viewer(&state, &headers).await {
        Ok(_) => Redirect::to("/inbox"),
        Err(_) => Redirect::to("/login"),
    }
}

/// `GET /login`.
pub(crate) async fn show_login(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    if viewer(&state, &headers).await.is_ok() {
        return Ok(Redirect::to("/inbox").into_response());
    }
    login_page(&state, &headers, None, "", StatusCode::OK)
}

fn login_page(
    state: &AppState,
    headers: &HeaderMap,
    error: Option<&str>,
    email: &str,
    status: StatusCode,
) -> Result<Response, PageError> {
    let lang = Lang::of(headers);
    let csrf = buzon_store::secrets::generate_token();
    let mut data = base(None, lang, i18n::text(lang, "login.title"), "login");
    data["csrf"] = json!(csrf);
    data["error"] = json!(error);
    data["email"] = json!(email);
    let html = render(state, "login", &data)?;
    let mut response = (status, html).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(state, LOGIN_CSRF_COOKIE, &csrf, 3600),
    );
    Ok(response)
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default, rename = "_csrf")]
    csrf: String,
}

/// `POST /login`: throttled per email and per address; the same answer for an unknown email
/// and a wrong password.
pub(crate) async fn post_login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || !constant_time_eq(expected.as_bytes(), form.csrf.as_bytes()) {
        return Err(PageError::Csrf);
    }
    let lang = Lang::of(&headers);
    let ip = client_address(&peer, &headers);
    let email = form.email.trim().to_lowercase();
    let since = Timestamp::now().plus_millis(-LOGIN_WINDOW_MILLIS);
    let (by_email, by_address) = state
        .store()
        .recent_login_failures(&email, &ip, since)
        .await?;
    if by_email >= MAX_LOGIN_FAILURES || by_address >= MAX_LOGIN_FAILURES_PER_ADDRESS {
        return login_page(
            &state,
            &headers,
            Some(i18n::text(lang, "login.throttled")),
            &email,
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let found = state.store().user_for_login(&email).await?;
    // Verify against a fixed hash when the email is unknown, so timing does not tell.
    let (user, hash) = match found {
        Some((user, hash)) => (Some(user), hash),
        None => (None, DUMMY_HASH.to_owned()),
    };
    let password_ok = buzon_store::secrets::verify_password(&form.password, &hash);
    let user = match user {
        Some(user) if password_ok && user.active => user,
        _ => {
            state.store().record_login_failure(&email, &ip).await?;
            state
                .store()
                .audit(
                    "anonymous",
                    "login.failed",
                    &format!("email:{}", bound_text(&email, 100)),
                    &json!({}),
                )
                .await?;
            return login_page(
                &state,
                &headers,
                Some(i18n::text(lang, "login.failed")),
                &email,
                StatusCode::UNAUTHORIZED,
            );
        }
    };
    state.store().clear_login_failures(&email).await?;
    let (secret, _csrf) = state
        .store()
        .create_session(user.id, Timestamp::now().plus_millis(SESSION_MILLIS))
        .await?;
    state
        .store()
        .audit(
            &format!("user:{}", user.id),
            "login",
            &format!("user:{}", user.id),
            &json!({}),
        )
        .await?;
    let mut response = Redirect::to("/inbox").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, SESSION_COOKIE, &secret, SESSION_MILLIS / 1000),
    );
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, LOGIN_CSRF_COOKIE, "", 0),
    );
    Ok(response)
}

/// The client's address for throttling: the peer, or — when the peer is a reverse proxy on
/// this machine — the last address that proxy appended to `X-Forwarded-For`.
fn client_address(peer: &SocketAddr, headers: &HeaderMap) -> String {
    if peer.ip().is_loopback() {
        let forwarded = headers
            .get("x-forwarded-for")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.rsplit(',').next())
            .map(str::trim)
            .filter(|address| address.parse::<std::net::IpAddr>().is_ok());
        if let Some(address) = forwarded {
            return address.to_owned();
        }
    }
    peer.ip().to_string()
}

/// An Argon2id hash of a random password, verified against when an email is unknown.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3w0tSCpbYiYNdvD8Hg4h4Gn0c1cOHyyqcI4nPbn9jfg";

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    lang: String,
}

/// `POST /logout`.
pub(crate) async fn post_logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    let viewer = viewer(&state, &headers).await?;
    viewer.check_csrf(&form.csrf)?;
    if let Some(secret) = cookie(&headers, SESSION_COOKIE) {
        state.store().delete_session(&secret).await?;
    }
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, SESSION_COOKIE, "", 0),
    );
    Ok(response)
}

/// `POST /lang`: the language switch.
pub(crate) async fn post_lang(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    let viewer = viewer(&state, &headers).await?;
    viewer.check_csrf(&form.csrf)?;
    let lang = if form.lang == "es" { "es" } else { "en" };
    let back = headers
        .get(header::REFERER)
        .and_then(|value| value.to_str().ok())
        .and_then(|referer| {
            referer.find("://").and_then(|i| {
                referer[i + 3..]
                    .find('/')
                    .map(|j| referer[i + 3 + j..].to_owned())
            })
        })
        .filter(|path| {
            path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.bytes().any(|byte| byte < 0x20)
        })
        .unwrap_or_else(|| "/inbox".to_owned());
    let mut response = Redirect::to(&back).into_response();
    let value = HeaderValue::from_str(&format!(
        "lang={lang}; Path=/; SameSite=Lax; Max-Age=31536000"
    ))
    .expect("ascii");
    response.headers_mut().append(header::SET_COOKIE, value);
    Ok(response)
}

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
}

/// `GET /inbox`: the shared queue.
pub(crate) async fn show_inbox(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<InboxQuery>,
) -> Result<Response, PageError> {
    let viewer = viewer(&state, &headers).await?;
    let lang = viewer.lang;
    let trolls_view = query.view.as_deref() == Some("trolls");
    let channel_id = query
        .channel
        .as_deref()
        .filter(|c| !c.is_empty())
        .and_then(|c| c.parse().ok())
        .map(ChannelId);
    let assignee = match query.assignee.as_deref() {
        Some("mine") => AssigneeFilter::User(viewer.session.user.id),
        Some("unassigned") => AssigneeFilter::Unassigned,
        _ => AssigneeFilter::Any,
    };
    let label = query
        .tag
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(Label::parse)
        .transpose()?;
    let sort = SortOrder::parse_lenient(query.sort.as_deref());
    let filter = ConversationFilter {
        sort,
        status: StatusFilter::parse(query.status.as_deref())?,
        channel_id,
        label: label.clone(),
        assignee,
        flagged: if trolls_view {
            FlaggedFilter::Only
        } else {
            FlaggedFilter::Exclude
        },
        query: query.q.clone().filter(|q| !q.trim().is_empty()),
    };
    let page = state
        .store()
        .list_conversations(&filter, 50, query.cursor.as_deref())
        .await?;
    let now = Timestamp::now();
    let mut rows = Vec::with_capacity(page.items.len());
    let mut author_ids: Vec<ContactId> = page.items.iter().map(|c| c.contact_id).collect();
    author_ids.sort();
    author_ids.dedup();
    let contacts: HashMap<ContactId, Contact> = state
        .store()
        .contacts(&author_ids)
        .await?
        .into_iter()
        .map(|contact| (contact.id, contact))
        .collect();
    for conversation in &page.items {
        rows.push(row_view(
            conversation,
            contacts.get(&conversation.contact_id),
            lang,
            now,
        ));
    }
    let version = crate::live::activity_version(&state).await?;
    if query.fragment.is_some() {
        let html = render(
            &state,
            "inbox_rows",
            &json!({"lang": lang.code(), "rows": rows}),
        )?;
        return Ok(html.into_response());
    }
    let channels = state.store().list_channels().await?;
    let heading = i18n::text(
        lang,
        if trolls_view {
            "inbox.trolls_title"
        } else {
            "inbox.title"
        },
    );
    let mut data = base(Some(&viewer), lang, heading, "inbox");
    data["heading"] = json!(heading);
    data["nav_inbox"] = json!(!trolls_view);
    data["nav_trolls"] = json!(trolls_view);
    data["trolls_view"] = json!(trolls_view);
    data["rows"] = json!(rows);
    data["latest_message_id"] = json!(version);
    let current_status = query.status.clone().unwrap_or_default();
    data["statuses"] = json!([("", "status.open"), ("pending", "status.pending"), ("snoozed", "status.snoozed"), ("resolved", "status.resolved"), ("all", "status.all")]
        .iter()
        .map(|(value, key)| json!({"value": value, "label": i18n::text(lang, key), "selected": *value == current_status || (value.is_empty() && current_status == "open")}))
        .collect::<Vec<_>>());
    data["channels"] = json!(channels
        .iter()
        .map(|channel| json!({"id": channel.id, "kind": channel.kind.as_str(), "name": channel.name, "selected": Some(channel.id) == channel_id}))
        .collect::<Vec<_>>());
    let current_assignee = query.assignee.clone().unwrap_or_default();
    data["assignees"] = json!([("", "inbox.anyone"), ("mine", "inbox.mine"), ("unassigned", "inbox.unassigned")]
        .iter()
        .map(|(value, key)| json!({"value": value, "label": i18n::text(lang, key), "selected": *value == current_assignee}))
        .collect::<Vec<_>>());
    data["sorts"] = json!([("newest", "inbox.sort_newest"), ("waiting", "inbox.sort_waiting"), ("window", "inbox.sort_window")]
        .iter()
        .map(|(value, key)| json!({"value": value, "label": i18n::text(lang, key), "selected": *value == sort.as_str()}))
        .collect::<Vec<_>>());
    data["filters"] = json!({"q": query.q.clone().unwrap_or_default(), "tag": query.tag.clone().unwrap_or_default()});
    let params = |cursor: Option<&str>| -> String {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (key, value) in [
            ("status", &query.status),
            ("channel", &query.channel),
            ("tag", &query.tag),
            ("assignee", &query.assignee),
            ("q", &query.q),
            ("sort", &query.sort),
            ("view", &query.view),
        ] {
            if let Some(value) = value.as_ref().filter(|v| !v.is_empty()) {
                pairs.push((key.to_owned(), value.clone()));
            }
        }
        if let Some(cursor) = cursor {
            pairs.push(("cursor".to_owned(), cursor.to_owned()));
        }
        let encoded: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", url_encode(v)))
            .collect();
        format!("/inbox?{}", encoded.join("&"))
    };
    data["self_url"] = json!(params(query.cursor.as_deref()));
    data["next_url"] = json!(page
        .next_cursor
        .as_deref()
        .map(|cursor| params(Some(cursor))));
    Ok(render(&state, "inbox", &data)?.into_response())
}

fn url_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// "3 h 12 min", "45 min", "2 d 3 h".
pub(crate) fn human_duration(millis: i64) -> String {
    let minutes = (millis.max(0) / 60_000) as u64;
    let (days, hours, mins) = (minutes / 1440, (minutes % 1440) / 60, minutes % 60);
    if days > 0 {
        format!("{days} d {hours} h")
    } else if hours > 0 {
        format!("{hours} h {mins} min")
    } else {
        format!("{mins} min")
    }
}

fn row_view(
    conversation: &Conversation,
    contact: Option<&Contact>,
    lang: Lang,
    now: Timestamp,
) -> Value {
    let author = contact
        .map(|contact| {
            contact
                .name
                .clone()
                .or(contact.handle.clone())
                .unwrap_or_else(|| contact.platform_id.to_string())
        })
        .unwrap_or_default();
    let window_left = conversation.reply_window_left(now);
    json!({
        "id": conversation.id,
        "channel": conversation.channel_kind.as_str(),
        "author": bound_text(&author, 200),
        "author_tags": contact.map(|c| c.labels.iter().map(Label::as_str).collect::<Vec<_>>()).unwrap_or_default(),
        "snippet": conversation.last_message_text.as_deref().map(|text| bound_text(text, 200)).unwrap_or_default(),
        "tags": conversation.labels.iter().map(Label::as_str).collect::<Vec<_>>(),
        "waiting": conversation.waiting_since.map(|since| human_duration(now.as_millis() - since.as_millis())),
        "waiting_since": conversation.waiting_since.map(Timestamp::to_rfc3339),
        "windowed": conversation.has_reply_window(),
        "window_open": window_left.is_some_and(|left| left > 0),
        "window_left": window_left.map(human_duration),
        "status": conversation.status.as_str(),
        "status_label": i18n::text(lang, &format!("status.{}", conversation.status.as_str())),
        "priority": conversation.priority > 0,
    })
}

#[derive(Deserialize, Default)]
pub(crate) struct ConversationQuery {
    fragment: Option<String>,
}

/// `GET /conversations/{id}`.
pub(crate) async fn show_conversation(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(query): Query<ConversationQuery>,
) -> Result<Response, PageError> {
    let viewer = viewer(&state, &headers).await?;
    let lang = viewer.lang;
    let conversation = state.store().conversation(ConversationId(id)).await?;
    let author = state.store().contact(conversation.contact_id).await?;
    let messages = state.store().messages_in(conversation.id).await?;
    let now = Timestamp::now();
    let mut contacts: HashMap<ContactId, Contact> = HashMap::new();
    contacts.insert(author.id, author.clone());
    let mut users: HashMap<UserId, String> = HashMap::new();
    let mut message_views = Vec::with_capacity(messages.len());
    for message in &messages {
        let who = match (message.contact_id, message.user_id) {
            (Some(contact_id), _) => {
                if let std::collections::hash_map::Entry::Vacant(slot) = contacts.entry(contact_id)
                {
                    if let Ok(contact) = state.store().contact(contact_id).await {
                        slot.insert(contact);
                    }
                }
                contacts
                    .get(&contact_id)
                    .map(display_name)
                    .unwrap_or_default()
            }
            (None, Some(user_id)) => user_name(&state, &mut users, user_id).await,
            (None, None) => "buzon".to_owned(),
        };
        let delivery = message.status.as_str();
        message_views.push(json!({
            "id": message.id,
            "direction": message.direction.as_str(),
            "outbound": message.direction == Direction::Outbound,
            "author": bound_text(&who, 200),
            "created_at": message.created_at.to_rfc3339(),
            "created_at_text": message.created_at.to_rfc3339().replace('T', " ").chars().take(16).collect::<String>(),
            "text": message.text,
            "attachments": message.attachments,
            "delivery": delivery,
            "delivery_label": i18n::text(lang, &format!("delivery.{delivery}")),
            "error": message.error,
            "hidden": message.hidden,
            "deleted": message.deleted,
            "hideable": message.direction == Direction::Inbound && message.platform_id.is_some() && !message.deleted
                && !conversation.has_reply_window() && !conversation.thread_key.starts_with("dm:"),
        }));
    }
    let can_act = viewer.can_act();
    let version = crate::live::activity_version(&state).await?;
    if query.fragment.is_some() {
        let data = json!({"lang": lang.code(), "messages": message_views, "can_act": can_act, "csrf": viewer.session.csrf_token, "conversation": {"id": conversation.id}});
        return Ok(render(&state, "thread", &data)?.into_response());
    }
    let notes = state.store().notes(conversation.id).await?;
    let mut note_views = Vec::new();
    for note in &notes {
        let author = match note.user_id {
            Some(user_id) => user_name(&state, &mut users, user_id).await,
            None => String::new(),
        };
        note_views.push(json!({"author": author, "text": note.text, "created_at_text": note.created_at.to_rfc3339().replace('T', " ").chars().take(16).collect::<String>()}));
    }
    let window_closed = conversation.reply_window_closed(now);
    let templates = if window_closed {
        state.store().templates(conversation.channel_kind).await?
    } else {
        Vec::new()
    };
    let person = state.store().person_contacts(author.id).await?;
    let history = if person.len() > 1 {
        state.store().person_conversations(author.id, 20).await?
    } else {
        Vec::new()
    };
    let channels: HashMap<ChannelId, ChannelKind> = state
        .store()
        .list_channels()
        .await?
        .into_iter()
        .map(|c| (c.id, c.kind))
        .collect();
    let status_actions: Vec<Value> = match conversation.status {
        ConversationStatus::Resolved => vec![("open", "conversation.reopen")],
        _ => vec![
            ("resolved", "conversation.resolve"),
            ("pending", "conversation.pending"),
            ("snoozed", "conversation.snooze"),
        ],
    }
    .into_iter()
    .map(|(value, key)| json!({"value": value, "label": i18n::text(lang, key)}))
    .collect();
    let mut data = base(Some(&viewer), lang, &display_name(&author), "conversation");
    data["nav_inbox"] = json!(true);
    data["conversation"] = json!({
        "id": conversation.id,
        "channel": conversation.channel_kind.as_str(),
        "status": conversation.status.as_str(),
        "status_label": i18n::text(lang, &format!("status.{}", conversation.status.as_str())),
        "tags": conversation.labels.iter().map(Label::as_str).collect::<Vec<_>>(),
        "waiting": conversation.waiting_since.map(|since| human_duration(now.as_millis() - since.as_millis())),
    });
    data["author"] = json!({
        "id": author.id,
        "name": display_name(&author),
        "handle": author.handle,
        "tags": author.labels.iter().map(Label::as_str).collect::<Vec<_>>(),
    });
    data["author_label_buttons"] = json!(["troll", "spam", "influencer", "vip", "blocked"]
        .iter()
        .map(|label| {
            let active = author.labels.iter().any(|l| l.as_str() == *label);
            json!({"label": label, "active": active, "action": if active { "remove" } else { "add" }})
        })
        .collect::<Vec<_>>());
    data["messages"] = json!(message_views);
    data["notes"] = json!(note_views);
    data["can_act"] = json!(can_act);
    data["window_closed"] = json!(window_closed);
    data["templates"] = json!(templates
        .iter()
        .map(|t| json!({"id": t.id, "name": t.name, "language": t.language, "body": t.body}))
        .collect::<Vec<_>>());
    data["status_actions"] = json!(status_actions);
    data["assigned_to_me"] = json!(conversation.assignee_id == Some(viewer.session.user.id));
    data["idempotency_key"] = json!(hex::encode(rand::random::<[u8; 12]>()));
    data["latest_message_id"] = json!(version);
    data["person"] = if person.len() > 1 {
        json!(person.iter().filter(|c| c.id != author.id).map(|c| json!({"channel": channels.get(&c.channel_id).map(|k| k.as_str()).unwrap_or(""), "name": display_name(c), "handle": c.handle})).collect::<Vec<_>>())
    } else {
        Value::Null
    };
    data["history"] = json!(history
        .iter()
        .filter(|c| c.id != conversation.id)
        .map(|c| json!({"id": c.id, "channel": c.channel_kind.as_str(), "snippet": c.last_message_text.as_deref().map(|t| bound_text(t, 120)).unwrap_or_default()}))
        .collect::<Vec<_>>());
    Ok(render(&state, "conversation", &data)?.into_response())
}

fn display_name(contact: &Contact) -> String {
    contact
        .name
        .clone()
        .or(contact.handle.clone())
        .unwrap_or_else(|| contact.platform_id.to_string())
}

async fn user_name(state: &AppState, cache: &mut HashMap<UserId, String>, id: UserId) -> String {
    if let Some(name) = cache.get(&id) {
        return name.clone();
    }
    let name = state
        .store()
        .user(id)
        .await
        .map(|user| user.name)
        .unwrap_or_default();
    cache.insert(id, name.clone());
    name
}

#[derive(Deserialize)]
pub(crate) struct TextForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    idempotency_key: String,
}

fn back_to(id: i64) -> Response {
    Redirect::to(&format!("/conversations/{id}")).into_response()
}

/// `POST /conversations/{id}/reply`: queues the reply; it shows at once as "sending".
pub(crate) async fn post_reply(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<TextForm>,
) -> Result<Response, PageError> {
    let viewer = acting_agent(&state, &headers, &form.csrf).await?;
    let key = format!(
        "page:{}:{}",
        viewer.session.user.id,
        bound_text(form.idempotency_key.trim(), 64)
    );
    crate::api::queue_reply(
        &state,
        ConversationId(id),
        Some(viewer.session.user.id),
        &viewer.actor(),
        &form.text,
        (!form.idempotency_key.trim().is_empty()).then_some(key),
        None,
    )
    .await?;
    Ok(back_to(id))
}

#[derive(Deserialize)]
pub(crate) struct TemplateForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    template_id: i64,
}

/// `POST /conversations/{id}/template`: sends an approved template (window closed).
pub(crate) async fn post_template(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<TemplateForm>,
) -> Result<Response, PageError> {
    let viewer = acting_agent(&state, &headers, &form.csrf).await?;
    let conversation = state.store().conversation(ConversationId(id)).await?;
    let template = state
        .store()
        .templates(conversation.channel_kind)
        .await?
        .into_iter()
        .find(|template| template.id == form.template_id)
        .ok_or(PageError::App(AppError::NotFound))?;
    crate::api::queue_reply(
        &state,
        conversation.id,
        Some(viewer.session.user.id),
        &viewer.actor(),
        &template.body,
        None,
        Some(&template),
    )
    .await?;
    Ok(back_to(id))
}

/// `POST /conversations/{id}/notes`.
pub(crate) async fn post_note(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<TextForm>,
) -> Result<Response, PageError> {
    let viewer = acting_agent(&state, &headers, &form.csrf).await?;
    let text = form.text.trim();
    if text.is_empty() {
        return Err(PageError::App(AppError::BadRequest(
            "the note is empty".into(),
        )));
    }
    state.store().conversation(ConversationId(id)).await?;
    state
        .store()
        .add_note(ConversationId(id), Some(viewer.session.user.id), text)
        .await?;
    state
        .store()
        .audit(
            &viewer.actor(),
            "conversation.note",
            &format!("conversation:{id}"),
            &json!({}),
        )
        .await?;
    Ok(back_to(id))
}

#[derive(Deserialize)]
pub(crate) struct StatusForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    status: String,
}

/// `POST /conversations/{id}/status`.
pub(crate) async fn post_status(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<StatusForm>,
) -> Result<Response, PageError> {
    let viewer = acting_agent(&state, &headers, &form.csrf).await?;
    let status = ConversationStatus::parse(form.status.trim())?;
    state
        .store()
        .set_conversation_status(ConversationId(id), status)
        .await?;
    state
        .store()
        .audit(
            &viewer.actor(),
            "conversation.status",
            &format!("conversation:{id}"),
            &json!({"status": status.as_str()}),
        )
        .await?;
    Ok(back_to(id))
}

#[derive(Deserialize)]
pub(crate) struct AssignForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    assignee: String,
}

/// `POST /conversations/{id}/assign`: `me`, a user id, or empty for nobody.
pub(crate) async fn post_assign(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<AssignForm>,
) -> Result<Response, PageError> {
    let viewer = acting_agent(&state, &headers, &form.csrf).await?;
    let assignee = match form.assignee.trim() {
        "" => None,
        "me" => Some(viewer.session.user.id),
        other => Some(UserId(other.parse().map_err(|_| {
            PageError::App(AppError::BadRequest("unknown assignee".into()))
        })?)),
    };
    if let Some(user_id) = assignee {
        state.store().user(user_id).await?;
    }
    state
        .store()
        .assign_conversation(ConversationId(id), assignee)
        .await?;
    state
        .store()
        .audit(
            &viewer.actor(),
            "conversation.assign",
            &format!("conversation:{id}"),
            &json!({"assignee": assignee}),
        )
        .await?;
    Ok(back_to(id))
}

#[derive(Deserialize)]
pub(crate) struct TagForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    add: String,
    #[serde(default)]
    remove: String,
    #[serde(default)]
    conversation_id: Option<i64>,
}

fn labels_of(text: &str) -> Result<Vec<Label>, PageError> {
    text.split([',', ' '])
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .take(16)
        .map(|part| Label::parse(part).map_err(PageError::from))
        .collect()
}

/// `POST /conversations/{id}/tags`.
pub(crate) async fn post_conversation_tags(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<TagForm>,
) -> Result<Response, PageError> {
    let viewer = acting_agent(&state, &headers, &form.csrf).await?;
    let (add, remove) = (labels_of(&form.add)?, labels_of(&form.remove)?);
    state
        .store()
        .tag_conversation(ConversationId(id), &add, &remove)
        .await?;
    state
        .store()
        .audit(
            &viewer.actor(),
            "conversation.tags",
            &format!("conversation:{id}"),
            &json!({"add": form.add, "remove": form.remove}),
        )
        .await?;
    Ok(back_to(id))
}

/// `POST /contacts/{id}/tags`: labels on the author (troll, spam, influencer, vip, blocked).
pub(crate) async fn post_contact_tags(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<TagForm>,
) -> Result<Response, PageError> {
    let viewer = acting_agent(&state, &headers, &form.csrf).await?;
    let (add, remove) = (labels_of(&form.add)?, labels_of(&form.remove)?);
    state
        .store()
        .tag_contact(ContactId(id), &add, &remove)
        .await?;
    state
        .store()
        .audit(
            &viewer.actor(),
            "contact.tags",
            &format!("contact:{id}"),
            &json!({"add": form.add, "remove": form.remove}),
        )
        .await?;
    match form.conversation_id {
        Some(conversation) => Ok(back_to(conversation)),
        None => Ok(Redirect::to("/inbox").into_response()),
    }
}

#[derive(Deserialize)]
pub(crate) struct LinkForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    query: String,
}

/// `POST /conversations/{id}/link`: links the author with the best match for `query` on
/// another channel (by name, handle or platform id).
pub(crate) async fn post_link(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<LinkForm>,
) -> Result<Response, PageError> {
    let viewer = acting_agent(&state, &headers, &form.csrf).await?;
    let conversation = state.store().conversation(ConversationId(id)).await?;
    let query = form.query.trim();
    if query.chars().count() < 2 {
        return Err(PageError::App(AppError::BadRequest(
            "type at least two characters to find the other profile".into(),
        )));
    }
    let candidates = state.store().search_contacts(query, 10).await?;
    let other = candidates
        .into_iter()
        .find(|contact| contact.id != conversation.contact_id)
        .ok_or(PageError::App(AppError::BadRequest(format!(
            "no profile matches {query:?}"
        ))))?;
    state
        .store()
        .link_contacts(conversation.contact_id, other.id)
        .await?;
    state
        .store()
        .audit(
            &viewer.actor(),
            "contact.link",
            &format!("contact:{}", conversation.contact_id),
            &json!({"with": other.id}),
        )
        .await?;
    Ok(back_to(id))
}

/// `POST /conversations/{id}/messages/{message}/hide|unhide`: queued, never done inside the
/// request.
pub(crate) async fn post_moderation(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, message_id, action)): Path<(i64, i64, String)>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    let viewer = acting_agent(&state, &headers, &form.csrf).await?;
    let hide = match action.as_str() {
        "hide" => true,
        "unhide" => false,
        _ => return Err(PageError::App(AppError::NotFound)),
    };
    let message = state.store().message(MessageId(message_id)).await?;
    if message.conversation_id != ConversationId(id) {
        return Err(PageError::App(AppError::NotFound));
    }
    state.store().queue_moderation(message.id, hide).await?;
    state
        .store()
        .audit(
            &viewer.actor(),
            if hide {
                "message.hide"
            } else {
                "message.unhide"
            },
            &format!("message:{message_id}"),
            &json!({}),
        )
        .await?;
    state.wake_workers();
    Ok(back_to(id))
}

/// `GET /static/app.css` and `/static/app.js`.
pub(crate) async fn static_file(Path(name): Path<String>) -> Response {
    let (body, kind) = match name.as_str() {
        "app.css" => (crate::render::APP_CSS, "text/css; charset=utf-8"),
        "app.js" => (crate::render::APP_JS, "text/javascript; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}
