//! Channel pages: health, webhook settings, credentials (never shown), test, pause, publish,
//! and connecting by pasted token (checked with the platform before it is saved).

use super::{admin_page, respond, NoFields};
use crate::http::{see_other, Admin, Caller, CsrfForm, WebError};
use crate::i18n::{text, Lang};
use crate::view::when;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use buzon_app::{AppError, ChannelOverview, CredentialCheck, CredentialsState, NewChannel};
use buzon_core::{ChannelHealth, ChannelId, ChannelKind, Promote, Timestamp};
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
struct IndexView {}

/// `GET /admin`.
pub(crate) async fn show_index(
    State(state): State<AppState>,
    Admin(caller): Admin,
) -> Result<Response, WebError> {
    let page = admin_page(&caller, "admin-title", "index", IndexView {});
    respond(&state, &caller, StatusCode::OK, "admin_index", &page).await
}

#[derive(Deserialize, Default)]
pub(crate) struct NoticeQuery {
    #[serde(default)]
    notice: Option<String>,
}

/// The notices a redirect may name (never free text from the URL).
const NOTICES: &[&str] = &[
    "connected",
    "credentials_saved",
    "test_ok",
    "test_failed",
    "paused",
    "resumed",
    "published",
    "unpublished",
    "auto_hide_on",
    "auto_hide_off",
    "template_added",
    "template_deleted",
    "search_added",
    "search_changed",
    "search_deleted",
];

/// The words of a notice a redirect named, if it is one of [`NOTICES`].
fn notice_text(lang: Lang, query: &NoticeQuery) -> Option<String> {
    let notice = query.notice.as_deref()?;
    NOTICES
        .contains(&notice)
        .then(|| text(lang, &format!("admin-notice-{notice}")))
}

/// `GET /admin/channels`.
pub(crate) async fn list_channels(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    let notice = notice_text(caller.lang, &query);
    channels_page(&state, &caller, None, notice, None, StatusCode::OK).await
}

/// `GET /admin/channels/{id}`.
pub(crate) async fn show_channel(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    let channel = state.app().channel(&caller.actor, ChannelId(id)).await?;
    let notice = notice_text(caller.lang, &query);
    channels_page(
        &state,
        &caller,
        Some(channel.id),
        notice,
        None,
        StatusCode::OK,
    )
    .await
}

/// One channel as the page shows it: health, limits, webhook settings, and only whether its
/// tokens are set and when they expire.
#[derive(Serialize)]
struct ChannelRow {
    id: i64,
    kind: &'static str,
    name: String,
    platform_id: String,
    health: &'static str,
    health_label: String,
    reason: Option<String>,
    last_success: Option<String>,
    last_error: Option<String>,
    rate_limited: Option<String>,
    token_set: bool,
    refresh_set: bool,
    expires: String,
    paused: bool,
    published: bool,
    auto_hide: bool,
    /// Whether the channel has public messages that can be hidden (not WhatsApp).
    public_messages: bool,
    webhook_url: String,
    verify_token: Option<String>,
    meta: bool,
    x: bool,
    refreshable: bool,
    unparsed: i64,
    /// Saved searches whose query X refused.
    search_errors: Vec<SearchError>,
}

/// A saved search X refused, on the channel's health.
#[derive(Serialize)]
struct SearchError {
    query: String,
    error: String,
}

/// A saved search as the X channel's page lists it.
#[derive(Serialize)]
struct SearchRow {
    id: i64,
    query: String,
    promote_label: String,
    last: Option<String>,
    error: Option<String>,
    /// The promotions, this search's selected, for its change form.
    choices: Vec<PromoteChoice>,
}

/// The saved-searches section of an X channel's page.
#[derive(Serialize)]
struct SearchesView {
    rows: Vec<SearchRow>,
    promotes: Vec<PromoteChoice>,
}

#[derive(Serialize)]
struct PromoteChoice {
    value: &'static str,
    label: String,
    selected: bool,
}

#[derive(Serialize)]
struct ChannelsView {
    /// The WhatsApp templates, on a WhatsApp channel's own page.
    templates: Option<Vec<TemplateRow>>,
    /// The saved searches, on an X channel's own page.
    searches: Option<SearchesView>,
    /// How the searches share X's request budget, in words.
    budget: String,
    channels: Vec<ChannelRow>,
    single: bool,
    facebook_oauth: bool,
    x_oauth: bool,
    meta_configured: bool,
    x_configured: bool,
}

/// Renders the channels page (one channel when `only` is set) with an optional notice or
/// error in words.
pub(crate) async fn channels_page(
    state: &AppState,
    caller: &Caller,
    only: Option<ChannelId>,
    notice: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let settings = state.settings();
    let x_oauth = state.app().oauth_configured(ChannelKind::X);
    let context = RowContext {
        lang: caller.lang,
        now: Timestamp::now(),
        public_url: settings.public_url.trim_end_matches('/'),
        verify_token: settings.meta_verify_token.as_deref(),
        x_oauth,
    };
    let overviews: Vec<ChannelOverview> = match only {
        Some(id) => match state.app().channel_overview(&caller.actor, id).await {
            Ok(overview) => vec![overview],
            Err(buzon_app::AppError::NotFound) => Vec::new(),
            Err(err) => return Err(err.into()),
        },
        None => state.app().channels(&caller.actor).await?,
    };
    let lang = caller.lang;
    let searches = match (only, overviews.first()) {
        (Some(_), Some(overview)) if overview.channel.kind == ChannelKind::X => {
            Some(SearchesView {
                rows: overview
                    .searches
                    .iter()
                    .map(|search| SearchRow {
                        id: search.id,
                        query: search.query.clone(),
                        promote_label: text(
                            lang,
                            &format!("admin-searches-promote-{}", search.promote.as_str()),
                        ),
                        last: when(search.last_polled_at),
                        error: search.last_error.clone(),
                        choices: promote_choices(lang, Some(search.promote)),
                    })
                    .collect(),
                promotes: promote_choices(lang, None),
            })
        }
        _ => None,
    };
    let budget = searches.as_ref().map_or_else(String::new, |view| {
        let count = view.rows.len().max(1);
        let every = buzon_core::listening::search_interval(None, count).as_secs();
        crate::i18n::text_with(
            lang,
            "admin-searches-budget",
            &[
                ("every", every.to_string().into()),
                ("count", (count as i64).into()),
            ],
        )
    });
    let channels: Vec<ChannelRow> = overviews
        .into_iter()
        .map(|overview| channel_row(overview, &context))
        .collect();
    let templates = match only {
        Some(id)
            if channels
                .iter()
                .any(|row| row.id == id.get() && row.kind == "whatsapp") =>
        {
            Some(
                state
                    .app()
                    .templates(&caller.actor, ChannelKind::Whatsapp)
                    .await?
                    .into_iter()
                    .map(|template| TemplateRow {
                        id: template.id,
                        name: template.name,
                        language: template.language,
                        body: template.body,
                    })
                    .collect(),
            )
        }
        _ => None,
    };
    let view = ChannelsView {
        templates,
        searches,
        budget,
        channels,
        single: only.is_some(),
        facebook_oauth: state.app().oauth_configured(ChannelKind::Facebook),
        x_oauth,
        meta_configured: settings.meta_configured,
        x_configured: settings.x_consumer_secret.is_some(),
    };
    let mut page = admin_page(caller, "admin-channels-title", "channels", view);
    page.body.notice = notice;
    page.body.error = error;
    respond(state, caller, status, "admin_channels", &page).await
}

/// A WhatsApp template as the channel page lists it.
#[derive(Serialize)]
struct TemplateRow {
    id: i64,
    name: String,
    language: String,
    body: String,
}

#[derive(Deserialize)]
pub(crate) struct TemplateForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    body: String,
}

/// `POST /admin/channels/{id}/templates`: registers a WhatsApp template approved in the
/// WhatsApp Manager; a refusal is shown on the page, in words.
pub(crate) async fn post_template(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<TemplateForm>,
) -> Result<Response, WebError> {
    match state
        .app()
        .add_template(&caller.actor, &form.name, &form.language, &form.body)
        .await
    {
        Ok(_) => Ok(see_other(&format!(
            "/admin/channels/{id}?notice=template_added"
        ))),
        Err(err) => refused_on_page(&state, &caller, id, err).await,
    }
}

/// A refusal of what was asked on a channel's page, shown there in words (400); any other
/// error is the request's.
async fn refused_on_page(
    state: &AppState,
    caller: &Caller,
    id: i64,
    err: AppError,
) -> Result<Response, WebError> {
    match err {
        err @ (AppError::Invalid { .. } | AppError::Conflict { .. }) => {
            let error = WebError::from(err).message_in(caller.lang);
            channels_page(
                state,
                caller,
                Some(ChannelId(id)),
                None,
                Some(error),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        err => Err(err.into()),
    }
}

#[derive(Deserialize)]
pub(crate) struct SearchForm {
    #[serde(default)]
    query: String,
    #[serde(default)]
    promote: String,
}

/// `POST /admin/channels/{id}/searches`: saves a search of an X channel; a refusal is shown
/// on the page, in words.
pub(crate) async fn post_search(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<SearchForm>,
) -> Result<Response, WebError> {
    let promote = Promote::parse(&form.promote).unwrap_or(Promote::None);
    match state
        .app()
        .add_saved_search(&caller.actor, ChannelId(id), &form.query, promote)
        .await
    {
        Ok(_) => Ok(see_other(&format!(
            "/admin/channels/{id}?notice=search_added"
        ))),
        Err(err) => refused_on_page(&state, &caller, id, err).await,
    }
}

/// The promotions a search may have, in words, `selected` marked.
fn promote_choices(lang: Lang, selected: Option<Promote>) -> Vec<PromoteChoice> {
    Promote::ALL
        .iter()
        .map(|promote| PromoteChoice {
            value: promote.as_str(),
            label: text(
                lang,
                &format!("admin-searches-promote-{}", promote.as_str()),
            ),
            selected: Some(*promote) == selected,
        })
        .collect()
}

/// `POST /admin/channels/{id}/searches/{search}`: changes a search's query or promotion (a
/// new query starts over); a refusal is shown on the page.
pub(crate) async fn post_search_update(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path((id, search)): Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<SearchForm>,
) -> Result<Response, WebError> {
    let promote = Promote::parse(&form.promote).unwrap_or(Promote::None);
    match state
        .app()
        .update_saved_search(&caller.actor, ChannelId(id), search, &form.query, promote)
        .await
    {
        Ok(_) => Ok(see_other(&format!(
            "/admin/channels/{id}?notice=search_changed"
        ))),
        Err(err) => refused_on_page(&state, &caller, id, err).await,
    }
}

/// `POST /admin/channels/{id}/searches/{search}/delete`.
pub(crate) async fn post_search_delete(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path((id, search)): Path<(i64, i64)>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    state
        .app()
        .delete_saved_search(&caller.actor, ChannelId(id), search)
        .await?;
    Ok(see_other(&format!(
        "/admin/channels/{id}?notice=search_deleted"
    )))
}

/// `POST /admin/channels/{id}/templates/{template}/delete`.
pub(crate) async fn post_template_delete(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path((id, template)): Path<(i64, i64)>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    state.app().delete_template(&caller.actor, template).await?;
    Ok(see_other(&format!(
        "/admin/channels/{id}?notice=template_deleted"
    )))
}

/// What every row of the channels page needs besides its channel.
struct RowContext<'a> {
    lang: Lang,
    now: Timestamp,
    /// The address buzon is reached at, without a trailing slash.
    public_url: &'a str,
    /// Meta's webhook verify token, if set.
    verify_token: Option<&'a str>,
    /// Whether X's OAuth is configured (X tokens are then renewed before they expire).
    x_oauth: bool,
}

/// One channel as the page shows it.
fn channel_row(overview: ChannelOverview, context: &RowContext<'_>) -> ChannelRow {
    let RowContext { lang, now, .. } = *context;
    let ChannelOverview {
        channel,
        limits,
        credentials,
        unparsed,
        searches,
    } = overview;
    let (token_set, refresh_set, expires) = match credentials {
        CredentialsState::Set {
            access_token,
            refresh_token,
            expires_at,
        } => (
            access_token,
            refresh_token,
            match expires_at {
                Some(at) if at < now => format!(
                    "{} ({})",
                    when(Some(at)).unwrap_or_default(),
                    text(lang, "admin-expired")
                ),
                Some(at) => when(Some(at)).unwrap_or_default(),
                None => text(lang, "admin-no_expiry"),
            },
        ),
        CredentialsState::Undecryptable => (false, false, text(lang, "admin-undecryptable")),
    };
    let meta = matches!(channel.kind, ChannelKind::Facebook | ChannelKind::Whatsapp);
    let x = channel.kind == ChannelKind::X;
    ChannelRow {
        id: channel.id.get(),
        kind: channel.kind.as_str(),
        platform_id: channel.platform_id.as_str().to_owned(),
        health: channel.health.as_str(),
        health_label: text(lang, &format!("admin-health-{}", channel.health.as_str())),
        reason: channel.health_reason,
        last_success: when(channel.last_success_at),
        last_error: when(limits.last_error_at),
        rate_limited: limits
            .rate_limited_until
            .filter(|until| *until > now)
            .and_then(|until| when(Some(until))),
        token_set,
        refresh_set,
        expires,
        paused: channel.health == ChannelHealth::Paused,
        published: channel.published,
        auto_hide: channel.auto_hide_flagged,
        public_messages: channel.kind != ChannelKind::Whatsapp,
        webhook_url: format!("{}/webhooks/{}", context.public_url, channel.kind.as_str()),
        verify_token: context.verify_token.filter(|_| meta).map(str::to_owned),
        meta,
        x,
        refreshable: x && context.x_oauth,
        unparsed,
        search_errors: searches
            .into_iter()
            .filter_map(|search| {
                search.last_error.map(|error| SearchError {
                    query: search.query,
                    error,
                })
            })
            .collect(),
        name: channel.name,
    }
}

/// The channels page (one channel when `only` is set) saying the platform refused the
/// pasted credentials, in its own words: 400, nothing saved. Any other error is handed back.
async fn refused_credentials(
    state: &AppState,
    caller: &Caller,
    only: Option<ChannelId>,
    err: AppError,
) -> Result<Response, WebError> {
    let AppError::Platform { message, .. } = err else {
        return Err(err.into());
    };
    let error = format!("{} {message}", text(caller.lang, "admin-error-check"));
    channels_page(
        state,
        caller,
        only,
        None,
        Some(error),
        StatusCode::BAD_REQUEST,
    )
    .await
}

#[derive(Deserialize)]
pub(crate) struct ChannelForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    platform_id: String,
    #[serde(default)]
    access_token: String,
    #[serde(default)]
    refresh_token: String,
    #[serde(default)]
    name: String,
}

/// `POST /admin/channels`: connects a channel with a pasted token (a WhatsApp number and its
/// system-user token, a Page token, an X token), checked with the platform first; an account
/// already connected gets the new credentials.
pub(crate) async fn post_channel(
    State(state): State<AppState>,
    Admin(caller): Admin,
    CsrfForm(form): CsrfForm<ChannelForm>,
) -> Result<Response, WebError> {
    let kind = ChannelKind::parse(form.kind.trim()).map_err(AppError::from)?;
    let new = NewChannel {
        kind,
        platform_id: form.platform_id,
        access_token: form.access_token,
        refresh_token: Some(form.refresh_token),
        name: form.name,
        replace_existing: true,
        via: "token",
    };
    match state
        .app()
        .connect_channel(&caller.actor, &new, CredentialCheck::WithPlatform)
        .await
    {
        Ok((channel, _)) => Ok(see_other(&format!(
            "/admin/channels/{}?notice=connected",
            channel.id
        ))),
        Err(err) => refused_credentials(&state, &caller, None, err).await,
    }
}

#[derive(Deserialize)]
pub(crate) struct TokenForm {
    #[serde(default)]
    access_token: String,
    #[serde(default)]
    refresh_token: String,
}

/// `POST /admin/channels/{id}/token`: replaces a channel's token, checked first.
pub(crate) async fn post_token(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<TokenForm>,
) -> Result<Response, WebError> {
    let id = ChannelId(id);
    match state
        .app()
        .replace_token(
            &caller.actor,
            id,
            &form.access_token,
            Some(&form.refresh_token),
            CredentialCheck::WithPlatform,
        )
        .await
    {
        Ok(_) => Ok(see_other(&format!(
            "/admin/channels/{id}?notice=credentials_saved"
        ))),
        Err(err) => refused_credentials(&state, &caller, Some(id), err).await,
    }
}

/// `POST /admin/channels/{id}/test`: asks the platform whether the stored credentials work;
/// the answer is the channel's health.
pub(crate) async fn post_test(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    let refused = state
        .app()
        .test_channel(&caller.actor, ChannelId(id))
        .await?;
    let notice = if refused.is_none() {
        "test_ok"
    } else {
        "test_failed"
    };
    Ok(see_other(&format!("/admin/channels/{id}?notice={notice}")))
}

/// `POST /admin/channels/{id}/pause`.
pub(crate) async fn post_pause(
    state: State<AppState>,
    admin: Admin,
    id: Path<i64>,
    form: CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    pause(state, admin, id, form, true).await
}

/// `POST /admin/channels/{id}/resume`.
pub(crate) async fn post_resume(
    state: State<AppState>,
    admin: Admin,
    id: Path<i64>,
    form: CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    pause(state, admin, id, form, false).await
}

async fn pause(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
    paused: bool,
) -> Result<Response, WebError> {
    state
        .app()
        .pause_channel(&caller.actor, ChannelId(id), paused)
        .await?;
    let notice = if paused { "paused" } else { "resumed" };
    Ok(see_other(&format!("/admin/channels/{id}?notice={notice}")))
}

#[derive(Deserialize)]
pub(crate) struct PublishForm {
    #[serde(default)]
    published: String,
}

/// `POST /admin/channels/{id}/publish` with `published=1|0`: whether the channel's response
/// times appear on the public page.
pub(crate) async fn post_publish(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<PublishForm>,
) -> Result<Response, WebError> {
    let published = form.published == "1";
    state
        .app()
        .publish_channel(&caller.actor, ChannelId(id), published)
        .await?;
    let notice = if published {
        "published"
    } else {
        "unpublished"
    };
    Ok(see_other(&format!("/admin/channels/{id}?notice={notice}")))
}

#[derive(Deserialize)]
pub(crate) struct AutoHideForm {
    #[serde(default)]
    on: String,
}

/// `POST /admin/channels/{id}/auto-hide` with `on=1|0`: whether the new public messages of
/// flagged authors are hidden on the platform as they arrive.
pub(crate) async fn post_auto_hide(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<AutoHideForm>,
) -> Result<Response, WebError> {
    let on = form.on == "1";
    state
        .app()
        .auto_hide_channel(&caller.actor, ChannelId(id), on)
        .await?;
    let notice = if on { "auto_hide_on" } else { "auto_hide_off" };
    Ok(see_other(&format!("/admin/channels/{id}?notice={notice}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::testing::{admin, render};
    use buzon_core::{Channel, ChannelLimits, ExternalId};

    fn overview(
        kind: ChannelKind,
        health: ChannelHealth,
        credentials: CredentialsState,
    ) -> ChannelOverview {
        ChannelOverview {
            channel: Channel {
                id: ChannelId(7),
                kind,
                name: "Tienda <b>".into(),
                platform_id: ExternalId::parse("106540352242922").unwrap(),
                health,
                health_reason: Some("token expired".into()),
                cursor: None,
                last_success_at: Some(Timestamp::now()),
                created_at: Timestamp::now(),
                credentials_version: 1,
                auto_hide_flagged: false,
                published: true,
            },
            limits: ChannelLimits::default(),
            credentials,
            unparsed: 0,
            searches: Vec::new(),
        }
    }

    fn context(now: Timestamp) -> RowContext<'static> {
        RowContext {
            lang: Lang::english(),
            now,
            public_url: "https://buzon.example",
            verify_token: Some("verify-me"),
            x_oauth: true,
        }
    }

    #[test]
    fn a_row_says_whether_tokens_are_set_and_when_they_expire() {
        let now = Timestamp::now();
        let expired = CredentialsState::Set {
            access_token: true,
            refresh_token: true,
            expires_at: Some(now.plus_millis(-60_000)),
        };
        let row = channel_row(
            overview(ChannelKind::X, ChannelHealth::Unhealthy, expired),
            &context(now),
        );
        assert!(row.token_set && row.refresh_set && row.refreshable && row.x);
        assert!(row.expires.ends_with("(expired)"), "{}", row.expires);
        assert_eq!(row.health_label, "Needs attention");
        assert_eq!(row.webhook_url, "https://buzon.example/webhooks/x");
        assert_eq!(row.verify_token, None, "X has no verify token");

        let row = channel_row(
            overview(
                ChannelKind::Whatsapp,
                ChannelHealth::Paused,
                CredentialsState::Undecryptable,
            ),
            &context(now),
        );
        assert!(!row.token_set && !row.refresh_set && row.paused && !row.refreshable);
        assert_eq!(row.expires, text(Lang::english(), "admin-undecryptable"));
        assert_eq!(row.verify_token.as_deref(), Some("verify-me"));
    }

    #[test]
    fn only_known_notices_are_shown() {
        let notice = |name: &str| {
            notice_text(
                Lang::english(),
                &NoticeQuery {
                    notice: Some(name.to_owned()),
                },
            )
        };
        assert_eq!(
            notice("connected").as_deref(),
            Some("The channel is connected.")
        );
        assert_eq!(notice("<script>alert(1)</script>"), None);
        assert_eq!(notice("credentials"), None);
    }

    #[test]
    fn the_channels_and_index_pages_render() {
        let caller = admin();
        let now = Timestamp::now();
        let set = CredentialsState::Set {
            access_token: true,
            refresh_token: false,
            expires_at: None,
        };
        let view = ChannelsView {
            templates: Some(vec![TemplateRow {
                id: 1,
                name: "pedido_enviado".into(),
                language: "es".into(),
                body: "Tu pedido <va> en camino".into(),
            }]),
            searches: Some(SearchesView {
                rows: vec![SearchRow {
                    id: 4,
                    query: "\"tienda <buzón>\" -is:retweet".into(),
                    promote_label: "Always".into(),
                    last: None,
                    error: Some("x answered 400: <b>bad</b>".into()),
                    choices: vec![PromoteChoice {
                        value: "all",
                        label: "Always".into(),
                        selected: true,
                    }],
                }],
                promotes: vec![PromoteChoice {
                    value: "all",
                    label: "Always".into(),
                    selected: false,
                }],
            }),
            budget: "every 50 seconds".into(),
            channels: vec![channel_row(
                overview(ChannelKind::Facebook, ChannelHealth::Healthy, set),
                &context(now),
            )],
            single: false,
            facebook_oauth: true,
            x_oauth: false,
            meta_configured: true,
            x_configured: false,
        };
        let mut page = admin_page(&caller, "admin-channels-title", "channels", view);
        page.body.notice = Some("a notice".into());
        page.body.error = Some("an error".into());
        let html = render("admin_channels", &page);
        assert!(html.contains("data-health=\"healthy\""), "{html}");
        assert!(html.contains("Tienda &lt;b&gt;"), "escaped");
        assert!(html.contains("<code>verify-me</code>"));
        assert!(html.contains("value=\"the-csrf-token\""));
        assert!(html.contains("/admin/oauth/facebook/start"));
        assert!(html.contains("a notice") && html.contains("an error"));
        assert!(html.contains("href=\"/admin/channels\" aria-current=\"page\""));
        // A saved search's query and X's refusal are text, never markup.
        assert!(html.contains("tienda &lt;buzón&gt;"), "{html}");
        assert!(html.contains("&lt;b&gt;bad&lt;/b&gt;"));
        assert!(html.contains("/admin/channels/7/searches/4/delete"));
        assert!(html.contains("action=\"/admin/channels/7/searches/4\""));
        assert!(html.contains("value=\"all\" selected"));

        let page = admin_page(&caller, "admin-title", "index", IndexView {});
        let html = render("admin_index", &page);
        assert!(
            html.contains("<title>Administration · buzon</title>"),
            "{html}"
        );
    }
}
