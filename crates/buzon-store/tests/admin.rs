//! What admins change, on both engines: key rotation all-or-nothing, one-time OAuth states,
//! deactivation, token revocation, audit filters, pausing.

#[allow(dead_code)] // Each test binary uses a part of the shared harness.
mod harness;

use buzon_core::*;
use buzon_store::{AuditFilter, Cipher, OAuthStage, Store, StoreError};
use harness::TestDb;

macro_rules! both_engines {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let db = super::TestDb::sqlite().await;
                    super::$name(db.clone()).await;
                    db.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(db) = super::TestDb::postgres().await else { return };
                    super::$name(db.clone()).await;
                    db.finish().await;
                }
            )*
        }
    };
}

both_engines! {
    rotating_under_a_wrong_key_writes_nothing_and_the_right_key_reseals_everything,
    oauth_states_are_one_time_bound_to_their_admin_and_expire,
    deactivating_a_user_ends_their_sessions_and_stops_their_tokens,
    a_revoked_token_is_refused_at_once,
    the_audit_log_filters_by_actor_action_target_and_time,
    a_paused_channel_stays_paused_until_an_admin_resumes_it,
}

fn the_test_key() -> Cipher {
    Cipher::from_key_text(&"42".repeat(32)).unwrap()
}

async fn channel(store: &Store, kind: ChannelKind, platform_id: &str, token: &str) -> Channel {
    store
        .add_channel(
            kind,
            "Shop",
            &ExternalId::parse(platform_id).unwrap(),
            &ChannelCredentials {
                access_token: token.into(),
                refresh_token: Some(format!("{token}-refresh")),
                expires_at: None,
            },
        )
        .await
        .unwrap()
}

async fn user(store: &Store, email: &str, role: Role) -> User {
    store
        .create_user(email, "Someone", role, "not-a-real-hash")
        .await
        .unwrap()
}

async fn rotating_under_a_wrong_key_writes_nothing_and_the_right_key_reseals_everything(
    db: TestDb,
) {
    let store = &db.store;
    let one = channel(store, ChannelKind::Facebook, "111", "rotate-page-token").await;
    let two = channel(store, ChannelKind::X, "222", "rotate-x-token").await;
    let next = Cipher::from_key_text(&Cipher::generate_key_text()).unwrap();
    let wrong = Cipher::from_key_text(&Cipher::generate_key_text()).unwrap();

    assert!(matches!(
        store.reseal_credentials(&wrong, &next).await,
        Err(StoreError::Decrypt)
    ));
    assert_eq!(
        store
            .channel_credentials(one.id)
            .await
            .unwrap()
            .access_token,
        "rotate-page-token",
        "nothing was written"
    );

    assert_eq!(
        store
            .reseal_credentials(&the_test_key(), &next)
            .await
            .unwrap(),
        2
    );
    assert!(
        matches!(
            store.channel_credentials(two.id).await,
            Err(StoreError::Decrypt)
        ),
        "the old key no longer opens them"
    );
    assert_eq!(
        store
            .reseal_credentials(&next, &the_test_key())
            .await
            .unwrap(),
        2
    );
    let back = store.channel_credentials(two.id).await.unwrap();
    assert_eq!(back.access_token, "rotate-x-token");
    assert_eq!(
        back.refresh_token.as_deref(),
        Some("rotate-x-token-refresh")
    );
    for secret in ["rotate-page-token", "rotate-x-token"] {
        assert!(db.raw_dump_contains(secret).await.is_empty());
    }
}

async fn oauth_states_are_one_time_bound_to_their_admin_and_expire(db: TestDb) {
    let store = &db.store;
    let alice = user(store, "alice@shop.example", Role::Admin).await;
    let bob = user(store, "bob@shop.example", Role::Admin).await;
    let later = Timestamp::now().plus_millis(600_000);
    store
        .save_oauth_flow(
            ChannelKind::X,
            OAuthStage::Authorize,
            "state-1",
            alice.id,
            b"verifier-1",
            later,
        )
        .await
        .unwrap();
    let peek = |kind, stage, state: &'static str, who, consume| async move {
        store
            .oauth_flow(kind, stage, state, who, consume)
            .await
            .unwrap()
    };
    assert_eq!(
        peek(
            ChannelKind::Facebook,
            OAuthStage::Authorize,
            "state-1",
            alice.id,
            false
        )
        .await,
        None,
        "another platform's callback"
    );
    assert_eq!(
        peek(ChannelKind::X, OAuthStage::Pick, "state-1", alice.id, false).await,
        None
    );
    assert_eq!(
        peek(
            ChannelKind::X,
            OAuthStage::Authorize,
            "state-1",
            bob.id,
            false
        )
        .await,
        None,
        "another admin"
    );
    assert_eq!(
        peek(
            ChannelKind::X,
            OAuthStage::Authorize,
            "state-1",
            alice.id,
            true
        )
        .await,
        Some(b"verifier-1".to_vec())
    );
    assert_eq!(
        peek(
            ChannelKind::X,
            OAuthStage::Authorize,
            "state-1",
            alice.id,
            true
        )
        .await,
        None,
        "one time"
    );
    store
        .save_oauth_flow(
            ChannelKind::X,
            OAuthStage::Authorize,
            "state-2",
            alice.id,
            b"",
            Timestamp::now().plus_millis(-1),
        )
        .await
        .unwrap();
    assert_eq!(
        peek(
            ChannelKind::X,
            OAuthStage::Authorize,
            "state-2",
            alice.id,
            true
        )
        .await,
        None,
        "expired"
    );
    assert!(db.raw_dump_contains("verifier-1").await.is_empty());
    assert!(db.raw_dump_contains("state-1").await.is_empty());
}

async fn deactivating_a_user_ends_their_sessions_and_stops_their_tokens(db: TestDb) {
    let store = &db.store;
    let agent = user(store, "agent@shop.example", Role::Agent).await;
    let (cookie, _) = store
        .create_session(agent.id, Timestamp::now().plus_millis(3_600_000))
        .await
        .unwrap();
    let (_, token) = store
        .create_token("script", Role::Agent, Some(agent.id))
        .await
        .unwrap();
    assert!(store
        .session(&cookie, Timestamp::now())
        .await
        .unwrap()
        .is_some());
    store.set_user_active(agent.id, false).await.unwrap();
    assert!(store
        .session(&cookie, Timestamp::now())
        .await
        .unwrap()
        .is_none());
    assert_eq!(db.count("sessions").await, 0, "the sessions are gone");
    assert!(store.authenticate_token(&token).await.unwrap().is_none());
    store.set_user_active(agent.id, true).await.unwrap();
    assert!(store.authenticate_token(&token).await.unwrap().is_some());
    assert!(
        store
            .session(&cookie, Timestamp::now())
            .await
            .unwrap()
            .is_none(),
        "ended sessions stay ended"
    );
    assert!(matches!(
        store.set_user_active(UserId(9_999), false).await,
        Err(StoreError::NotFound)
    ));
    store.set_user_role(agent.id, Role::Viewer).await.unwrap();
    assert_eq!(store.user(agent.id).await.unwrap().role, Role::Viewer);
    assert_eq!(store.active_admins().await.unwrap(), 0);
}

async fn a_revoked_token_is_refused_at_once(db: TestDb) {
    let store = &db.store;
    let (token, secret) = store.create_token("ci", Role::Viewer, None).await.unwrap();
    assert!(store.authenticate_token(&secret).await.unwrap().is_some());
    store.revoke_token(token.id).await.unwrap();
    store.revoke_token(token.id).await.unwrap();
    assert!(store.authenticate_token(&secret).await.unwrap().is_none());
    assert!(store.list_tokens().await.unwrap()[0].revoked_at.is_some());
}

async fn the_audit_log_filters_by_actor_action_target_and_time(db: TestDb) {
    let store = &db.store;
    let detail = serde_json::json!({});
    store
        .audit("user:1", "channel.connect", "channel:1", &detail)
        .await
        .unwrap();
    store
        .audit("user:2", "channel.pause", "channel:2", &detail)
        .await
        .unwrap();
    store
        .audit("user:1", "user.role", "user:2", &detail)
        .await
        .unwrap();
    store
        .audit("cli", "channel_x.odd", "channel:3", &detail)
        .await
        .unwrap();
    let actions = |filter: AuditFilter| async move {
        store
            .audit_log(&filter, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|entry| entry.action)
            .collect::<Vec<_>>()
    };
    assert_eq!(actions(AuditFilter::default()).await.len(), 4);
    let by_action = actions(AuditFilter {
        action: Some("channel.".into()),
        ..AuditFilter::default()
    })
    .await;
    assert_eq!(
        by_action,
        vec!["channel.pause", "channel.connect"],
        "a prefix, `_` literal"
    );
    let by_actor = actions(AuditFilter {
        actor: Some("user:1".into()),
        target: Some("user:2".into()),
        ..AuditFilter::default()
    })
    .await;
    assert_eq!(by_actor, vec!["user.role"]);
    let none = actions(AuditFilter {
        since: Some(Timestamp::now().plus_millis(60_000)),
        ..AuditFilter::default()
    })
    .await;
    assert!(none.is_empty());
    let all = actions(AuditFilter {
        since: Some(Timestamp::now().plus_millis(-60_000)),
        until: Some(Timestamp::now().plus_millis(60_000)),
        ..AuditFilter::default()
    })
    .await;
    assert_eq!(all.len(), 4);
}

async fn a_paused_channel_stays_paused_until_an_admin_resumes_it(db: TestDb) {
    let store = &db.store;
    let channel = channel(store, ChannelKind::Whatsapp, "333", "wa").await;
    store.set_channel_paused(channel.id, true).await.unwrap();
    store
        .set_channel_health(channel.id, ChannelHealth::Healthy, None)
        .await
        .unwrap();
    assert_eq!(
        store.channel(channel.id).await.unwrap().health,
        ChannelHealth::Paused,
        "a poll that finishes after the pause does not resume it"
    );
    store.set_channel_paused(channel.id, false).await.unwrap();
    store
        .set_channel_health(channel.id, ChannelHealth::Unhealthy, Some("boom"))
        .await
        .unwrap();
    let limits = store.channel_limits(channel.id).await.unwrap();
    assert!(limits.last_error_at.is_some());
    store
        .set_channel_rate_limited(channel.id, Some(Timestamp::now().plus_millis(60_000)))
        .await
        .unwrap();
    let listed = store.list_channels_with_limits().await.unwrap();
    assert!(listed[0].1.rate_limited_until.is_some());
    store.set_channel_published(channel.id, true).await.unwrap();
    assert!(store.channel(channel.id).await.unwrap().published);
}
