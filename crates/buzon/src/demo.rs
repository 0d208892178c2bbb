//! `buzon serve --demo`: the platform sandbox in-process, one demo channel of each kind
//! connected to it, a steady stream of realistic mentions, and a demo admin. And the service
//! practices at work: business hours that are closed for three hours of every day (starting
//! now, so the demo opens in a closed period), an out-of-hours auto-reply on every channel, an
//! urgent-alert rule mailing the demo admin (on call every day) through a local mail sink
//! that prints each mail, and a burst on demand (`POST /sandbox/burst`) for spike detection.

use crate::config::{Secret, Settings};
use anyhow::Context;
use buzon_app::{
    Actor, AlertRuleInput, App, AppError, AutoReply, CannedReplyForm, CredentialCheck, NewChannel,
    NewUser, OnCall, Shift,
};
use buzon_core::metrics::{HoursDocument, WeekDocument, Weekday};
use buzon_core::{ChannelId, ChannelKind, Promote, Role, Timestamp};
use buzon_sandbox::{MailSink, Sandbox, SandboxConfig};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

/// The demo admin's email.
pub const DEMO_EMAIL: &str = "demo@buzon.example";

/// Starts the sandbox, points `settings` at it, connects the demo channels and makes sure the
/// demo admin exists. Keep the returned sandbox and mail sink alive while buzon runs.
pub(crate) async fn prepare(
    settings: &mut Settings,
    address: SocketAddr,
) -> anyhow::Result<(Sandbox, MailSink)> {
    let mail = MailSink::start(
        "127.0.0.1:0".parse().expect("a valid address"),
        "demo: alert",
    )
    .await
    .context("starting the demo mail sink")?;
    settings.alerts.smtp_url = Secret::new(format!("smtp://{}", mail.address()));
    settings.alerts.from = "buzon demo <alerts@buzon.example>".into();
    let config = SandboxConfig {
        webhook_target: Some(format!("http://{address}")),
        mentions_per_minute: 12,
        x_rate_limit_per_window: 300,
        x_rate_limit_window: Duration::from_secs(15 * 60),
        ..SandboxConfig::default()
    };
    let sandbox = buzon_sandbox::start(
        config.clone(),
        "127.0.0.1:0".parse().expect("a valid address"),
    )
    .await
    .context("starting the platform sandbox")?;
    // The week of posts naming the shop that recent search keeps: the demo's saved searches
    // find them on their first run, so the monitoring view is not empty at first (the stream
    // adds about one such post every two minutes).
    sandbox.backfill_x_posts(24, Duration::from_secs(6 * 24 * 60 * 60));
    settings.facebook.api_base = sandbox.graph_base();
    settings.whatsapp.api_base = sandbox.graph_base();
    settings.x.api_base = sandbox.x_base();
    settings.meta.app_secret = Some(Secret::new(config.app_secret.clone()));
    settings.x.consumer_secret = Some(Secret::new(config.consumer_secret.clone()));
    // Connecting channels from the admin pages signs in against the sandbox's OAuth servers.
    settings.meta.app_id = Some(config.facebook_app_id.clone());
    settings.facebook.oauth_authorize_url = sandbox.facebook_authorize_url();
    settings.facebook.oauth_token_url = sandbox.facebook_token_url();
    settings.x.client_id = Some(config.x_client_id.clone());
    settings.x.client_secret = Some(Secret::new(config.x_client_secret.clone()));
    settings.x.oauth_authorize_url = sandbox.x_authorize_url();
    settings.x.oauth_token_url = sandbox.x_token_url();
    settings.workers.poll_interval_secs = settings.workers.poll_interval_secs.min(10);

    let (store, app) = crate::cli::open_app(settings).await?;
    let demo = Actor::System("demo");
    let mut channels = Vec::new();
    let mut kinds = Vec::new();
    for (kind, platform_id, token, name) in [
        (
            ChannelKind::Facebook,
            &config.facebook_page_id,
            &config.facebook_page_token,
            "Demo shop (Facebook)",
        ),
        (
            ChannelKind::Whatsapp,
            &config.whatsapp_phone_number_id,
            &config.whatsapp_token,
            "Demo shop (WhatsApp)",
        ),
        (
            ChannelKind::X,
            &config.x_user_id,
            &config.x_token,
            "Demo shop (X)",
        ),
    ] {
        // A previous demo may have connected it: its token is replaced, the sandbox is new.
        let channel = NewChannel {
            kind,
            platform_id: platform_id.clone(),
            access_token: token.clone(),
            refresh_token: None,
            name: name.to_owned(),
            replace_existing: true,
            via: "demo",
        };
        let connected = app
            .connect_channel(&demo, &channel, CredentialCheck::Skip)
            .await
            .context("connecting a demo channel")?;
        channels.push(connected.0.id);
        kinds.push((connected.0.id, kind));
        // Listening: two saved searches that the sandbox's stream keeps feeding (untagged
        // posts naming the shop), kept when a previous demo saved them.
        if kind == ChannelKind::X {
            let saved = app.saved_searches(&demo, connected.0.id).await?;
            for (query, promote) in [
                ("tiendabuzon -is:retweet", Promote::Negative),
                (
                    "(\"tienda buzón\" OR #tiendabuzon) lang:es",
                    Promote::Questions,
                ),
            ] {
                if !saved.iter().any(|search| search.query == query) {
                    app.add_saved_search(&demo, connected.0.id, query, promote)
                        .await?;
                }
            }
        }
    }
    let password = hex::encode(rand::random::<[u8; 9]>());
    let added = app
        .add_user(
            &demo,
            &NewUser {
                email: DEMO_EMAIL,
                name: "Demo admin",
                role: Role::Admin,
                password: &password,
            },
        )
        .await;
    match added {
        Ok(_) => {}
        // A previous demo made it: the demo admin gets a fresh password each run.
        Err(AppError::Conflict { .. }) => {
            let users = app.users(&demo).await?;
            let user = users
                .iter()
                .find(|user| user.email == DEMO_EMAIL)
                .context("the demo admin exists")?;
            app.reset_password(&demo, user.id, &password).await?;
        }
        Err(err) => return Err(err.into()),
    }
    let login = format!("{DEMO_EMAIL} / {password}");
    service_practices(&app, &demo, &channels).await?;
    // Eight weeks of past (once per demo folder), and the WhatsApp channel's response times on
    // the public page.
    crate::demo_past::write_past(&app, &demo, &kinds).await?;
    if let Some((whatsapp, _)) = kinds
        .iter()
        .find(|(_, kind)| *kind == ChannelKind::Whatsapp)
    {
        app.publish_channel(&demo, *whatsapp, true).await?;
    }
    store.close().await;
    sandbox.generate(6);
    eprintln!(
        "demo: platform sandbox at {} (mentions arrive about every 5 seconds)",
        sandbox.base_url()
    );
    eprintln!(
        "demo: closed for the next 3 hours of every day: customers get an auto-reply; urgent \
         messages mail {DEMO_EMAIL} through a local sink that prints them here"
    );
    eprintln!(
        "demo: a burst for spike detection: curl -X POST {}/sandbox/burst -H 'content-type: application/json' -d '{{\"count\":40}}'",
        sandbox.base_url()
    );
    eprintln!("demo: open http://{address}/ and sign in as {login}");
    Ok((sandbox, mail))
}

/// Business hours closed for three hours of every day from now, the auto-reply on every demo channel, the demo admin on call, and an urgent-alert
/// rule.
async fn service_practices(app: &App, demo: &Actor, channels: &[ChannelId]) -> anyhow::Result<()> {
    // Open every day from three hours after this hour until this hour: the demo starts in
    // the closed part. (Set again at each start, like the demo's channels.)
    let hour = (Timestamp::now().as_millis() / 3_600_000) % 24;
    let range = format!("{:02}:00-{:02}:00", (hour + 3) % 24, hour);
    let mut week = WeekDocument::default();
    for day in Weekday::ALL {
        *week.day_mut(day) = vec![range.clone()];
    }
    app.set_business_hours(
        demo,
        Some(HoursDocument {
            time_zone: "UTC".into(),
            week,
            holidays: Vec::new(),
            exceptions: Vec::new(),
        }),
    )
    .await?;
    for channel in channels {
        app.set_auto_reply(
            demo,
            *channel,
            AutoReply {
                enabled: true,
                public_comments: false,
                texts: BTreeMap::from([
                    (
                        "es".to_owned(),
                        "¡Gracias por escribirnos! Ahora no hay nadie en el equipo; una persona te responderá {{back_at}}.".to_owned(),
                    ),
                    (
                        "en".to_owned(),
                        "Thanks for writing! Nobody from the team is here right now; a person will answer {{back_at}}.".to_owned(),
                    ),
                ]),
                default_language: "es".into(),
            },
        )
        .await?;
    }
    app.set_on_call(
        demo,
        OnCall {
            time_zone: "UTC".into(),
            shifts: vec![Shift {
                days: Weekday::ALL.to_vec(),
                hours: vec!["00:00-24:00".into()],
                user: DEMO_EMAIL.into(),
            }],
        },
    )
    .await?;
    let rules = app.alert_rules(demo).await?;
    if !rules.iter().any(|rule| rule.rule.name == DEMO_RULE) {
        app.add_alert_rule(
            demo,
            AlertRuleInput {
                name: DEMO_RULE.into(),
                keywords: BTreeMap::from([
                    (
                        "es".to_owned(),
                        vec!["urgente".to_owned(), "me cobraron dos veces".to_owned()],
                    ),
                    (
                        "en".to_owned(),
                        vec![
                            "urgent".to_owned(),
                            "asap".to_owned(),
                            "charged twice".to_owned(),
                        ],
                    ),
                ]),
                labels: Vec::new(),
                authors: Vec::new(),
                waiting_minutes: None,
                when: "always".into(),
                email: Vec::new(),
                webhook: None,
            },
        )
        .await?;
    }
    // Closing questions on every demo channel; replies on WhatsApp signed; an escalation rule.
    for channel in channels {
        app.set_closing_question(
            demo,
            *channel,
            AutoReply {
                enabled: true,
                public_comments: false,
                texts: BTreeMap::from([
                    (
                        "es".to_owned(),
                        "¿Hemos resuelto tu consulta? Responde 1 si sí o 2 si no.".to_owned(),
                    ),
                    (
                        "en".to_owned(),
                        "Did this solve it? Reply 1 for yes, 2 for no.".to_owned(),
                    ),
                ]),
                default_language: "es".into(),
            },
        )
        .await?;
    }
    if let Some(whatsapp) = channels.get(1) {
        app.set_channel_signature(demo, *whatsapp, true).await?;
    }
    if app.escalation_rules(demo).await?.is_empty() {
        app.add_escalation_rule(demo, None, None, 120).await?;
    }
    // Two approved WhatsApp templates, offered when a chat's 24-hour window has closed (the
    // sandbox accepts any template, as WhatsApp accepts approved ones).
    let templates = app
        .templates(demo, buzon_core::ChannelKind::Whatsapp)
        .await?;
    for (name, language, body) in [
        (
            "seguimiento_pedido",
            "es",
            "Hola, te escribimos por tu consulta. ¿Seguimos con ella?",
        ),
        (
            "order_follow_up",
            "en",
            "Hi, we are following up on your question. Shall we go on?",
        ),
    ] {
        if !templates
            .iter()
            .any(|known| known.name == name && known.language == language)
        {
            app.add_template(demo, name, language, body).await?;
        }
    }
    // A few shared canned replies in Spanish and English (kept when a previous demo made them).
    let existing = app.canned_replies(demo, None, None).await?;
    for (shortcut, name, language, text) in DEMO_CANNED {
        if existing.iter().any(|reply| reply.shortcut == *shortcut) {
            continue;
        }
        app.save_canned_reply(
            demo,
            None,
            &CannedReplyForm {
                name: (*name).to_owned(),
                shortcut: (*shortcut).to_owned(),
                text: (*text).to_owned(),
                language: Some((*language).to_owned()),
                labels: Vec::new(),
                shared: Some(true),
            },
        )
        .await?;
    }
    Ok(())
}

/// The demo's canned replies: (shortcut, name, language, text).
const DEMO_CANNED: &[(&str, &str, &str, &str)] = &[
    (
        "envios",
        "Plazos de envío",
        "es",
        "Hola {{customer.first_name}}, los pedidos salen en 24 horas y llegan en 2 a 4 días laborables. Si me das tu número de pedido, lo miro ahora mismo. {{agent.first_name}}",
    ),
    (
        "devolucion",
        "Devoluciones",
        "es",
        "Hola {{customer.first_name}}, puedes devolver cualquier producto en 30 días desde tu cuenta, en «Mis pedidos». Si necesitas ayuda, escríbeme por aquí.",
    ),
    (
        "shipping",
        "Shipping times",
        "en",
        "Hi {{customer.first_name}}, orders ship within 24 hours and arrive in 2 to 4 working days. If you send me your order number I will check it right away. {{agent.first_name}}",
    ),
    (
        "returns",
        "Returns",
        "en",
        "Hi {{customer.first_name}}, you can return anything within 30 days from your account, under \"My orders\". Write to me here if you need a hand.",
    ),
];

/// The demo's urgent-alert rule.
const DEMO_RULE: &str = "Urgente (demo)";
