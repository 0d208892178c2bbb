//! Channel pages: health, webhook settings, credentials (never shown), test, pause, publish,
//! and connecting by pasted token (checked against the platform before it is saved).

use super::{actor, admin, admin_form, page_data, t, when};
use crate::pages::{render, PageError, Viewer};
use crate::{AppError, AppState};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use buzon_connector::ConnectorError;
use buzon_core::*;
use serde::Deserialize;
use serde_json::json;

/// `GET /admin`.
pub(crate) async fn show_index(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let viewer = admin(&state, &headers).await?;
    let data = page_data(&viewer, "admin.title", "index");
    Ok(render(&state, "admin_index", &data)?.into_response())
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
];

fn notice_text(viewer: &Viewer, query: &NoticeQuery) -> Option<String> {
    let notice = query.notice.as_deref()?;
    NOTICES
        .contains(&notice)
        .then(|| t(viewer.lang, &format!("admin.notice.{notice}")))
}

/// `GET /admin/channels`.
pub(crate) async fn list_channels(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let viewer = admin(&state, &headers).await?;
    let notice = notice_text(&viewer, &query);
    channels_page(&state, &viewer, None, notice, None, StatusCode::OK).await
}

/// `GET /admin/channels/{id}`.
pub(crate) async fn show_channel(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let viewer = admin(&state, &headers).await?;
    state.store().channel(ChannelId(id)).await?;
    let notice = notice_text(&viewer, &query);
    channels_page(
        &state,
        &viewer,
        Some(ChannelId(id)),
        notice,
        None,
        StatusCode::OK,
    )
    .await
}

/// Renders the channels page (one channel when `only` is set) with an optional notice or
/// error in words.
pub(crate) async fn channels_page(
    state: &AppState,
    viewer: &Viewer,
    only: Option<ChannelId>,
    notice: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let lang = viewer.lang;
    let settings = state.settings();
    let public_url = settings.public_url.trim_end_matches('/').to_owned();
    let now = Timestamp::now();
    let mut views = Vec::new();
    for (channel, limits) in state.store().list_channels_with_limits().await? {
        if only.is_some_and(|id| id != channel.id) {
            continue;
        }
        // Opened only to say whether a token is set and when it expires: never rendered.
        let (token_set, refresh_set, expires) =
            match state.store().channel_credentials(channel.id).await {
                Ok(credentials) => (
                    !credentials.access_token.is_empty(),
                    credentials.refresh_token.is_some(),
                    match credentials.expires_at {
                        Some(at) if at < now => format!(
                            "{} ({})",
                            when(Some(at)).unwrap_or_default(),
                            t(lang, "admin.expired")
                        ),
                        Some(at) => when(Some(at)).unwrap_or_default(),
                        None => t(lang, "admin.no_expiry"),
                    },
                ),
                Err(_) => (false, false, t(lang, "admin.undecryptable")),
            };
        let rate_limited = limits
            .rate_limited_until
            .filter(|until| *until > now)
            .and_then(|until| when(Some(until)));
        let meta = matches!(channel.kind, ChannelKind::Facebook | ChannelKind::Whatsapp);
        views.push(json!({
            "id": channel.id,
            "kind": channel.kind.as_str(),
            "name": channel.name,
            "platform_id": channel.platform_id.as_str(),
            "health": channel.health.as_str(),
            "health_label": t(lang, &format!("admin.health.{}", channel.health.as_str())),
            "reason": channel.health_reason,
            "last_success": when(channel.last_success_at),
            "last_error": when(limits.last_error_at),
            "rate_limited": rate_limited,
            "token_set": token_set,
            "refresh_set": refresh_set,
            "expires": expires,
            "paused": channel.health == ChannelHealth::Paused,
            "published": channel.published,
            "webhook_url": format!("{public_url}/webhooks/{}", channel.kind.as_str()),
            "verify_token": if meta { settings.meta_verify_token.clone() } else { None },
            "meta": meta,
            "x": channel.kind == ChannelKind::X,
            "refreshable": channel.kind == ChannelKind::X && settings.x_oauth.is_some(),
        }));
    }
    let mut data = page_data(viewer, "admin.channels.title", "channels");
    data["channels"] = json!(views);
    data["single"] = json!(only.is_some());
    data["notice"] = json!(notice);
    data["error"] = json!(error);
    data["facebook_oauth"] = json!(settings.facebook_oauth.is_some());
    data["x_oauth"] = json!(settings.x_oauth.is_some());
    data["meta_configured"] = json!(settings.meta_configured);
    data["x_configured"] = json!(settings.x_consumer_secret.is_some());
    let html = render(state, "admin_channels", &data)?;
    Ok((status, html).into_response())
}

#[derive(Deserialize)]
pub(crate) struct ChannelForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
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
/// system-user token, a Page token, an X token), checked against the platform first.
pub(crate) async fn post_channel(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<ChannelForm>,
) -> Result<Response, PageError> {
    let viewer = admin_form(&state, &headers, &form.csrf).await?;
    let kind = ChannelKind::parse(form.kind.trim())?;
    let platform_id = ExternalId::parse(form.platform_id.trim()).map_err(|_| {
        PageError::App(AppError::BadRequest(t(
            viewer.lang,
            "admin.error.platform_id",
        )))
    })?;
    let credentials = pasted(&form)?;
    let Some(connector) = state.connector(kind) else {
        return Err(PageError::App(AppError::NotFound));
    };
    let name = match connector
        .check_credentials(&platform_id, &credentials)
        .await
    {
        Ok(name) => name,
        Err(err) => {
            state
                .store()
                .audit(
                    &actor(&viewer),
                    "channel.connect_refused",
                    &format!("{}:{}", kind.as_str(), platform_id.as_str()),
                    &json!({"reason": kind_of(&err)}),
                )
                .await?;
            let message = format!("{} {}", t(viewer.lang, "admin.error.check"), err);
            return channels_page(
                &state,
                &viewer,
                None,
                None,
                Some(message),
                StatusCode::BAD_REQUEST,
            )
            .await;
        }
    };
    let name = if form.name.trim().is_empty() {
        name
    } else {
        form.name.trim().to_owned()
    };
    let (channel, new) = state
        .store()
        .connect_channel(kind, &name, &platform_id, &credentials)
        .await?;
    state
        .store()
        .audit(
            &actor(&viewer),
            if new {
                "channel.connect"
            } else {
                "channel.credentials"
            },
            &format!("channel:{}", channel.id),
            &json!({"kind": kind.as_str(), "via": "token"}),
        )
        .await?;
    state.wake_workers();
    Ok(Redirect::to(&format!("/admin/channels/{}?notice=connected", channel.id)).into_response())
}

/// `POST /admin/channels/{id}/token`: replaces a channel's token, checked first.
pub(crate) async fn post_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<ChannelForm>,
) -> Result<Response, PageError> {
    let viewer = admin_form(&state, &headers, &form.csrf).await?;
    let channel = state.store().channel(ChannelId(id)).await?;
    let credentials = pasted(&form)?;
    let Some(connector) = state.connector(channel.kind) else {
        return Err(PageError::App(AppError::NotFound));
    };
    if let Err(err) = connector
        .check_credentials(&channel.platform_id, &credentials)
        .await
    {
        let message = format!("{} {}", t(viewer.lang, "admin.error.check"), err);
        return channels_page(
            &state,
            &viewer,
            Some(channel.id),
            None,
            Some(message),
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    state
        .store()
        .set_channel_credentials(channel.id, &credentials)
        .await?;
    state
        .store()
        .audit(
            &actor(&viewer),
            "channel.credentials",
            &format!("channel:{id}"),
            &json!({"via": "token"}),
        )
        .await?;
    state.wake_workers();
    Ok(Redirect::to(&format!("/admin/channels/{id}?notice=credentials_saved")).into_response())
}

fn pasted(form: &ChannelForm) -> Result<ChannelCredentials, PageError> {
    let token = form.access_token.trim();
    if token.is_empty() || token.len() > 4096 {
        return Err(PageError::App(AppError::BadRequest(
            "the access token is required".into(),
        )));
    }
    Ok(ChannelCredentials {
        access_token: token.to_owned(),
        refresh_token: Some(form.refresh_token.trim())
            .filter(|token| !token.is_empty())
            .map(str::to_owned),
        expires_at: None,
    })
}

#[derive(Deserialize)]
pub(crate) struct CsrfOnly {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    published: String,
}

/// `POST /admin/channels/{id}/test`: asks the platform whether the stored credentials work.
pub(crate) async fn post_test(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    let viewer = admin_form(&state, &headers, &form.csrf).await?;
    let channel = state.store().channel(ChannelId(id)).await?;
    let Some(connector) = state.connector(channel.kind) else {
        return Err(PageError::App(AppError::NotFound));
    };
    let outcome = match state.store().channel_credentials(channel.id).await {
        Ok(credentials) => connector
            .check_credentials(&channel.platform_id, &credentials)
            .await
            .map_err(|err| err.to_string()),
        Err(_) => Err(t(viewer.lang, "admin.undecryptable")),
    };
    let ok = outcome.is_ok();
    match &outcome {
        Ok(_) => {
            state
                .store()
                .set_channel_health(channel.id, ChannelHealth::Healthy, None)
                .await?
        }
        Err(reason) => {
            state
                .store()
                .set_channel_health(
                    channel.id,
                    ChannelHealth::Unhealthy,
                    Some(&format!("connection test failed: {reason}")),
                )
                .await?
        }
    }
    state
        .store()
        .audit(
            &actor(&viewer),
            "channel.test",
            &format!("channel:{id}"),
            &json!({"ok": ok}),
        )
        .await?;
    let notice = if ok { "test_ok" } else { "test_failed" };
    Ok(Redirect::to(&format!("/admin/channels/{id}?notice={notice}")).into_response())
}

/// `POST /admin/channels/{id}/pause`.
pub(crate) async fn post_pause(
    state: State<AppState>,
    headers: HeaderMap,
    id: Path<i64>,
    form: Form<CsrfOnly>,
) -> Result<Response, PageError> {
    pause(state, headers, id, form, true).await
}

/// `POST /admin/channels/{id}/resume`.
pub(crate) async fn post_resume(
    state: State<AppState>,
    headers: HeaderMap,
    id: Path<i64>,
    form: Form<CsrfOnly>,
) -> Result<Response, PageError> {
    pause(state, headers, id, form, false).await
}

async fn pause(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<CsrfOnly>,
    paused: bool,
) -> Result<Response, PageError> {
    let viewer = admin_form(&state, &headers, &form.csrf).await?;
    state
        .store()
        .set_channel_paused(ChannelId(id), paused)
        .await?;
    state
        .store()
        .audit(
            &actor(&viewer),
            if paused {
                "channel.pause"
            } else {
                "channel.resume"
            },
            &format!("channel:{id}"),
            &json!({}),
        )
        .await?;
    state.wake_workers();
    let notice = if paused { "paused" } else { "resumed" };
    Ok(Redirect::to(&format!("/admin/channels/{id}?notice={notice}")).into_response())
}

/// `POST /admin/channels/{id}/publish` with `published=1|0`: whether the channel's response
/// times appear on the public page.
pub(crate) async fn post_publish(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    let viewer = admin_form(&state, &headers, &form.csrf).await?;
    let published = form.published == "1";
    state
        .store()
        .set_channel_published(ChannelId(id), published)
        .await?;
    state
        .store()
        .audit(
            &actor(&viewer),
            "channel.publish",
            &format!("channel:{id}"),
            &json!({"published": published}),
        )
        .await?;
    let notice = if published {
        "published"
    } else {
        "unpublished"
    };
    Ok(Redirect::to(&format!("/admin/channels/{id}?notice={notice}")).into_response())
}

/// The kind of a connector error, for the audit log (never its text, which quotes the platform).
pub(crate) fn kind_of(err: &ConnectorError) -> &'static str {
    match err {
        ConnectorError::Retryable { .. } => "retryable",
        ConnectorError::RateLimited { .. } => "rate_limited",
        ConnectorError::AuthExpired(_) => "unauthorized",
        ConnectorError::WindowClosed(_) => "window_closed",
        ConnectorError::QuotaExhausted(_) => "quota",
        ConnectorError::Permanent(_) => "refused",
        ConnectorError::BadSignature => "signature",
        ConnectorError::Payload(_) => "payload",
        ConnectorError::Unknown(_) => "unknown",
    }
}
