//! The application layer against real databases: every use case refuses the roles that may
//! not use it and changes nothing when it does; a change whose audit line cannot be written
//! leaves nothing behind, on SQLite and PostgreSQL.

use buzon_app::*;
use buzon_core::*;
use buzon_store::{Cipher, DatabaseUrl, Store};
use buzon_tests::db::{Engine, TestDatabase};
use std::future::Future;
use std::pin::Pin;

/// A database with what every use case needs to find: users of each role, a WhatsApp channel
/// with a customer's conversation, a Page comment, a token, an approved template and a
/// failed inbound event.
struct World {
    database: TestDatabase,
    store: Store,
    app: App,
    admin: Actor,
    agent: Actor,
    viewer: Actor,
    viewer_token: Actor,
    conversation: ConversationId,
    comment_conversation: ConversationId,
    comment: MessageId,
    contact: ContactId,
    channel: ChannelId,
    user: UserId,
    token: TokenId,
    template: i64,
    event: EventId,
    /// A reply whose send has an unknown outcome.
    unknown_send: MessageId,
}

async fn world(engine: Engine) -> Option<World> {
    let database = TestDatabase::of(engine).await?;
    let store = Store::connect(
        &DatabaseUrl::parse(&database.url).unwrap(),
        Cipher::from_key_text(&"42".repeat(32)).unwrap(),
    )
    .await
    .expect("the test database opens");
    store.migrate().await.expect("the test database migrates");
    let app = App::new(store.clone(), Connectors::new(), AppSettings::default());
    let user = |email: &'static str, role: Role| {
        let store = store.clone();
        async move {
            let user = store
                .create_user(email, email, role, "$argon2id$not-a-real-hash")
                .await
                .unwrap();
            Actor::User { id: user.id, role }
        }
    };
    let admin = user("admin@shop.example", Role::Admin).await;
    let agent = user("agent@shop.example", Role::Agent).await;
    let viewer = user("viewer@shop.example", Role::Viewer).await;
    let (token, _) = store
        .create_token("reader", Role::Viewer, None)
        .await
        .unwrap();
    let viewer_token = Actor::Token {
        id: token.id,
        role: Role::Viewer,
        user: None,
    };
    let credentials = ChannelCredentials {
        access_token: "wa-token".into(),
        ..Default::default()
    };
    let channel = store
        .add_channel(
            ChannelKind::Whatsapp,
            "Tienda",
            &ExternalId::parse("106540352242922").unwrap(),
            &credentials,
        )
        .await
        .unwrap();
    let page = store
        .add_channel(
            ChannelKind::Facebook,
            "Página",
            &ExternalId::parse("1234567890").unwrap(),
            &credentials,
        )
        .await
        .unwrap();
    let inbound =
        |channel: &Channel, id: &str, thread: &str, kind, author: &str| NewInboundMessage {
            channel_id: channel.id,
            platform_id: ExternalId::parse(id).unwrap(),
            thread_key: thread.into(),
            conversation_kind: kind,
            author: NewContact {
                platform_id: ExternalId::parse(author).unwrap(),
                name: Some("Ana".into()),
                handle: None,
            },
            text: "¿dónde está mi pedido?".into(),
            attachments: vec![],
            created_at: Timestamp::now(),
            raw: None,
            found_by: None,
        };
    let IngestOutcome::Inserted {
        conversation_id: conversation,
        ..
    } = store
        .ingest_message(&inbound(
            &channel,
            "wamid.1",
            "whatsapp:34600000000",
            ConversationKind::Whatsapp,
            "34600000000",
        ))
        .await
        .unwrap()
    else {
        panic!("a new message")
    };
    let IngestOutcome::Inserted {
        conversation_id: comment_conversation,
        message_id: comment,
    } = store
        .ingest_message(&inbound(
            &page,
            "c_1",
            "comment:c_1",
            ConversationKind::Comment,
            "psid-9",
        ))
        .await
        .unwrap()
    else {
        panic!("a new message")
    };
    let contact = store.conversation(conversation).await.unwrap().contact_id;
    store
        .add_template(ChannelKind::Whatsapp, "pedido", "es", "Tu pedido {{1}}")
        .await
        .unwrap();
    let template = store.templates(ChannelKind::Whatsapp).await.unwrap()[0].id;
    let event = store
        .insert_inbound_event(&NewInboundEvent {
            source: ChannelKind::Whatsapp,
            channel_id: None,
            origin: "webhook".into(),
            dedup_key: "sha256:unreadable".into(),
            body: b"{not json".to_vec(),
        })
        .await
        .unwrap()
        .unwrap();
    let now = Timestamp::now();
    store
        .claim_inbound_events("test", 10, now, now.plus_millis(60_000))
        .await
        .unwrap();
    store
        .fail_inbound_event(event, "test", "not understood")
        .await
        .unwrap();
    let (unknown_send, queued) = store
        .queue_reply(&NewOutboundReply {
            conversation_id: conversation,
            user_id: None,
            text: "Ya va en camino".into(),
            idempotency_key: "world-unknown-send".into(),
            payload: ReplyPayload {
                thread_key: "whatsapp:34600000000".into(),
                conversation_kind: Some(ConversationKind::Whatsapp),
                in_reply_to: None,
                text: "Ya va en camino".into(),
                template: None,
            },
            automatic: false,
        })
        .await
        .unwrap();
    let now = Timestamp::now();
    store
        .claim_outbox("test", 10, now, now.plus_millis(60_000))
        .await
        .unwrap();
    assert!(store
        .mark_outbox_unknown(queued.id, "test", "no answer")
        .await
        .unwrap());
    let unknown_send = unknown_send.id;
    let user = agent.user_id().unwrap();
    Some(World {
        database,
        store,
        app,
        admin,
        agent,
        viewer,
        viewer_token,
        conversation,
        comment_conversation,
        comment,
        contact,
        channel: channel.id,
        user,
        token: token.id,
        template,
        event,
        unknown_send,
    })
}

type Outcome = Pin<Box<dyn Future<Output = Result<(), AppError>> + Send>>;

/// One use case: its name, the lowest role that may use it, and a call of it.
struct Case {
    name: &'static str,
    needs: Role,
    call: Box<dyn Fn(App, Actor) -> Outcome>,
}

fn case<F, Fut, T>(name: &'static str, needs: Role, call: F) -> Case
where
    F: Fn(App, Actor) -> Fut + 'static,
    Fut: Future<Output = Result<T, AppError>> + Send + 'static,
{
    Case {
        name,
        needs,
        call: Box::new(move |app, actor| {
            let outcome = call(app, actor);
            Box::pin(async move { outcome.await.map(|_| ()) })
        }),
    }
}

/// Every use case that changes something, and the admin-only reads.
fn cases(world: &World) -> Vec<Case> {
    let (conversation, comment_conversation, comment) = (
        world.conversation,
        world.comment_conversation,
        world.comment,
    );
    let (contact, channel, user, token, template, event) = (
        world.contact,
        world.channel,
        world.user,
        world.token,
        world.template,
        world.event,
    );
    let unknown_send = world.unknown_send;
    let new_channel = NewChannel {
        kind: ChannelKind::X,
        platform_id: "42".into(),
        access_token: "x-token".into(),
        refresh_token: None,
        name: "X".into(),
        replace_existing: false,
        via: "test",
    };
    vec![
        case("reply", Role::Agent, move |app, actor| async move {
            app.reply(&actor, conversation, "hola", None).await
        }),
        case(
            "template reply",
            Role::Agent,
            move |app, actor| async move {
                app.reply_with_template(&actor, conversation, template, None)
                    .await
            },
        ),
        case("note", Role::Agent, move |app, actor| async move {
            app.add_note(&actor, conversation, "llamar mañana").await
        }),
        case("status", Role::Agent, move |app, actor| async move {
            app.set_status(&actor, conversation, ConversationStatus::Resolved)
                .await
        }),
        case("snooze", Role::Agent, move |app, actor| async move {
            app.snooze(
                &actor,
                conversation,
                Some(Timestamp::now().plus_millis(3_600_000)),
            )
            .await
        }),
        case("assign", Role::Agent, move |app, actor| async move {
            app.assign(&actor, conversation, Some(user)).await
        }),
        case(
            "conversation labels",
            Role::Agent,
            move |app, actor| async move {
                app.tag_conversation(&actor, conversation, &["refund".into()], &[])
                    .await
            },
        ),
        case(
            "contact labels",
            Role::Agent,
            move |app, actor| async move {
                app.tag_contact(&actor, contact, &["troll".into()], &[])
                    .await
            },
        ),
        case("person link", Role::Agent, move |app, actor| async move {
            app.link_person(&actor, conversation, "psid-9").await
        }),
        case("hide", Role::Agent, move |app, actor| async move {
            app.moderate(
                &actor,
                comment_conversation,
                comment,
                ModerationAction::Hide,
            )
            .await
        }),
        case("unhide", Role::Agent, move |app, actor| async move {
            app.moderate(
                &actor,
                comment_conversation,
                comment,
                ModerationAction::Unhide,
            )
            .await
        }),
        case(
            "replay an event",
            Role::Admin,
            move |app, actor| async move { app.replay_event(&actor, event).await },
        ),
        case(
            "dismiss an event",
            Role::Admin,
            move |app, actor| async move { app.dismiss_event(&actor, event).await },
        ),
        case("failed events", Role::Admin, move |app, actor| async move {
            app.failed_events(&actor, 10, None).await
        }),
        case("add a user", Role::Admin, move |app, actor| async move {
            app.add_user(
                &actor,
                &NewUser {
                    email: "new@shop.example",
                    name: "New",
                    role: Role::Agent,
                    password: "a long password",
                },
            )
            .await
        }),
        case("users", Role::Admin, move |app, actor| async move {
            app.users(&actor).await
        }),
        case("role", Role::Admin, move |app, actor| async move {
            app.set_role(&actor, user, Role::Viewer).await
        }),
        case("deactivate", Role::Admin, move |app, actor| async move {
            app.set_active(&actor, user, false).await
        }),
        case(
            "reset password",
            Role::Admin,
            move |app, actor| async move {
                app.reset_password(&actor, user, "another long password")
                    .await
            },
        ),
        case("tokens", Role::Admin, move |app, actor| async move {
            app.tokens(&actor).await
        }),
        case(
            "create a token",
            Role::Admin,
            move |app, actor| async move { app.create_token(&actor, "ci", Role::Viewer, None).await },
        ),
        case(
            "revoke a token",
            Role::Admin,
            move |app, actor| async move { app.revoke_token(&actor, token).await },
        ),
        case("audit log", Role::Admin, move |app, actor| async move {
            app.audit_log(&actor, &AuditFilter::default(), 10).await
        }),
        case("channels", Role::Admin, move |app, actor| async move {
            app.channels(&actor).await
        }),
        case("connect a channel", Role::Admin, move |app, actor| {
            let new_channel = new_channel.clone();
            async move {
                app.connect_channel(&actor, &new_channel, CredentialCheck::Skip)
                    .await
            }
        }),
        case(
            "replace a token",
            Role::Admin,
            move |app, actor| async move {
                app.replace_token(&actor, channel, "new-token", None, CredentialCheck::Skip)
                    .await
            },
        ),
        case(
            "renewed credentials",
            Role::Admin,
            move |app, actor| async move {
                let renewed = ChannelCredentials {
                    access_token: "renewed".into(),
                    ..Default::default()
                };
                app.store_renewed_credentials(&actor, channel, &renewed)
                    .await
            },
        ),
        case(
            "test a channel",
            Role::Admin,
            move |app, actor| async move { app.test_channel(&actor, channel).await },
        ),
        case("pause", Role::Admin, move |app, actor| async move {
            app.pause_channel(&actor, channel, true).await
        }),
        case("resume", Role::Admin, move |app, actor| async move {
            app.pause_channel(&actor, channel, false).await
        }),
        case("publish", Role::Admin, move |app, actor| async move {
            app.publish_channel(&actor, channel, true).await
        }),
        case("auto-hide", Role::Admin, move |app, actor| async move {
            app.auto_hide_channel(&actor, channel, true).await
        }),
        case("it arrived", Role::Agent, move |app, actor| async move {
            app.settle_send(&actor, conversation, unknown_send, true)
                .await
        }),
        case("send again", Role::Agent, move |app, actor| async move {
            app.settle_send(&actor, conversation, unknown_send, false)
                .await
        }),
        case("OAuth start", Role::Admin, move |app, actor| async move {
            app.oauth_start(&actor, ChannelKind::X).await
        }),
        case(
            "OAuth callback",
            Role::Admin,
            move |app, actor| async move {
                app.oauth_callback(&actor, ChannelKind::X, &OAuthCallback::default())
                    .await
            },
        ),
        case("OAuth pages", Role::Admin, move |app, actor| async move {
            app.oauth_pages(&actor, "flow").await
        }),
        case(
            "OAuth connect pages",
            Role::Admin,
            move |app, actor| async move { app.oauth_connect_pages(&actor, "flow", &[]).await },
        ),
        case("metrics", Role::Admin, move |app, actor| async move {
            app.prometheus_text(&actor).await
        }),
    ]
}

/// What a refused call must not have changed.
async fn snapshot(database: &TestDatabase) -> Vec<(&'static str, i64)> {
    let mut counts = Vec::new();
    for (name, sql) in [
        ("audit lines", "SELECT COUNT(*) FROM audit_log"),
        ("messages", "SELECT COUNT(*) FROM messages"),
        ("outbox rows", "SELECT COUNT(*) FROM outbox"),
        ("notes", "SELECT COUNT(*) FROM notes"),
        ("users", "SELECT COUNT(*) FROM users"),
        (
            "active users",
            "SELECT COUNT(*) FROM users WHERE active = 1 AND role = 'agent'",
        ),
        (
            "tokens",
            "SELECT COUNT(*) FROM api_tokens WHERE revoked_at IS NULL",
        ),
        ("channels", "SELECT COUNT(*) FROM channels"),
        (
            "paused or published",
            "SELECT COUNT(*) FROM channels WHERE health = 'paused' OR published = 1",
        ),
        (
            "credentials",
            "SELECT CAST(SUM(credentials_version) AS BIGINT) FROM channels",
        ),
        (
            "conversation labels",
            "SELECT COUNT(*) FROM conversation_labels",
        ),
        ("contact labels", "SELECT COUNT(*) FROM contact_labels"),
        (
            "persons",
            "SELECT COUNT(*) FROM contacts WHERE person_id IS NOT NULL",
        ),
        (
            "open",
            "SELECT COUNT(*) FROM conversations WHERE status = 'open' AND assignee_id IS NULL",
        ),
        (
            "failed events",
            "SELECT COUNT(*) FROM inbound_events WHERE state = 'failed'",
        ),
        ("oauth flows", "SELECT COUNT(*) FROM oauth_flows"),
    ] {
        counts.push((name, database.scalar(sql).await));
    }
    counts
}

async fn every_use_case_refuses_a_role_that_may_not(engine: Engine) {
    let Some(world) = world(engine).await else {
        return;
    };
    let before = snapshot(&world.database).await;
    let mut refused = 0;
    for case in cases(&world) {
        let mut actors = vec![
            ("viewer", world.viewer.clone()),
            ("viewer token", world.viewer_token.clone()),
        ];
        if case.needs == Role::Admin {
            actors.push(("agent", world.agent.clone()));
        }
        for (who, actor) in actors {
            let outcome = (case.call)(world.app.clone(), actor).await;
            assert!(
                matches!(outcome, Err(AppError::Forbidden)),
                "{}: a {who} must be refused, got {outcome:?}",
                case.name
            );
            refused += 1;
        }
    }
    assert!(
        refused >= 70,
        "the table covers every use case ({refused} refusals)"
    );
    assert_eq!(
        snapshot(&world.database).await,
        before,
        "a refused call changes nothing"
    );

    // The table is not vacuous: the roles that may are not refused.
    for case in cases(&world) {
        let actor = match case.needs {
            Role::Agent => world.agent.clone(),
            _ => world.admin.clone(),
        };
        let outcome = (case.call)(world.app.clone(), actor).await;
        assert!(
            !matches!(outcome, Err(AppError::Forbidden)),
            "{}: its role is refused: {outcome:?}",
            case.name
        );
    }
    // Key rotation is the command line's alone: even an admin signed in is refused.
    let key = Cipher::from_key_text(&"42".repeat(32)).unwrap();
    assert!(matches!(
        world.app.rotate_key(&world.admin, &key, &key).await,
        Err(AppError::Forbidden)
    ));
    assert!(world.app.rotate_key(&Actor::Cli, &key, &key).await.is_ok());
    world.store.close().await;
    world.database.finish().await;
}

#[tokio::test]
async fn every_use_case_refuses_a_role_that_may_not_on_sqlite() {
    every_use_case_refuses_a_role_that_may_not(Engine::Sqlite).await;
}

#[tokio::test]
async fn every_use_case_refuses_a_role_that_may_not_on_postgres() {
    every_use_case_refuses_a_role_that_may_not(Engine::Postgres).await;
}

/// Makes every insert into the audit log fail, as a full disk or a broken connection would
/// between a change and its audit line.
async fn break_the_audit_log(database: &TestDatabase) {
    let statements: &[&str] = match database.engine {
        Engine::Sqlite => &["CREATE TRIGGER audit_refused BEFORE INSERT ON audit_log \
             BEGIN SELECT RAISE(ABORT, 'the audit log refuses writes'); END"],
        Engine::Postgres => &[
            "CREATE FUNCTION audit_refused() RETURNS trigger AS $$ BEGIN \
             RAISE EXCEPTION 'the audit log refuses writes'; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER audit_refused BEFORE INSERT ON audit_log \
             FOR EACH ROW EXECUTE FUNCTION audit_refused()",
        ],
    };
    for statement in statements {
        database
            .raw_execute(statement)
            .await
            .expect("the test can install a trigger");
    }
}

async fn a_change_whose_audit_line_fails_leaves_nothing_behind(engine: Engine) {
    let Some(world) = world(engine).await else {
        return;
    };
    break_the_audit_log(&world.database).await;
    let before = snapshot(&world.database).await;
    // Reads write no audit line; these stop before their change without a platform or an
    // OAuth client here (their refusals are audited on their own, and fail here too).
    let reads = [
        "failed events",
        "users",
        "tokens",
        "audit log",
        "channels",
        "metrics",
    ];
    let stop_first = [
        "test a channel",
        "OAuth start",
        "OAuth callback",
        "OAuth pages",
        "OAuth connect pages",
    ];
    let mut failed = 0;
    for case in cases(&world) {
        if reads.contains(&case.name) || stop_first.contains(&case.name) {
            continue;
        }
        let actor = match case.needs {
            Role::Agent => world.agent.clone(),
            _ => world.admin.clone(),
        };
        let outcome = (case.call)(world.app.clone(), actor).await;
        assert!(
            matches!(outcome, Err(AppError::Internal(_))),
            "{}: must fail with its audit line, got {outcome:?}",
            case.name
        );
        failed += 1;
    }
    assert_eq!(failed, 28, "every change was tried");
    assert_eq!(
        snapshot(&world.database).await,
        before,
        "nothing of a change without its audit line remains"
    );
    world.store.close().await;
    world.database.finish().await;
}

#[tokio::test]
async fn a_change_whose_audit_line_fails_leaves_nothing_behind_on_sqlite() {
    a_change_whose_audit_line_fails_leaves_nothing_behind(Engine::Sqlite).await;
}

#[tokio::test]
async fn a_change_whose_audit_line_fails_leaves_nothing_behind_on_postgres() {
    a_change_whose_audit_line_fails_leaves_nothing_behind(Engine::Postgres).await;
}
