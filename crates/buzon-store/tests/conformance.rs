//! The store conformance suite: every test runs against SQLite (a temporary file) and, when
//! `BUZON_TEST_POSTGRES_URL` is set, against PostgreSQL (a database of its own per test).
//! Under `CI=true` a missing PostgreSQL fails the suite instead of skipping it.

mod harness;

use buzon_core::*;
use buzon_store::{ClaimedEvent, EventEnd, EventResult, EventWrite, Store, StoreError};
use harness::TestDb;
use std::collections::HashSet;
use tokio::task::JoinSet;

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let db = super::TestDb::sqlite().await;
                    super::$name(db.clone()).await;
                    db.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let Some(db) = super::TestDb::postgres().await else { return };
                    super::$name(db.clone()).await;
                    db.finish().await;
                }
            )*
        }
    };
}

conformance! {
    migrations_can_run_again_without_change,
    a_duplicate_user_email_is_a_conflict,
    tokens_authenticate_by_secret_only,
    channel_credentials_are_sealed_at_rest,
    a_channel_connects_once_per_platform_account,
    inbound_events_are_stored_once_per_dedup_key,
    a_batch_of_deliveries_is_stored_at_once_and_duplicates_are_recognised,
    a_batch_of_processed_events_is_written_whole_or_not_at_all,
    a_removal_that_comes_before_its_object_retracts_it_when_it_is_stored,
    a_find_delivered_again_as_addressed_to_the_account_comes_into_the_queue,
    many_messages_stored_at_once_end_as_if_stored_one_by_one,
    an_unparsed_event_keeps_its_parts_is_counted_and_replays,
    the_same_message_from_16_tasks_is_stored_once,
    two_workers_never_claim_the_same_outbox_row,
    two_workers_never_claim_the_same_inbound_event,
    expired_event_leases_are_claimed_again_and_stale_owners_cannot_complete,
    a_poll_lease_has_one_holder_and_fences_the_cursor,
    listing_filters_and_pages_without_gaps_or_repeats,
    full_text_search_finds_words_in_any_message,
    out_of_order_messages_keep_the_newest_activity,
    tagging_an_author_as_troll_moves_their_conversations_out_of_the_queue,
    unnamed_people_are_asked_about_once_and_again_only_after_a_day_and_a_new_message,
    queuing_a_reply_is_idempotent_and_sending_records_the_platform_id,
    failed_sends_retry_or_fail_for_good_and_stuck_sends_become_unknown,
    a_send_starts_only_under_a_live_lease_and_its_sender_settles_it_after_expiry,
    an_unknown_send_waits_for_the_platform_or_a_person_and_early_statuses_apply_later,
    a_status_carrying_a_sends_reference_settles_it_even_when_it_came_first,
    an_event_that_never_finishes_is_failed_after_bounded_attempts,
    the_audit_log_is_append_only,
    pruning_removes_finished_work_and_keeps_what_waits_for_someone,
    released_leases_are_free_at_once,
    hostile_text_is_stored_as_written_but_bounded,
    vips_sort_first_and_other_orders_page_in_their_own_order,
    labels_follow_a_person_across_linked_channels,
    flagged_authors_are_recognised_and_hides_are_queued,
    a_flagged_authors_new_comment_is_stored_with_its_hide_in_one_transaction,
    status_changes_are_recorded_and_timelines_carry_every_event,
    a_satisfied_answer_undoes_the_reopening_only_when_it_resolves_again,
}

async fn channel(store: &Store, kind: ChannelKind, platform_id: &str) -> Channel {
    store
        .add_channel(
            kind,
            "Shop",
            &ExternalId::parse(platform_id).unwrap(),
            &ChannelCredentials {
                access_token: format!("token-{platform_id}"),
                ..Default::default()
            },
        )
        .await
        .expect("channel is added")
}

fn inbound(
    channel: &Channel,
    platform_id: &str,
    thread: &str,
    author: &str,
    text: &str,
    at: i64,
) -> NewInboundMessage {
    NewInboundMessage {
        channel_id: channel.id,
        platform_id: ExternalId::parse(platform_id).unwrap(),
        thread_key: thread.into(),
        // The kind its connector would set: Page threads here are comments.
        conversation_kind: match channel.kind {
            ChannelKind::Facebook => ConversationKind::Comment,
            ChannelKind::Whatsapp => ConversationKind::Whatsapp,
            ChannelKind::X => ConversationKind::XMention,
        },
        author: NewContact {
            platform_id: ExternalId::parse(author).unwrap(),
            name: Some(format!("Author {author}")),
            handle: None,
        },
        text: text.into(),
        attachments: vec![],
        created_at: Timestamp::from_millis(at),
        raw: None,
        found_by: None,
    }
}

/// A reply's payload for tests that only need one.
fn reply_payload() -> ReplyPayload {
    ReplyPayload {
        thread_key: "t".into(),
        conversation_kind: None,
        in_reply_to: None,
        text: "reply".into(),
        template: None,
    }
}

async fn ingest(store: &Store, message: NewInboundMessage) -> ConversationId {
    match store.ingest_message(&message).await.expect("ingest works") {
        IngestOutcome::Inserted {
            conversation_id, ..
        } => conversation_id,
        IngestOutcome::Duplicate => panic!("unexpected duplicate"),
    }
}

async fn migrations_can_run_again_without_change(db: TestDb) {
    db.store
        .migrate()
        .await
        .expect("a second migrate is a no-op");
    db.store.migrate().await.expect("and a third");
    db.store.ping().await.expect("the database answers");
}

async fn a_duplicate_user_email_is_a_conflict(db: TestDb) {
    let store = &db.store;
    let user = store
        .create_user("Ana@Shop.Example", "Ana", Role::Agent, "hash")
        .await
        .unwrap();
    assert_eq!(user.email, "ana@shop.example");
    assert_eq!(user.role, Role::Agent);
    let again = store
        .create_user("ana@shop.example", "Other", Role::Admin, "hash")
        .await;
    assert!(matches!(again, Err(StoreError::Conflict)), "{again:?}");
    assert_eq!(
        store.list_users().await.unwrap().len(),
        1,
        "nothing half-written"
    );
    let bad = store
        .create_user("not-an-email", "X", Role::Agent, "hash")
        .await;
    assert!(matches!(bad, Err(StoreError::Domain(_))));
}

async fn tokens_authenticate_by_secret_only(db: TestDb) {
    let store = &db.store;
    let (token, secret) = store.create_token("ci", Role::Viewer, None).await.unwrap();
    assert!(secret.starts_with("bzn_"));
    let found = store
        .authenticate_token(&secret)
        .await
        .unwrap()
        .expect("token is live");
    assert_eq!(found.id, token.id);
    assert_eq!(found.role, Role::Viewer);
    assert!(store
        .authenticate_token("bzn_wrong")
        .await
        .unwrap()
        .is_none());
    assert!(
        db.raw_dump_contains(&secret).await.is_empty(),
        "only the hash is stored"
    );
    let listed = store.list_tokens().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].last_used_at.is_some(), "use is recorded");
}

async fn channel_credentials_are_sealed_at_rest(db: TestDb) {
    let store = &db.store;
    let secret = "EAAG-very-secret-page-token-4242";
    let added = store
        .add_channel(
            ChannelKind::Facebook,
            "Page",
            &ExternalId::parse("1234567890321").unwrap(),
            &ChannelCredentials {
                access_token: secret.into(),
                refresh_token: Some("refresh-secret-9999".into()),
                expires_at: None,
            },
        )
        .await
        .unwrap();
    let opened = store.channel_credentials(added.id).await.unwrap();
    assert_eq!(opened.access_token, secret);
    assert_eq!(opened.refresh_token.as_deref(), Some("refresh-secret-9999"));
    assert!(
        db.raw_dump_contains(secret).await.is_empty(),
        "no clear token in any table"
    );
    assert!(db.raw_dump_contains("refresh-secret-9999").await.is_empty());
    let empty = store
        .add_channel(
            ChannelKind::X,
            "X",
            &ExternalId::parse("42").unwrap(),
            &ChannelCredentials::default(),
        )
        .await;
    assert!(
        matches!(empty, Err(StoreError::Domain(_))),
        "a channel needs a token"
    );
}

async fn a_channel_connects_once_per_platform_account(db: TestDb) {
    let store = &db.store;
    channel(store, ChannelKind::Whatsapp, "106540352242922").await;
    let again = store
        .add_channel(
            ChannelKind::Whatsapp,
            "Again",
            &ExternalId::parse("106540352242922").unwrap(),
            &ChannelCredentials {
                access_token: "t".into(),
                ..Default::default()
            },
        )
        .await;
    assert!(matches!(again, Err(StoreError::Conflict)));
    channel(store, ChannelKind::Facebook, "106540352242922").await;
    let channels = store.list_channels().await.unwrap();
    assert_eq!(channels.len(), 2);
    assert_eq!(channels[0].health, ChannelHealth::Unknown);
    let found = store
        .channel_by_platform_id(ChannelKind::Facebook, "106540352242922")
        .await
        .unwrap()
        .expect("found by platform id");
    assert_eq!(found.kind, ChannelKind::Facebook);
}

async fn an_unparsed_event_keeps_its_parts_is_counted_and_replays(db: TestDb) {
    let store = &db.store;
    let page = channel(store, ChannelKind::Facebook, "page-odd").await;
    let id = store
        .insert_inbound_event(&NewInboundEvent {
            source: ChannelKind::Facebook,
            channel_id: None,
            origin: "webhook".into(),
            dedup_key: "sha256:odd".into(),
            body: b"{\"object\":\"page\",\"entry\":[]}".to_vec(),
        })
        .await
        .unwrap()
        .unwrap();
    let now = Timestamp::now();
    store
        .claim_inbound_events("n", 5, now, now.plus_millis(30_000))
        .await
        .unwrap();
    let parts = vec![UnparsedPart {
        path: "entry[0].messaging[1]".into(),
        reason: "a messaging event of an unknown kind (message_trust)".into(),
    }];
    assert!(
        !store
            .mark_inbound_event_unparsed(id, "someone-else", Some(page.id), &parts)
            .await
            .unwrap(),
        "only the event's claimer settles it"
    );
    assert!(store
        .mark_inbound_event_unparsed(id, "n", Some(page.id), &parts)
        .await
        .unwrap());
    let listed = store.failed_inbound_events(10, None).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].state, EventState::Unparsed);
    assert_eq!(listed[0].unparsed, parts);
    assert_eq!(listed[0].channel_id, Some(page.id));
    assert_eq!(
        store.unparsed_counts().await.unwrap(),
        vec![(ChannelKind::Facebook, Some(page.id), 1)]
    );
    assert_eq!(store.queue_depths().await.unwrap().inbound_unparsed, 1);
    store.replay_inbound_event(id).await.unwrap();
    assert!(store.unparsed_counts().await.unwrap().is_empty());
    let again = store
        .claim_inbound_events("n", 5, now, now.plus_millis(30_000))
        .await
        .unwrap();
    assert_eq!(again.len(), 1, "a replayed event is claimed again");
    assert_eq!(again[0].state, EventState::Pending);
    assert!(again[0].unparsed.is_empty());
}

async fn a_batch_of_deliveries_is_stored_at_once_and_duplicates_are_recognised(db: TestDb) {
    let store = &db.store;
    let event = |key: &str, body: &[u8]| NewInboundEvent {
        source: ChannelKind::Whatsapp,
        channel_id: None,
        origin: "webhook".into(),
        dedup_key: key.into(),
        body: body.to_vec(),
    };
    let before = store
        .insert_inbound_event(&event("sha256:old", b"old"))
        .await
        .unwrap();
    assert!(before.is_some());
    let batch = vec![
        event("sha256:a", b"{\"a\":1}"),
        event("sha256:old", b"old"),
        event("sha256:b", b"\x00binary\xff"),
        event("sha256:a", b"{\"a\":1}"),
    ];
    let ids = store.insert_inbound_events(&batch).await.unwrap();
    assert_eq!(ids.len(), 4);
    assert!(ids[0].is_some() && ids[2].is_some());
    assert_eq!(ids[1], None, "stored before");
    assert_eq!(
        ids[3], None,
        "the same delivery twice in one batch is stored once"
    );
    assert_eq!(db.count("inbound_events").await, 3);
    let now = Timestamp::now();
    let claimed = store
        .claim_inbound_events("n", 10, now, now.plus_millis(30_000))
        .await
        .unwrap();
    let binary = claimed
        .iter()
        .find(|event| Some(event.id) == ids[2])
        .expect("the batch's events are claimable");
    assert_eq!(binary.body, b"\x00binary\xff", "bytes are kept exactly");
    assert!(store.insert_inbound_events(&[]).await.unwrap().is_empty());
}

/// Stores an empty delivery per dedup key and claims them, as the worker "n".
async fn claimed_events(store: &Store, source: ChannelKind, keys: &[&str]) -> Vec<ClaimedEvent> {
    for key in keys {
        store
            .insert_inbound_event(&NewInboundEvent {
                source,
                channel_id: None,
                origin: "webhook".into(),
                dedup_key: (*key).into(),
                body: b"{}".to_vec(),
            })
            .await
            .unwrap();
    }
    let now = Timestamp::now();
    store
        .claim_inbound_events("n", 10, now, now.plus_millis(30_000))
        .await
        .unwrap()
}

async fn a_removal_that_comes_before_its_object_retracts_it_when_it_is_stored(db: TestDb) {
    let store = &db.store;
    let page = channel(store, ChannelKind::Facebook, "early").await;
    let keys = ["sha256:early-0", "sha256:early-1", "sha256:early-2"];
    let claimed = claimed_events(store, ChannelKind::Facebook, &keys).await;
    let removed = |id: &str| EventWrite::Removed {
        channel_id: page.id,
        platform_id: ExternalId::parse(id).unwrap(),
    };
    let added = |id: &str| EventWrite::Message {
        message: inbound(&page, id, &format!("comment:{id}"), "a1", "hola", 1_000),
        hide_if_flagged: false,
    };
    let db = &db;
    let retracted = |id: &'static str| async move {
        db.count(&format!(
            "messages WHERE platform_id = '{id}' AND deleted = 1"
        ))
        .await
    };
    // One claimed event's writes, as a batch of the normalizer.
    let batch = |event: usize, writes: Vec<EventWrite>| {
        let result = EventResult {
            id: claimed[event].id,
            writes,
            end: EventEnd::Done,
        };
        async move {
            store
                .finish_inbound_events("n", &[result], &[page.id])
                .await
                .unwrap();
        }
    };
    // The removals of c1 and c2 come first: nothing to retract yet, both kept.
    batch(0, vec![removed("c1"), removed("c2")]).await;
    assert_eq!(db.count("messages").await, 0);
    assert_eq!(db.count("early_removals").await, 2);
    // c1 comes in a later batch, with c3 that nobody removed: c1 is stored retracted and its
    // early removal is forgotten.
    batch(1, vec![added("c1"), added("c3")]).await;
    assert_eq!(retracted("c1").await, 1);
    assert_eq!(retracted("c3").await, 0);
    assert_eq!(db.count("messages WHERE platform_id = 'c3'").await, 1);
    assert_eq!(db.count("early_removals").await, 1, "c2's is kept");
    // c2 stored without a batch seeing its removal (as when another node stored it at the
    // same moment): pruning retracts it.
    store
        .ingest_message(&inbound(&page, "c2", "comment:c2", "a2", "adiós", 2_000))
        .await
        .unwrap();
    assert_eq!(retracted("c2").await, 0);
    let retention = buzon_store::Retention {
        events_millis: 86_400_000,
        outbox_millis: 86_400_000,
    };
    store.prune(Timestamp::now(), retention).await.unwrap();
    assert_eq!(retracted("c2").await, 1);
    assert_eq!(db.count("early_removals").await, 0);
    // A removal of an object that never comes is kept a week.
    batch(2, vec![removed("never")]).await;
    store
        .prune(Timestamp::now().plus_millis(6 * 86_400_000), retention)
        .await
        .unwrap();
    assert_eq!(db.count("early_removals").await, 1);
    store
        .prune(Timestamp::now().plus_millis(8 * 86_400_000), retention)
        .await
        .unwrap();
    assert_eq!(db.count("early_removals").await, 0);
}

async fn a_find_delivered_again_as_addressed_to_the_account_comes_into_the_queue(db: TestDb) {
    let store = &db.store;
    let x = channel(store, ChannelKind::X, "x-refound").await;
    let find = NewInboundMessage {
        found_by: Some(FoundBy::Search(7)),
        ..inbound(
            &x,
            "1800",
            "tweet:1800",
            "u1",
            "tiendabuzon no contesta",
            1_000,
        )
    };
    let conversation = ingest(store, find).await;
    let watched = store.conversation(conversation).await.unwrap();
    assert_eq!(watched.monitor, Some(Monitor::Watching));
    assert_eq!(watched.promoted_at, None);
    // The same post, now as a mention of the account (the search's copy did not show it):
    // still one message, and its conversation is in the queue from now on.
    let before = Timestamp::now();
    // (As the normalizer's batches store it.)
    let again = inbound(
        &x,
        "1800",
        "tweet:1800",
        "u1",
        "tiendabuzon no contesta",
        1_000,
    );
    let mut tx = store.begin().await.unwrap();
    assert!(tx.ingest_messages(&[&again]).await.unwrap().is_empty());
    tx.commit().await.unwrap();
    assert_eq!(db.count("messages WHERE platform_id = '1800'").await, 1);
    let promoted = store.conversation(conversation).await.unwrap();
    assert_eq!(promoted.monitor, None);
    assert!(promoted
        .promoted_at
        .is_some_and(|at| at >= before.plus_millis(-1)));
    // A repeat of the find itself changes nothing.
    let other = NewInboundMessage {
        found_by: Some(FoundBy::Search(7)),
        ..inbound(
            &x,
            "1801",
            "tweet:1801",
            "u2",
            "tiendabuzon otra vez",
            2_000,
        )
    };
    let other_conversation = ingest(store, other.clone()).await;
    let mut tx = store.begin().await.unwrap();
    assert!(tx.ingest_messages(&[&other]).await.unwrap().is_empty());
    tx.commit().await.unwrap();
    assert_eq!(
        store
            .conversation(other_conversation)
            .await
            .unwrap()
            .monitor,
        Some(Monitor::Watching)
    );
}

async fn a_batch_of_processed_events_is_written_whole_or_not_at_all(db: TestDb) {
    let store = &db.store;
    let shop = channel(store, ChannelKind::Whatsapp, "w1").await;
    let claimed = claimed_events(store, ChannelKind::Whatsapp, &["sha256:e1", "sha256:e2"]).await;
    assert_eq!(claimed.len(), 2);
    let message = |id: &str, text: &str| EventWrite::Message {
        message: inbound(&shop, id, "t1", "a1", text, 1_000),
        hide_if_flagged: false,
    };
    let first = EventResult {
        id: claimed[0].id,
        writes: vec![
            message("m1", "hola"),
            // The same message twice in one delivery is stored once.
            message("m1", "hola"),
            EventWrite::Status {
                channel_id: shop.id,
                platform_id: ExternalId::parse("ours-1").unwrap(),
                status: DeliveryStatus::Delivered,
                error: None,
                reference: None,
            },
        ],
        end: EventEnd::Done,
    };
    let second = EventResult {
        id: claimed[1].id,
        writes: vec![message("m2", "¿y mi pedido?")],
        end: EventEnd::Unparsed {
            channel: Some(shop.id),
            parts: vec![UnparsedPart {
                path: "$.entry[0].changes[1]".into(),
                reason: "an unknown field".into(),
            }],
        },
    };
    // One write the database refuses (a channel that does not exist) undoes the whole batch:
    // no message, no kept status, both events still pending under their lease.
    let mut refused = second.clone();
    refused.writes.push(EventWrite::Message {
        message: NewInboundMessage {
            channel_id: ChannelId(999_999),
            ..inbound(&shop, "m3", "t3", "a3", "lost?", 2_000)
        },
        hide_if_flagged: false,
    });
    let batch = [first.clone(), refused];
    assert!(store
        .finish_inbound_events("n", &batch, &[shop.id])
        .await
        .is_err());
    assert_eq!(db.count("messages").await, 0);
    assert_eq!(db.count("early_statuses").await, 0);
    assert_eq!(db.count("inbound_events WHERE state = 'pending'").await, 2);

    let written = store
        .finish_inbound_events("n", &[first, second], &[shop.id])
        .await
        .unwrap();
    assert_eq!(written.messages, 2);
    assert_eq!(db.count("messages").await, 2);
    assert_eq!(
        db.count("early_statuses").await,
        1,
        "an early status is kept"
    );
    assert_eq!(db.count("inbound_events WHERE state = 'done'").await, 1);
    assert_eq!(db.count("inbound_events WHERE state = 'unparsed'").await, 1);
    assert!(store
        .channel(shop.id)
        .await
        .unwrap()
        .last_success_at
        .is_some());
}

/// A conversation's queue fields, by thread.
type QueueFields = (
    String,
    ConversationStatus,
    i32,
    Option<Timestamp>,
    Timestamp,
    Option<Timestamp>,
    Option<String>,
);

async fn queue_fields(store: &Store, channel: ChannelId) -> Vec<QueueFields> {
    let filter = ConversationFilter {
        channel_id: Some(channel),
        status: StatusFilter::All,
        flagged: FlaggedFilter::Include,
        ..Default::default()
    };
    let mut fields = Vec::new();
    for id in every_page(store, &filter, 50).await {
        let c = store.conversation(id).await.unwrap();
        fields.push((
            c.thread_key,
            c.status,
            c.priority,
            c.waiting_since,
            c.last_activity_at,
            c.last_inbound_at,
            c.last_message_text,
        ));
    }
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    fields
}

async fn many_messages_stored_at_once_end_as_if_stored_one_by_one(db: TestDb) {
    let store = &db.store;
    let one = channel(store, ChannelKind::Whatsapp, "w1").await;
    let many = channel(store, ChannelKind::Whatsapp, "w2").await;
    type Row = (
        &'static str,
        &'static str,
        &'static str,
        Option<&'static str>,
        &'static str,
        i64,
    );
    let first: &[Row] = &[
        ("a1", "t1", "u1", Some("Ana"), "hola", 1_000),
        ("a2", "t1", "u1", None, "¿hay talla 38?", 3_000),
        // Out of order: older than the one before.
        ("a3", "t1", "u1", Some("Ana R."), "antes", 2_000),
        ("b1", "t2", "u2", None, "primero", 5_000),
        // A repeat in the same batch.
        ("a2", "t1", "u1", None, "¿hay talla 38?", 3_000),
        ("c1", "t3", "u3", Some("Iker"), "x", 4_000),
        // The same time: the later one gives the snippet.
        ("c2", "t3", "u3", None, "y", 4_000),
    ];
    let second: &[Row] = &[
        ("a4", "t1", "u1", None, "antes de la respuesta", 9_000),
        ("a5", "t1", "u1", None, "después de la respuesta", 11_000),
        ("b2", "t2", "u2", Some("Bea"), "otra", 5_500),
        // Already stored in the first round.
        ("c1", "t3", "u3", Some("Iker"), "x", 4_000),
    ];
    let build = |channel: &Channel, rows: &[Row]| -> Vec<NewInboundMessage> {
        rows.iter()
            .map(|(id, thread, author, name, text, at)| {
                let mut message = inbound(channel, id, thread, author, text, *at);
                message.author.name = name.map(str::to_owned);
                message
            })
            .collect()
    };
    let at_once = |messages: Vec<NewInboundMessage>| async move {
        let mut tx = store.begin().await.unwrap();
        let refs: Vec<&NewInboundMessage> = messages.iter().collect();
        let stored = tx.ingest_messages(&refs).await.unwrap().len();
        tx.commit().await.unwrap();
        stored
    };
    for message in build(&one, first) {
        store.ingest_message(&message).await.unwrap();
    }
    assert_eq!(
        at_once(build(&many, first)).await,
        6,
        "a repeat is stored once"
    );
    // Between the rounds: an agent answered t1 at 10,000 and resolved t2.
    for channel in [&one, &many] {
        db.raw_execute(&format!(
            "INSERT INTO messages (conversation_id, channel_id, direction, platform_id, text, created_at, received_at, status) \
             SELECT id, channel_id, 'outbound', 'r-{0}', 'gracias', 10000, 10000, 'sent' FROM conversations \
             WHERE channel_id = {0} AND thread_key = 't1'",
            channel.id.get()
        ))
        .await
        .unwrap();
        db.raw_execute(&format!(
            "UPDATE conversations SET waiting_since = NULL WHERE channel_id = {} AND thread_key = 't1'",
            channel.id.get()
        ))
        .await
        .unwrap();
        db.raw_execute(&format!(
            "UPDATE conversations SET status = 'resolved', waiting_since = NULL WHERE channel_id = {} AND thread_key = 't2'",
            channel.id.get()
        ))
        .await
        .unwrap();
    }
    for message in build(&one, second) {
        store.ingest_message(&message).await.unwrap();
    }
    assert_eq!(at_once(build(&many, second)).await, 3);

    let (by_one, by_many) = (
        queue_fields(store, one.id).await,
        queue_fields(store, many.id).await,
    );
    assert_eq!(by_one.len(), 3);
    assert_eq!(by_many, by_one);
    // What one by one gives, spelled out: the oldest unanswered message after the reply.
    let t1 = &by_one[0];
    assert_eq!(t1.3, Some(Timestamp::from_millis(11_000)));
    assert_eq!(t1.6.as_deref(), Some("después de la respuesta"));
    assert_eq!(by_one[2].6.as_deref(), Some("y"));
    for channel in [&one, &many] {
        let id = channel.id.get();
        assert_eq!(
            db.count(&format!("messages WHERE channel_id = {id}")).await,
            10
        );
        assert_eq!(
            db.count(&format!(
                "contacts WHERE channel_id = {id} AND name IN ('Ana R.', 'Bea', 'Iker')"
            ))
            .await,
            3,
            "the last name given wins"
        );
        assert_eq!(
            db.count(&format!(
                "conversation_status_changes s JOIN conversations c ON c.id = s.conversation_id \
                 WHERE c.channel_id = {id} AND s.status = 'open'"
            ))
            .await,
            1,
            "only the resolved conversation was reopened"
        );
    }
}

async fn inbound_events_are_stored_once_per_dedup_key(db: TestDb) {
    let store = &db.store;
    let event = NewInboundEvent {
        source: ChannelKind::Facebook,
        channel_id: None,
        origin: "webhook".into(),
        dedup_key: "sha256:abc".into(),
        body: b"{\"object\":\"page\"}".to_vec(),
    };
    let first = store.insert_inbound_event(&event).await.unwrap();
    assert!(first.is_some());
    assert_eq!(store.insert_inbound_event(&event).await.unwrap(), None);
    let other_source = NewInboundEvent {
        source: ChannelKind::Whatsapp,
        ..event.clone()
    };
    assert!(store
        .insert_inbound_event(&other_source)
        .await
        .unwrap()
        .is_some());
    let now = Timestamp::now();
    let claimed = store
        .claim_inbound_events("node-a", 10, now, now.plus_millis(30_000))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2);
    assert_eq!(
        claimed[0].body, b"{\"object\":\"page\"}",
        "raw bytes are kept exactly"
    );
}

async fn the_same_message_from_16_tasks_is_stored_once(db: TestDb) {
    let store = db.store.clone();
    let page = channel(&store, ChannelKind::Facebook, "page-1").await;
    let mut tasks = JoinSet::new();
    for _ in 0..16 {
        let store = store.clone();
        let message = inbound(
            &page,
            "post_comment-1",
            "post_comment-1",
            "user-1",
            "¿Tienen envío?",
            1_700_000_000_000,
        );
        tasks.spawn(async move { store.ingest_message(&message).await });
    }
    let mut inserted = 0;
    while let Some(outcome) = tasks.join_next().await {
        match outcome
            .expect("task ran")
            .expect("ingest works under contention")
        {
            IngestOutcome::Inserted { .. } => inserted += 1,
            IngestOutcome::Duplicate => {}
        }
    }
    assert_eq!(inserted, 1, "exactly one task stored the message");
    let page_of = store
        .list_conversations(
            &ConversationFilter {
                status: StatusFilter::All,
                ..Default::default()
            },
            50,
            None,
        )
        .await
        .unwrap();
    assert_eq!(page_of.items.len(), 1, "one conversation");
    let messages = store.messages_in(page_of.items[0].id).await.unwrap();
    assert_eq!(messages.len(), 1, "one message");
    assert_eq!(messages[0].text, "¿Tienen envío?");
    assert_eq!(db.count("contacts").await, 1, "one author");
}

async fn queue_replies(store: &Store, count: usize) -> Vec<OutboxId> {
    let page = channel(store, ChannelKind::Facebook, "page-out").await;
    let conversation = ingest(
        store,
        inbound(&page, "c-1", "c-1", "u-1", "hola", 1_700_000_000_000),
    )
    .await;
    let mut ids = Vec::new();
    for index in 0..count {
        let (_, item) = store
            .queue_reply(&NewOutboundReply {
                conversation_id: conversation,
                user_id: None,
                text: format!("reply {index}"),
                idempotency_key: format!("key-{index}"),
                payload: reply_payload(),
                automatic: false,
            })
            .await
            .unwrap();
        ids.push(item.id);
    }
    ids
}

async fn two_workers_never_claim_the_same_outbox_row(db: TestDb) {
    let store = db.store.clone();
    let queued: HashSet<OutboxId> = queue_replies(&store, 60).await.into_iter().collect();
    let mut workers = JoinSet::new();
    for worker in ["worker-a", "worker-b"] {
        let store = store.clone();
        workers.spawn(async move {
            let mut mine = Vec::new();
            loop {
                let now = Timestamp::now();
                let claimed = store
                    .claim_outbox(worker, 3, now, now.plus_millis(60_000))
                    .await
                    .unwrap();
                if claimed.is_empty() {
                    break;
                }
                for item in claimed {
                    assert_eq!(item.state, OutboxState::Sending);
                    mine.push(item.id);
                    let platform_id = ExternalId::parse(format!("sent-{}", item.id)).unwrap();
                    assert!(store
                        .complete_outbox(item.id, worker, &platform_id)
                        .await
                        .unwrap());
                }
                tokio::task::yield_now().await;
            }
            mine
        });
    }
    let mut seen = HashSet::new();
    while let Some(claims) = workers.join_next().await {
        for id in claims.unwrap() {
            assert!(seen.insert(id), "outbox row {id} was claimed twice");
        }
    }
    assert_eq!(seen, queued, "every row was claimed exactly once");
}

async fn two_workers_never_claim_the_same_inbound_event(db: TestDb) {
    let store = db.store.clone();
    for index in 0..60 {
        store
            .insert_inbound_event(&NewInboundEvent {
                source: ChannelKind::X,
                channel_id: None,
                origin: "webhook".into(),
                dedup_key: format!("event-{index}"),
                body: vec![b'x'; 10],
            })
            .await
            .unwrap();
    }
    let mut workers = JoinSet::new();
    for worker in ["worker-a", "worker-b"] {
        let store = store.clone();
        workers.spawn(async move {
            let mut mine = Vec::new();
            loop {
                let now = Timestamp::now();
                let claimed = store
                    .claim_inbound_events(worker, 4, now, now.plus_millis(60_000))
                    .await
                    .unwrap();
                if claimed.is_empty() {
                    break;
                }
                for event in claimed {
                    mine.push(event.id);
                    assert!(store
                        .complete_inbound_event(event.id, worker)
                        .await
                        .unwrap());
                }
                tokio::task::yield_now().await;
            }
            mine
        });
    }
    let mut seen = HashSet::new();
    while let Some(claims) = workers.join_next().await {
        for id in claims.unwrap() {
            assert!(seen.insert(id), "event {id} was claimed twice");
        }
    }
    assert_eq!(seen.len(), 60);
}

async fn expired_event_leases_are_claimed_again_and_stale_owners_cannot_complete(db: TestDb) {
    let store = &db.store;
    store
        .insert_inbound_event(&NewInboundEvent {
            source: ChannelKind::Whatsapp,
            channel_id: None,
            origin: "webhook".into(),
            dedup_key: "k".into(),
            body: b"{}".to_vec(),
        })
        .await
        .unwrap();
    let t0 = Timestamp::from_millis(1_000_000);
    let first = store
        .claim_inbound_events("dead-node", 10, t0, t0.plus_millis(1000))
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    assert!(
        store
            .claim_inbound_events("live-node", 10, t0.plus_millis(500), t0.plus_millis(5000))
            .await
            .unwrap()
            .is_empty(),
        "the lease holds"
    );
    let again = store
        .claim_inbound_events("live-node", 10, t0.plus_millis(2000), t0.plus_millis(9000))
        .await
        .unwrap();
    assert_eq!(again.len(), 1, "an expired lease is claimable");
    assert_eq!(again[0].attempts, 2);
    assert!(
        !store
            .complete_inbound_event(first[0].id, "dead-node")
            .await
            .unwrap(),
        "the old owner lost it"
    );
    assert!(store
        .fail_inbound_event(again[0].id, "live-node", "unknown field layout")
        .await
        .unwrap());
    let failed = store.failed_inbound_events(10, None).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].error.as_deref(), Some("unknown field layout"));
    store.replay_inbound_event(failed[0].id).await.unwrap();
    let now = Timestamp::now();
    assert_eq!(
        store
            .claim_inbound_events("live-node", 10, now, now.plus_millis(1000))
            .await
            .unwrap()
            .len(),
        1,
        "a replayed event is pending again"
    );
}

async fn a_poll_lease_has_one_holder_and_fences_the_cursor(db: TestDb) {
    let store = &db.store;
    let account = channel(store, ChannelKind::X, "783214").await;
    let t0 = Timestamp::from_millis(10_000_000);
    assert!(store
        .acquire_poll_lease(account.id, "node-a", t0, t0.plus_millis(30_000))
        .await
        .unwrap());
    assert!(!store
        .acquire_poll_lease(
            account.id,
            "node-b",
            t0.plus_millis(1),
            t0.plus_millis(30_001)
        )
        .await
        .unwrap());
    assert!(
        store
            .acquire_poll_lease(
                account.id,
                "node-a",
                t0.plus_millis(10),
                t0.plus_millis(40_000)
            )
            .await
            .unwrap(),
        "the holder renews"
    );
    assert!(store
        .save_cursor(
            account.id,
            "node-a",
            t0.plus_millis(20),
            "1578516295611748353"
        )
        .await
        .unwrap());
    assert!(
        !store
            .save_cursor(account.id, "node-b", t0.plus_millis(20), "1")
            .await
            .unwrap(),
        "a non-holder cannot move the cursor"
    );
    assert!(
        store
            .acquire_poll_lease(
                account.id,
                "node-b",
                t0.plus_millis(40_001),
                t0.plus_millis(70_000)
            )
            .await
            .unwrap(),
        "an expired lease moves"
    );
    assert!(
        !store
            .save_cursor(account.id, "node-a", t0.plus_millis(40_002), "2")
            .await
            .unwrap(),
        "the old holder is fenced off"
    );
    assert_eq!(
        store.channel(account.id).await.unwrap().cursor.as_deref(),
        Some("1578516295611748353")
    );
}

async fn listing_filters_and_pages_without_gaps_or_repeats(db: TestDb) {
    let store = &db.store;
    let page = channel(store, ChannelKind::Facebook, "p").await;
    let phone = channel(store, ChannelKind::Whatsapp, "w").await;
    let agent = store
        .create_user("agent@shop.example", "Agent", Role::Agent, "h")
        .await
        .unwrap();
    let mut ids = Vec::new();
    for index in 0..25 {
        let target = if index % 2 == 0 { &page } else { &phone };
        // Several share a timestamp, so the id breaks ties.
        let at = 1_700_000_000_000 + (index / 3) * 1000;
        ids.push(
            ingest(
                store,
                inbound(
                    target,
                    &format!("m{index}"),
                    &format!("t{index}"),
                    &format!("a{index}"),
                    "hola",
                    at,
                ),
            )
            .await,
        );
    }
    store
        .tag_conversation(ids[3], &[Label::parse("refund").unwrap()], &[])
        .await
        .unwrap();
    store
        .tag_conversation(
            ids[4],
            &[
                Label::parse("refund").unwrap(),
                Label::parse("shipping").unwrap(),
            ],
            &[],
        )
        .await
        .unwrap();
    store
        .assign_conversation(ids[5], Some(agent.id))
        .await
        .unwrap();
    store
        .set_conversation_status(ids[6], ConversationStatus::Resolved)
        .await
        .unwrap();

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let filter = ConversationFilter {
        status: StatusFilter::All,
        ..Default::default()
    };
    loop {
        let result = store
            .list_conversations(&filter, 10, cursor.as_deref())
            .await
            .unwrap();
        seen.extend(result.items.iter().map(|c| (c.last_activity_at, c.id)));
        match result.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), 25, "no gaps");
    let unique: HashSet<_> = seen.iter().map(|(_, id)| *id).collect();
    assert_eq!(unique.len(), 25, "no repeats");
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "newest activity first, id breaking ties");

    let open = store
        .list_conversations(&ConversationFilter::default(), 50, None)
        .await
        .unwrap();
    assert_eq!(
        open.items.len(),
        24,
        "the default queue is open conversations"
    );
    let resolved = store
        .list_conversations(
            &ConversationFilter {
                status: StatusFilter::Only(ConversationStatus::Resolved),
                ..Default::default()
            },
            50,
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        resolved.items.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![ids[6]]
    );
    let by_channel = store
        .list_conversations(
            &ConversationFilter {
                status: StatusFilter::All,
                channel_id: Some(phone.id),
                ..Default::default()
            },
            50,
            None,
        )
        .await
        .unwrap();
    assert_eq!(by_channel.items.len(), 12);
    assert!(by_channel
        .items
        .iter()
        .all(|c| c.channel_kind == ChannelKind::Whatsapp));
    let refunds = store
        .list_conversations(
            &ConversationFilter {
                label: Some(Label::parse("refund").unwrap()),
                ..Default::default()
            },
            50,
            None,
        )
        .await
        .unwrap();
    let mut refund_ids: Vec<_> = refunds.items.iter().map(|c| c.id).collect();
    refund_ids.sort();
    assert_eq!(refund_ids, vec![ids[3], ids[4]]);
    assert_eq!(
        refunds
            .items
            .iter()
            .find(|c| c.id == ids[4])
            .unwrap()
            .labels
            .len(),
        2
    );
    let mine = store
        .list_conversations(
            &ConversationFilter {
                assignee: AssigneeFilter::User(agent.id),
                ..Default::default()
            },
            50,
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        mine.items.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![ids[5]]
    );
    let unassigned = store
        .list_conversations(
            &ConversationFilter {
                assignee: AssigneeFilter::Unassigned,
                ..Default::default()
            },
            50,
            None,
        )
        .await
        .unwrap();
    assert_eq!(unassigned.items.len(), 23);
    let bad_cursor = store.list_conversations(&filter, 10, Some("garbage")).await;
    assert!(matches!(
        bad_cursor,
        Err(StoreError::Domain(DomainError::InvalidCursor))
    ));
}

async fn full_text_search_finds_words_in_any_message(db: TestDb) {
    let store = &db.store;
    let page = channel(store, ChannelKind::Facebook, "p").await;
    let parcel = ingest(
        store,
        inbound(
            &page,
            "m1",
            "t1",
            "a1",
            "Mi pedido no llegó, el envío está roto",
            1_000,
        ),
    )
    .await;
    ingest(
        store,
        inbound(&page, "m2", "t1", "a1", "¿alguien responde?", 2_000),
    )
    .await;
    let other = ingest(
        store,
        inbound(&page, "m3", "t2", "a2", "Love the new colours!", 3_000),
    )
    .await;
    let search = |text: &str| ConversationFilter {
        status: StatusFilter::All,
        query: Some(text.into()),
        ..Default::default()
    };
    let found = store
        .list_conversations(&search("pedido roto"), 50, None)
        .await
        .unwrap();
    assert_eq!(
        found.items.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![parcel]
    );
    let found = store
        .list_conversations(&search("colours"), 50, None)
        .await
        .unwrap();
    assert_eq!(
        found.items.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![other]
    );
    let none = store
        .list_conversations(&search("refund"), 50, None)
        .await
        .unwrap();
    assert!(none.items.is_empty());
    // Operator syntax and quotes in user input are words, not query language.
    let hostile = store
        .list_conversations(&search("\" OR * NEAR( -"), 50, None)
        .await
        .unwrap();
    assert!(hostile.items.is_empty());
}

async fn out_of_order_messages_keep_the_newest_activity(db: TestDb) {
    let store = &db.store;
    let phone = channel(store, ChannelKind::Whatsapp, "w").await;
    let conversation = ingest(
        store,
        inbound(
            &phone,
            "wamid.2",
            "16505551234",
            "16505551234",
            "second",
            2_000,
        ),
    )
    .await;
    ingest(
        store,
        inbound(
            &phone,
            "wamid.1",
            "16505551234",
            "16505551234",
            "first",
            1_000,
        ),
    )
    .await;
    let loaded = store.conversation(conversation).await.unwrap();
    assert_eq!(loaded.last_activity_at, Timestamp::from_millis(2_000));
    assert_eq!(loaded.last_message_text.as_deref(), Some("second"));
    assert_eq!(
        loaded.waiting_since,
        Some(Timestamp::from_millis(1_000)),
        "waiting since the oldest unanswered"
    );
    let texts: Vec<_> = store
        .messages_in(conversation)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.text)
        .collect();
    assert_eq!(
        texts,
        vec!["first", "second"],
        "the thread reads in the platform's order"
    );
}

async fn unnamed_people_are_asked_about_once_and_again_only_after_a_day_and_a_new_message(
    db: TestDb,
) {
    let store = &db.store;
    let page = channel(store, ChannelKind::Facebook, "page-names").await;
    let mut psid = inbound(&page, "m1", "messenger:psid-1", "psid-1", "hola", 1_000);
    psid.author.name = None;
    let conversation = ingest(store, psid).await;
    ingest(
        store,
        inbound(&page, "c1", "comment:c1", "named-1", "bonito", 2_000),
    )
    .await;
    let contact = store.conversation(conversation).await.unwrap().contact_id;
    let now = Timestamp::now();
    let asked = store.contacts_to_name(now, 10).await.unwrap();
    assert_eq!(
        asked
            .iter()
            .map(|request| request.contact)
            .collect::<Vec<_>>(),
        vec![contact],
        "only the person without a name"
    );
    assert_eq!(asked[0].platform_id.as_str(), "psid-1");
    store
        .set_contact_profile(
            contact,
            Some("Lucía Pérez"),
            Some("https://cdn.example/p.jpg"),
            now,
        )
        .await
        .unwrap();
    let named = store.contact(contact).await.unwrap();
    assert_eq!(named.name.as_deref(), Some("Lucía Pérez"));
    assert_eq!(
        named.picture_url.as_deref(),
        Some("https://cdn.example/p.jpg")
    );
    assert!(store.contacts_to_name(now, 10).await.unwrap().is_empty());
    // A day later, without a new message: not asked again.
    let tomorrow = now.plus_millis(25 * 3_600_000);
    assert!(store
        .contacts_to_name(tomorrow, 10)
        .await
        .unwrap()
        .is_empty());
    // They write again (a message without a name keeps the one buzon has).
    let mut again = inbound(&page, "m2", "messenger:psid-1", "psid-1", "¿sigue?", 3_000);
    again.author.name = None;
    ingest(store, again).await;
    assert_eq!(
        store.contact(contact).await.unwrap().name.as_deref(),
        Some("Lucía Pérez")
    );
    assert!(
        store.contacts_to_name(now, 10).await.unwrap().is_empty(),
        "not within the day"
    );
    assert_eq!(store.contacts_to_name(tomorrow, 10).await.unwrap().len(), 1);
}

async fn tagging_an_author_as_troll_moves_their_conversations_out_of_the_queue(db: TestDb) {
    let store = &db.store;
    let page = channel(store, ChannelKind::Facebook, "p").await;
    let troll_first = ingest(
        store,
        inbound(&page, "m1", "t1", "troll", "you are all idiots", 1_000),
    )
    .await;
    let customer = ingest(
        store,
        inbound(&page, "m2", "t2", "customer", "where is my order?", 2_000),
    )
    .await;
    let troll = store.conversation(troll_first).await.unwrap().contact_id;
    let labels = store
        .tag_contact(troll, &[Label::parse("troll").unwrap()], &[])
        .await
        .unwrap();
    assert_eq!(labels, vec![Label::parse("troll").unwrap()]);
    let later = ingest(
        store,
        inbound(&page, "m3", "t3", "troll", "still here", 3_000),
    )
    .await;
    let queue = store
        .list_conversations(&ConversationFilter::default(), 50, None)
        .await
        .unwrap();
    assert_eq!(
        queue.items.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![customer],
        "past and future troll threads leave the queue"
    );
    let trolls = store
        .list_conversations(
            &ConversationFilter {
                flagged: FlaggedFilter::Only,
                ..Default::default()
            },
            50,
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        trolls.items.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![later, troll_first]
    );
    store
        .tag_contact(troll, &[], &[Label::parse("troll").unwrap()])
        .await
        .unwrap();
    assert_eq!(
        store
            .list_conversations(&ConversationFilter::default(), 50, None)
            .await
            .unwrap()
            .items
            .len(),
        3
    );
}

async fn queuing_a_reply_is_idempotent_and_sending_records_the_platform_id(db: TestDb) {
    let store = &db.store;
    let page = channel(store, ChannelKind::Facebook, "p").await;
    let conversation = ingest(store, inbound(&page, "m1", "t1", "a1", "hola", 1_000)).await;
    assert!(store
        .conversation(conversation)
        .await
        .unwrap()
        .waiting_since
        .is_some());
    let reply = NewOutboundReply {
        conversation_id: conversation,
        user_id: None,
        text: "¡Hola! Te ayudamos.".into(),
        idempotency_key: "req-1".into(),
        payload: ReplyPayload {
            thread_key: "t1".into(),
            conversation_kind: Some(ConversationKind::Comment),
            in_reply_to: Some(ExternalId::parse("m1").unwrap()),
            text: "¡Hola! Te ayudamos.".into(),
            template: None,
        },
        automatic: false,
    };
    let (message, item) = store.queue_reply(&reply).await.unwrap();
    let (again_message, again_item) = store.queue_reply(&reply).await.unwrap();
    assert_eq!(
        (message.id, item.id),
        (again_message.id, again_item.id),
        "same key, same reply"
    );
    assert_eq!(message.status, DeliveryStatus::Queued);
    assert_eq!(message.direction, Direction::Outbound);
    assert_eq!(db.count("outbox").await, 1);
    assert_eq!(
        store
            .conversation(conversation)
            .await
            .unwrap()
            .waiting_since,
        None,
        "a person answered"
    );
    let now = Timestamp::now();
    let claimed = store
        .claim_outbox("d", 5, now, now.plus_millis(10_000))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(
        claimed[0].payload,
        Ok(OutboxPayload::Reply(reply.payload.clone()))
    );
    assert!(store
        .complete_outbox(item.id, "d", &ExternalId::parse("reply-123").unwrap())
        .await
        .unwrap());
    let sent = store.message(message.id).await.unwrap();
    assert_eq!(sent.status, DeliveryStatus::Sent);
    assert_eq!(
        sent.platform_id.as_ref().map(ExternalId::as_str),
        Some("reply-123")
    );
    assert!(
        store
            .claim_outbox("d", 5, now, now.plus_millis(10_000))
            .await
            .unwrap()
            .is_empty(),
        "sent once"
    );
}

async fn failed_sends_retry_or_fail_for_good_and_stuck_sends_become_unknown(db: TestDb) {
    let store = &db.store;
    let ids = queue_replies(store, 3).await;
    let t0 = Timestamp::now();
    let claimed = store
        .claim_outbox("d", 3, t0, t0.plus_millis(1000))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 3);
    assert!(store
        .fail_outbox(
            ids[0],
            "d",
            "429 rate limited",
            Some(t0.plus_millis(60_000))
        )
        .await
        .unwrap());
    assert!(store
        .fail_outbox(ids[1], "d", "window closed", None)
        .await
        .unwrap());
    assert!(
        store
            .claim_outbox("d", 3, t0, t0.plus_millis(1000))
            .await
            .unwrap()
            .is_empty(),
        "not due yet"
    );
    let due = store
        .claim_outbox("d", 3, t0.plus_millis(60_000), t0.plus_millis(61_000))
        .await
        .unwrap();
    assert_eq!(due.iter().map(|i| i.id).collect::<Vec<_>>(), vec![ids[0]]);
    assert_eq!(due[0].attempts, 2);
    let failed = store.outbox_item(ids[1]).await.unwrap();
    assert_eq!(failed.state, OutboxState::Failed);
    let message = store.message(failed.message_id).await.unwrap();
    assert_eq!(message.status, DeliveryStatus::Failed);
    assert_eq!(message.error.as_deref(), Some("window closed"));
    // ids[2] is still "sending" with a lease that ran out at t0+1000: its outcome is unknown.
    assert_eq!(
        store
            .expire_stuck_sends(t0.plus_millis(70_000))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store.outbox_item(ids[2]).await.unwrap().state,
        OutboxState::Unknown
    );
    assert!(
        store
            .claim_outbox("d", 3, t0.plus_millis(80_000), t0.plus_millis(90_000))
            .await
            .unwrap()
            .is_empty(),
        "unknown sends are not blindly repeated"
    );
    let depths = store.queue_depths().await.unwrap();
    assert_eq!((depths.outbox_unknown, depths.outbox_failed), (2, 1));
}

async fn a_send_starts_only_under_a_live_lease_and_its_sender_settles_it_after_expiry(db: TestDb) {
    let store = &db.store;
    let ids = queue_replies(store, 2).await;
    let t0 = Timestamp::now();
    let claimed = store
        .claim_outbox("a", 2, t0, t0.plus_millis(1_000))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2);
    // Just before its call, the first row's lease is renewed: it may be sent.
    assert!(store
        .renew_outbox_lease(ids[0], "a", t0.plus_millis(500), t0.plus_millis(60_000))
        .await
        .unwrap());
    assert!(
        !store
            .renew_outbox_lease(ids[0], "b", t0.plus_millis(500), t0.plus_millis(60_000))
            .await
            .unwrap(),
        "another node cannot renew a lease it does not hold"
    );
    // The second row's lease ran out before its turn: it must not be sent.
    assert!(
        !store
            .renew_outbox_lease(ids[1], "a", t0.plus_millis(2_000), t0.plus_millis(60_000))
            .await
            .unwrap(),
        "a lost lease is never renewed"
    );
    // The first row's send outlived its lease; another node marks its outcome unknown…
    assert_eq!(
        store
            .expire_stuck_sends(t0.plus_millis(120_000))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store.outbox_item(ids[0]).await.unwrap().state,
        OutboxState::Unknown
    );
    // …and the node that sent it still records what the platform answered.
    assert!(store
        .complete_outbox(ids[0], "a", &ExternalId::parse("reply-77").unwrap())
        .await
        .unwrap());
    assert_eq!(
        store.outbox_item(ids[0]).await.unwrap().state,
        OutboxState::Sent
    );
    assert!(
        !store
            .complete_outbox(ids[1], "b", &ExternalId::parse("reply-78").unwrap())
            .await
            .unwrap(),
        "a node that never held the row settles nothing"
    );
    // The row that was never sent goes back to the queue for its owner to hand back.
    assert!(store
        .fail_outbox(ids[1], "a", "not sent", Some(t0.plus_millis(120_000)))
        .await
        .unwrap());
    assert_eq!(
        store.outbox_item(ids[1]).await.unwrap().state,
        OutboxState::Queued
    );
}

async fn pruning_removes_finished_work_and_keeps_what_waits_for_someone(db: TestDb) {
    let store = &db.store;
    let ids = queue_replies(store, 3).await;
    let t0 = Timestamp::now();
    store
        .claim_outbox("d", 3, t0, t0.plus_millis(60_000))
        .await
        .unwrap();
    store
        .complete_outbox(ids[0], "d", &ExternalId::parse("sent-1").unwrap())
        .await
        .unwrap();
    store
        .fail_outbox(ids[1], "d", "refused", None)
        .await
        .unwrap();
    store
        .mark_outbox_unknown(ids[2], "d", "timed out")
        .await
        .unwrap();
    let event = |key: &str| NewInboundEvent {
        source: ChannelKind::Facebook,
        channel_id: None,
        origin: "webhook".into(),
        dedup_key: key.into(),
        body: b"{}".to_vec(),
    };
    let done = store
        .insert_inbound_event(&event("done"))
        .await
        .unwrap()
        .unwrap();
    let failed = store
        .insert_inbound_event(&event("failed"))
        .await
        .unwrap()
        .unwrap();
    store
        .insert_inbound_event(&event("pending"))
        .await
        .unwrap()
        .unwrap();
    let claimed = store
        .claim_inbound_events("n", 2, t0, t0.plus_millis(60_000))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2);
    store.complete_inbound_event(done, "n").await.unwrap();
    store
        .fail_inbound_event(failed, "n", "broken")
        .await
        .unwrap();
    let retention = buzon_store::Retention {
        events_millis: 1_000,
        outbox_millis: 1_000,
    };
    let nothing_yet = store.prune(t0, retention).await.unwrap();
    assert_eq!(
        (nothing_yet.events, nothing_yet.outbox),
        (0, 0),
        "too recent"
    );
    let later = store
        .prune(t0.plus_millis(3_600_000), retention)
        .await
        .unwrap();
    assert_eq!((later.events, later.outbox), (1, 2));
    assert_eq!(
        db.count("inbound_events").await,
        2,
        "the failed and the pending deliveries stay"
    );
    assert_eq!(
        store.outbox_item(ids[2]).await.unwrap().state,
        OutboxState::Unknown,
        "a send of unknown outcome waits for someone"
    );
    assert_eq!(db.count("outbox").await, 1);
    // The messages of pruned outbox rows stay in their conversations.
    assert_eq!(db.count("messages").await, 4);
}

async fn an_unknown_send_waits_for_the_platform_or_a_person_and_early_statuses_apply_later(
    db: TestDb,
) {
    let store = &db.store;
    let ids = queue_replies(store, 3).await;
    let t0 = Timestamp::now();
    let claimed = store
        .claim_outbox("d", 3, t0, t0.plus_millis(60_000))
        .await
        .unwrap();
    let message_of = |id: OutboxId| {
        claimed
            .iter()
            .find(|item| item.id == id)
            .unwrap()
            .message_id
    };
    // A delivery status arrives before the send is recorded: kept, then applied.
    let channel = claimed[0].channel_id;
    assert!(!store
        .apply_delivery_status(
            channel,
            &ExternalId::parse("early-1").unwrap(),
            DeliveryStatus::Delivered,
            None,
            None
        )
        .await
        .unwrap());
    store
        .complete_outbox(ids[0], "d", &ExternalId::parse("early-1").unwrap())
        .await
        .unwrap();
    assert_eq!(
        store.message(message_of(ids[0])).await.unwrap().status,
        DeliveryStatus::Delivered,
        "the early status applied once the send was recorded"
    );
    // Two sends of unknown outcome: the message says so.
    for id in [ids[1], ids[2]] {
        assert!(store
            .mark_outbox_unknown(id, "d", "timed out")
            .await
            .unwrap());
        assert_eq!(
            store.message(message_of(id)).await.unwrap().status,
            DeliveryStatus::Unknown
        );
    }
    // A person settles them: one arrived, the other is sent again.
    let mut tx = store.begin().await.unwrap();
    tx.settle_unknown_send(message_of(ids[1]), true)
        .await
        .unwrap();
    tx.settle_unknown_send(message_of(ids[2]), false)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        store.outbox_item(ids[1]).await.unwrap().state,
        OutboxState::Sent
    );
    assert_eq!(
        store.message(message_of(ids[1])).await.unwrap().status,
        DeliveryStatus::Sent
    );
    assert_eq!(
        store.outbox_item(ids[2]).await.unwrap().state,
        OutboxState::Queued
    );
    assert_eq!(
        store.message(message_of(ids[2])).await.unwrap().status,
        DeliveryStatus::Queued
    );
    let mut tx = store.begin().await.unwrap();
    assert!(
        matches!(
            tx.settle_unknown_send(message_of(ids[1]), false).await,
            Err(StoreError::NotFound)
        ),
        "a settled send is not settled twice"
    );
}

async fn a_status_carrying_a_sends_reference_settles_it_even_when_it_came_first(db: TestDb) {
    let store = &db.store;
    let ids = queue_replies(store, 3).await;
    let t0 = Timestamp::now();
    let claimed = store
        .claim_outbox("d", 3, t0, t0.plus_millis(60_000))
        .await
        .unwrap();
    let of = |id: OutboxId| claimed.iter().find(|item| item.id == id).unwrap();
    let channel = claimed[0].channel_id;
    let wamid = |n: u32| ExternalId::parse(format!("wamid.ref-{n}")).unwrap();

    // The answer to the first send was lost; then a status with its reference arrives.
    assert!(store
        .mark_outbox_unknown(ids[0], "d", "HTTP 500")
        .await
        .unwrap());
    assert!(store
        .settle_send_by_reference(channel, &of(ids[0]).idempotency_key, &wamid(0))
        .await
        .unwrap());
    store
        .apply_delivery_status(
            channel,
            &wamid(0),
            DeliveryStatus::Delivered,
            None,
            Some("key-0"),
        )
        .await
        .unwrap();
    let first = store.message(of(ids[0]).message_id).await.unwrap();
    assert_eq!(first.status, DeliveryStatus::Delivered);
    assert_eq!(first.platform_id, Some(wamid(0)));
    assert_eq!(
        store.outbox_item(ids[0]).await.unwrap().state,
        OutboxState::Sent
    );
    // Settled once: the same reference again changes nothing.
    assert!(!store
        .settle_send_by_reference(channel, "key-0", &wamid(0))
        .await
        .unwrap());

    // The second send's status comes while the send is still in flight (its answer is late):
    // kept, and when the send is then given up as unknown, the kept status settles it.
    assert!(!store
        .settle_send_by_reference(channel, "key-1", &wamid(1))
        .await
        .unwrap());
    assert!(!store
        .apply_delivery_status(
            channel,
            &wamid(1),
            DeliveryStatus::Read,
            None,
            Some("key-1")
        )
        .await
        .unwrap());
    assert!(store
        .mark_outbox_unknown(ids[1], "d", "timed out")
        .await
        .unwrap());
    let second = store.message(of(ids[1]).message_id).await.unwrap();
    assert_eq!(second.platform_id, Some(wamid(1)));
    assert_eq!(second.status, DeliveryStatus::Read);
    assert_eq!(
        store.outbox_item(ids[1]).await.unwrap().state,
        OutboxState::Sent
    );

    // A reference of another channel, or of a send nobody lost, settles nothing.
    let other = channel_of_kind(store, ChannelKind::Whatsapp).await;
    assert!(store
        .mark_outbox_unknown(ids[2], "d", "HTTP 500")
        .await
        .unwrap());
    assert!(!store
        .settle_send_by_reference(other, "key-2", &wamid(2))
        .await
        .unwrap());
    assert!(!store
        .settle_send_by_reference(channel, "key-nobody", &wamid(3))
        .await
        .unwrap());
    assert_eq!(
        store.message(of(ids[2]).message_id).await.unwrap().status,
        DeliveryStatus::Unknown
    );
    let audit = store.audit_log(&AuditFilter::default(), 50).await.unwrap();
    assert_eq!(
        audit
            .iter()
            .filter(|entry| entry.actor == "system:platform" && entry.action == "message.arrived")
            .count(),
        2
    );
}

async fn channel_of_kind(store: &Store, kind: ChannelKind) -> ChannelId {
    channel(store, kind, "other-account").await.id
}

async fn an_event_that_never_finishes_is_failed_after_bounded_attempts(db: TestDb) {
    let store = &db.store;
    let id = store
        .insert_inbound_event(&NewInboundEvent {
            source: ChannelKind::X,
            channel_id: None,
            origin: "webhook".into(),
            dedup_key: "poison".into(),
            body: b"{}".to_vec(),
        })
        .await
        .unwrap()
        .unwrap();
    let mut now = Timestamp::now();
    for attempt in 1..=3 {
        // A worker claims it and dies before finishing: the lease runs out.
        let claimed = store
            .claim_inbound_events("n", 5, now, now.plus_millis(1_000))
            .await
            .unwrap();
        assert_eq!(claimed.len(), 1);
        now = now.plus_millis(2_000);
        assert_eq!(
            store.fail_exhausted_inbound_events(now, 3).await.unwrap(),
            u64::from(attempt == 3),
            "given up only after the third attempt"
        );
    }
    let failed = store.failed_inbound_events(5, None).await.unwrap();
    assert_eq!(failed.len(), 1, "failed after the third attempt");
    assert_eq!(failed[0].id, id);
    assert_eq!(failed[0].state, EventState::Failed);
    assert!(failed[0]
        .error
        .as_deref()
        .unwrap()
        .contains("after 3 attempts"));
    assert!(store
        .claim_inbound_events("n", 5, now, now.plus_millis(1_000))
        .await
        .unwrap()
        .is_empty());
}

async fn the_audit_log_is_append_only(db: TestDb) {
    let store = &db.store;
    store
        .audit(
            "cli",
            "user.add",
            "user:1",
            &serde_json::json!({"role": "agent"}),
        )
        .await
        .unwrap();
    store
        .audit(
            "user:1",
            "conversation.status",
            "conversation:9",
            &serde_json::json!({}),
        )
        .await
        .unwrap();
    let entries = store.list_audit(None, 10).await.unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].action, "conversation.status", "newest first");
    assert_eq!(
        store.list_audit(Some("user.add"), 10).await.unwrap().len(),
        1
    );
    assert!(db
        .raw_execute("UPDATE audit_log SET actor = 'someone else'")
        .await
        .is_err());
    assert!(db.raw_execute("DELETE FROM audit_log").await.is_err());
    assert_eq!(store.list_audit(None, 10).await.unwrap().len(), 2);
}

async fn released_leases_are_free_at_once(db: TestDb) {
    let store = &db.store;
    let account = channel(store, ChannelKind::X, "1").await;
    store
        .insert_inbound_event(&NewInboundEvent {
            source: ChannelKind::X,
            channel_id: Some(account.id),
            origin: "poll:mentions".into(),
            dedup_key: "e".into(),
            body: vec![1],
        })
        .await
        .unwrap();
    let now = Timestamp::now();
    assert_eq!(
        store
            .claim_inbound_events("leaving", 5, now, now.plus_millis(600_000))
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(store
        .acquire_poll_lease(account.id, "leaving", now, now.plus_millis(600_000))
        .await
        .unwrap());
    store.release_leases("leaving").await.unwrap();
    assert_eq!(
        store
            .claim_inbound_events("staying", 5, now, now.plus_millis(600_000))
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(store
        .acquire_poll_lease(account.id, "staying", now, now.plus_millis(600_000))
        .await
        .unwrap());
}

async fn hostile_text_is_stored_as_written_but_bounded(db: TestDb) {
    let store = &db.store;
    let page = channel(store, ChannelKind::Facebook, "p").await;
    let hostile = "<script>alert(1)</script> \u{202E}gnp.exe \u{200B} &amp; \0 end";
    let conversation = ingest(store, inbound(&page, "m1", "t1", "a1", hostile, 1_000)).await;
    let long = "x".repeat(200_000);
    ingest(store, inbound(&page, "m2", "t1", "a1", &long, 2_000)).await;
    let messages = store.messages_in(conversation).await.unwrap();
    assert_eq!(messages[0].text, hostile.replace('\0', "\u{FFFD}"));
    assert_eq!(messages[1].text.len(), MAX_MESSAGE_BYTES);
}

/// The ids of every conversation `filter` lists, page after page of `size`.
async fn every_page(store: &Store, filter: &ConversationFilter, size: u32) -> Vec<ConversationId> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = store
            .list_conversations(filter, size, cursor.as_deref())
            .await
            .unwrap();
        ids.extend(page.items.iter().map(|c| c.id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return ids,
        }
    }
}

async fn vips_sort_first_and_other_orders_page_in_their_own_order(db: TestDb) {
    let store = &db.store;
    let page = channel(store, ChannelKind::Facebook, "p").await;
    let phone = channel(store, ChannelKind::Whatsapp, "w").await;
    let now = Timestamp::now().as_millis();
    let old = ingest(
        store,
        inbound(&page, "m1", "t1", "a1", "old", now - 3_000_000),
    )
    .await;
    let vip = ingest(
        store,
        inbound(&page, "m2", "t2", "vip", "vip", now - 2_000_000),
    )
    .await;
    let newest = ingest(
        store,
        inbound(&page, "m3", "t3", "a3", "new", now - 1_000_000),
    )
    .await;
    let window_old = ingest(
        store,
        inbound(
            &phone,
            "w1",
            "whatsapp:1",
            "1",
            "hola",
            now - 20 * 3_600_000,
        ),
    )
    .await;
    let window_new = ingest(
        store,
        inbound(&phone, "w2", "whatsapp:2", "2", "hola", now - 3_600_000),
    )
    .await;
    let window_closed = ingest(
        store,
        inbound(
            &phone,
            "w3",
            "whatsapp:3",
            "3",
            "hola",
            now - 30 * 3_600_000,
        ),
    )
    .await;
    let vip_contact = store.conversation(vip).await.unwrap().contact_id;
    store
        .tag_contact(vip_contact, &[Label::parse("vip").unwrap()], &[])
        .await
        .unwrap();

    let list = |sort: SortOrder| ConversationFilter {
        sort,
        ..Default::default()
    };
    let seen = every_page(store, &list(SortOrder::Newest), 2).await;
    assert_eq!(
        seen,
        vec![vip, newest, old, window_new, window_old, window_closed],
        "the VIP first, then newest activity"
    );

    let waiting = every_page(store, &list(SortOrder::LongestWaiting), 2).await;
    assert_eq!(
        waiting,
        vec![window_closed, window_old, window_new, old, vip, newest],
        "longest waiting first"
    );

    let closing = store
        .list_conversations(&list(SortOrder::WindowClosing), 50, None)
        .await
        .unwrap();
    assert_eq!(
        closing.items.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![window_old, window_new],
        "open windows, closing soonest first"
    );
}

async fn labels_follow_a_person_across_linked_channels(db: TestDb) {
    let store = &db.store;
    let page = channel(store, ChannelKind::Facebook, "p").await;
    let account = channel(store, ChannelKind::X, "x").await;
    let on_facebook = ingest(store, inbound(&page, "m1", "t1", "psid-1", "hola", 1_000)).await;
    let on_x = ingest(
        store,
        inbound(&account, "tw1", "tweet:1", "user-9", "@shop hola", 2_000),
    )
    .await;
    let facebook_contact = store.conversation(on_facebook).await.unwrap().contact_id;
    let x_contact = store.conversation(on_x).await.unwrap().contact_id;
    let person = store
        .link_contacts(facebook_contact, x_contact)
        .await
        .unwrap();
    let linked = store.person_contacts(x_contact).await.unwrap();
    assert_eq!(linked.len(), 2);
    assert!(linked
        .iter()
        .all(|contact| contact.person_id == Some(person)));
    let history = store
        .person_conversations(facebook_contact, 10)
        .await
        .unwrap();
    assert_eq!(
        history.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![on_x, on_facebook],
        "history on every channel"
    );

    store
        .tag_contact(facebook_contact, &[Label::parse("troll").unwrap()], &[])
        .await
        .unwrap();
    let queue = store
        .list_conversations(&ConversationFilter::default(), 50, None)
        .await
        .unwrap();
    assert!(
        queue.items.is_empty(),
        "the troll label follows the person to X"
    );
    store
        .tag_contact(
            facebook_contact,
            &[Label::parse("vip").unwrap()],
            &[Label::parse("troll").unwrap()],
        )
        .await
        .unwrap();
    assert_eq!(
        store.conversation(on_x).await.unwrap().priority,
        1,
        "VIP priority follows the person too"
    );
    // A conversation the VIP starts afterwards, here or on a linked channel, comes first too.
    for (channel, id, thread, author) in [
        (&page, "m2", "t2", "psid-1"),
        (&account, "tw2", "tweet:2", "user-9"),
    ] {
        let started = ingest(store, inbound(channel, id, thread, author, "otra", 3_000)).await;
        assert_eq!(
            store.conversation(started).await.unwrap().priority,
            1,
            "a new conversation of a VIP ({thread}) is a VIP's"
        );
    }
    let found = store.search_contacts("author user-9", 10).await.unwrap();
    assert_eq!(
        found.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![x_contact]
    );
}

async fn a_flagged_authors_new_comment_is_stored_with_its_hide_in_one_transaction(db: TestDb) {
    let store = &db.store;
    let page = channel(store, ChannelKind::Facebook, "p").await;
    // Someone not flagged: stored, nothing queued.
    let first = store
        .ingest_message_hiding_flagged(&inbound(
            &page,
            "c1",
            "comment:c1",
            "troll-1",
            "hola",
            1_000,
        ))
        .await
        .unwrap();
    let IngestOutcome::Inserted {
        conversation_id, ..
    } = first
    else {
        panic!("stored")
    };
    let contact = store
        .conversation(conversation_id)
        .await
        .unwrap()
        .contact_id;
    store
        .tag_contact(contact, &[Label::parse("troll").unwrap()], &[])
        .await
        .unwrap();
    // Flagged now: the next public comment comes with its hide and the audit line.
    let second = store
        .ingest_message_hiding_flagged(&inbound(
            &page,
            "c2",
            "comment:c2",
            "troll-1",
            "idiots",
            2_000,
        ))
        .await
        .unwrap();
    let IngestOutcome::Inserted { message_id, .. } = second else {
        panic!("stored")
    };
    let audit = store.audit_log(&AuditFilter::default(), 50).await.unwrap();
    assert!(
        audit.iter().any(|entry| entry.actor == "system:auto-hide"
            && entry.action == "message.hide"
            && entry.target == format!("message:{}", message_id.get())),
        "{audit:?}"
    );
    // A repeated delivery changes nothing: no second hide.
    assert_eq!(
        store
            .ingest_message_hiding_flagged(&inbound(
                &page,
                "c2",
                "comment:c2",
                "troll-1",
                "idiots",
                2_000
            ))
            .await
            .unwrap(),
        IngestOutcome::Duplicate
    );
    // Without the rule, a flagged author's comment is stored and nothing is queued.
    store
        .ingest_message(&inbound(
            &page,
            "c3",
            "comment:c3",
            "troll-1",
            "again",
            3_000,
        ))
        .await
        .unwrap();
    // Exactly one hide was queued in all: the flagged author's comment under the rule.
    let now = Timestamp::now();
    let queued: Vec<MessageId> = store
        .claim_outbox("probe", 50, now, now.plus_millis(10_000))
        .await
        .unwrap()
        .into_iter()
        .filter(|item| {
            matches!(
                item.payload,
                Ok(OutboxPayload::Moderate(ModerationPayload {
                    action: ModerationAction::Hide,
                    ..
                }))
            )
        })
        .map(|item| item.message_id)
        .collect();
    assert_eq!(queued, vec![message_id]);
}

async fn flagged_authors_are_recognised_and_hides_are_queued(db: TestDb) {
    let store = &db.store;
    let page = channel(store, ChannelKind::Facebook, "p").await;
    store.set_auto_hide_flagged(page.id, true).await.unwrap();
    assert!(store.channel(page.id).await.unwrap().auto_hide_flagged);
    let conversation = ingest(
        store,
        inbound(&page, "c1", "comment:c1", "troll-1", "idiots", 1_000),
    )
    .await;
    let first = store.messages_in(conversation).await.unwrap()[0].id;
    assert!(!store.author_flagged(first).await.unwrap());
    let contact = store.conversation(conversation).await.unwrap().contact_id;
    store
        .tag_contact(contact, &[Label::parse("spam").unwrap()], &[])
        .await
        .unwrap();
    assert!(store.author_flagged(first).await.unwrap());
    let hide = store.queue_moderation(first, true).await.unwrap();
    assert_eq!(hide.message_id, first);
    assert!(matches!(
        hide.payload,
        Ok(OutboxPayload::Moderate(ModerationPayload {
            action: ModerationAction::Hide,
            ..
        }))
    ));
    let now = Timestamp::now();
    let claimed = store
        .claim_outbox("d", 5, now, now.plus_millis(10_000))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(store
        .fail_outbox(claimed[0].id, "d", "cannot hide", None)
        .await
        .unwrap());
    let message = store.message(first).await.unwrap();
    assert_eq!(
        message.status,
        DeliveryStatus::Received,
        "a failed hide does not mark the customer's message failed"
    );
    assert!(store
        .mark_hidden(page.id, &ExternalId::parse("c1").unwrap(), true)
        .await
        .unwrap());
    assert!(store.message(first).await.unwrap().hidden);
}

async fn status_changes_are_recorded_and_timelines_carry_every_event(db: TestDb) {
    use buzon_core::metrics::{MetricEvent, MetricEventKind};
    let store = &db.store;
    let whatsapp = channel(store, ChannelKind::Whatsapp, "wa-metrics").await;
    let other = channel(store, ChannelKind::Whatsapp, "wa-other").await;
    let agent = store
        .create_user(
            "metrics@shop.example",
            "Metrics",
            Role::Agent,
            "a long password",
        )
        .await
        .unwrap();
    let base = Timestamp::now().as_millis() - 3_600_000;
    let conversation = ingest(store, inbound(&whatsapp, "m-1", "t-1", "u-1", "hola", base)).await;
    ingest(
        store,
        inbound(&whatsapp, "m-2", "t-1", "u-1", "¿hay?", base + 60_000),
    )
    .await;
    let troll = ingest(
        store,
        inbound(&whatsapp, "m-3", "t-2", "u-troll", "spam", base + 120_000),
    )
    .await;
    ingest(
        store,
        inbound(&other, "m-4", "t-3", "u-4", "hola", base + 180_000),
    )
    .await;
    store
        .queue_reply(&NewOutboundReply {
            conversation_id: conversation,
            user_id: Some(agent.id),
            text: "¡sí!".into(),
            idempotency_key: "metrics-1".into(),
            payload: reply_payload(),
            automatic: false,
        })
        .await
        .unwrap();
    store
        .queue_reply(&NewOutboundReply {
            conversation_id: conversation,
            user_id: None,
            text: "auto".into(),
            idempotency_key: "metrics-2".into(),
            payload: reply_payload(),
            automatic: true,
        })
        .await
        .unwrap();
    store
        .set_conversation_status(conversation, ConversationStatus::Resolved)
        .await
        .unwrap();
    // Setting the same status again records nothing.
    store
        .set_conversation_status(conversation, ConversationStatus::Resolved)
        .await
        .unwrap();
    // A customer message reopens it, and that is recorded too.
    ingest(
        store,
        inbound(&whatsapp, "m-5", "t-1", "u-1", "otra cosa", base + 240_000),
    )
    .await;
    let changes = store.status_changes(conversation).await.unwrap();
    let statuses: Vec<_> = changes.iter().map(|change| change.status).collect();
    assert_eq!(
        statuses,
        [ConversationStatus::Resolved, ConversationStatus::Open]
    );
    assert!(changes.iter().all(|change| change.user_id.is_none()));
    assert!(changes[0].changed_at <= changes[1].changed_at);
    assert!(matches!(
        store
            .set_conversation_status(ConversationId(999_999), ConversationStatus::Open)
            .await,
        Err(StoreError::NotFound)
    ));

    let contact = store.conversation(troll).await.unwrap().contact_id;
    store
        .tag_contact(contact, &[Label::parse("troll").unwrap()], &[])
        .await
        .unwrap();
    store
        .tag_conversation(conversation, &[Label::parse("refund").unwrap()], &[])
        .await
        .unwrap();

    // Every change is journaled for the response-time index, by triggers.
    let head = store.metric_changes_head().await.unwrap();
    assert!(store
        .metric_changes_after(head, &[])
        .await
        .unwrap()
        .is_empty());
    store
        .set_conversation_status(conversation, ConversationStatus::Pending)
        .await
        .unwrap();
    let journaled = store.metric_changes_after(head, &[]).await.unwrap();
    assert_eq!(
        journaled
            .iter()
            .map(|(_, conversation)| *conversation)
            .collect::<Vec<_>>(),
        [conversation],
        "a status change is something new to count"
    );
    assert!(journaled[0].0 > head);
    // A range asked for again is found again.
    let id = journaled[0].0;
    assert_eq!(
        store.metric_changes_after(id, &[(id, id)]).await.unwrap(),
        journaled
    );
    assert_eq!(
        store.metric_change_ids(0, id).await.unwrap().last(),
        Some(&id)
    );
    // Pruning removes what was recorded before the given time; ids are never reused.
    let recorded = db.count("metric_changes").await;
    assert!(recorded > 0);
    assert_eq!(
        store
            .prune_metric_changes(Timestamp::now().plus_millis(60_000))
            .await
            .unwrap() as i64,
        recorded
    );
    assert_eq!(db.count("metric_changes").await, 0);
    store
        .set_conversation_status(conversation, ConversationStatus::Open)
        .await
        .unwrap();
    assert!(store.metric_changes_head().await.unwrap() > journaled[0].0);
    store
        .set_channel_published(whatsapp.id, true)
        .await
        .unwrap();
    let from = Timestamp::from_millis(base - 1);
    let to = Timestamp::from_millis(base + 3_600_000);
    let timelines = store
        .metric_timelines(from, to, Some(whatsapp.id))
        .await
        .unwrap();
    assert_eq!(
        timelines.len(),
        2,
        "the other channel's conversation is left out"
    );
    let main = timelines
        .iter()
        .find(|timeline| timeline.conversation_id == conversation)
        .unwrap();
    assert_eq!(main.channel_id, whatsapp.id);
    assert_eq!(main.labels, [Label::parse("refund").unwrap()]);
    assert!(!main.author_flagged);
    let customer: Vec<Timestamp> = main
        .events
        .iter()
        .filter(|event| event.kind == MetricEventKind::CustomerMessage)
        .map(|event| event.at)
        .collect();
    assert_eq!(
        customer,
        [base, base + 60_000, base + 240_000].map(Timestamp::from_millis)
    );
    assert!(main
        .events
        .iter()
        .any(|event| event.kind == MetricEventKind::HumanReply { agent_id: agent.id }));
    assert_eq!(
        main.events
            .iter()
            .filter(|event| event.kind == MetricEventKind::AutomaticReply)
            .count(),
        1
    );
    assert!(main.events.contains(&MetricEvent::status_change(
        changes[0].changed_at,
        ConversationStatus::Resolved
    )));
    let flagged = timelines
        .iter()
        .find(|timeline| timeline.conversation_id == troll)
        .unwrap();
    assert!(flagged.author_flagged && flagged.is_flagged());

    // Periods select by customer messages and status changes inside them.
    let later = store
        .metric_timelines(Timestamp::from_millis(base + 200_000), to, None)
        .await
        .unwrap();
    assert_eq!(
        later
            .iter()
            .map(|timeline| timeline.conversation_id)
            .collect::<Vec<_>>(),
        [conversation]
    );
    assert!(store
        .metric_timelines(
            Timestamp::from_millis(base - 10_000),
            Timestamp::from_millis(base - 1),
            None
        )
        .await
        .unwrap()
        .is_empty());
}

/// A "yes" to the closing question closes the conversation again and undoes the reopening it
/// caused — but when the customer wrote something else after the question, the conversation
/// stays open and its reopening stays in the history.
async fn a_satisfied_answer_undoes_the_reopening_only_when_it_resolves_again(db: TestDb) {
    let store = &db.store;
    let whatsapp = channel(store, ChannelKind::Whatsapp, "wa-survey").await;
    let base = Timestamp::now().as_millis() - 600_000;
    let mut answered = Vec::new();
    for (n, more) in [(1, false), (2, true)] {
        let thread = format!("t-survey-{n}");
        let author = format!("u-survey-{n}");
        let conversation = ingest(
            store,
            inbound(
                &whatsapp,
                &format!("s-{n}-1"),
                &thread,
                &author,
                "hola",
                base,
            ),
        )
        .await;
        let question = store
            .queue_reply(&NewOutboundReply {
                conversation_id: conversation,
                user_id: None,
                text: "¿Lo hemos resuelto? 1 sí, 2 no".into(),
                idempotency_key: format!("survey-{n}"),
                payload: reply_payload(),
                automatic: true,
            })
            .await
            .unwrap()
            .0;
        store
            .set_conversation_status(conversation, ConversationStatus::Resolved)
            .await
            .unwrap();
        let mut tx = store.begin().await.unwrap();
        tx.ask_satisfaction(
            conversation,
            question.id,
            None,
            Timestamp::from_millis(base + 60_000),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        if more {
            ingest(
                store,
                inbound(
                    &whatsapp,
                    &format!("s-{n}-2"),
                    &thread,
                    &author,
                    "y otra cosa",
                    base + 120_000,
                ),
            )
            .await;
        }
        let IngestOutcome::Inserted { message_id, .. } = store
            .ingest_message(&inbound(
                &whatsapp,
                &format!("s-{n}-3"),
                &thread,
                &author,
                "1",
                base + 180_000,
            ))
            .await
            .unwrap()
        else {
            panic!("the answer is new");
        };
        let mut tx = store.begin().await.unwrap();
        let answer = tx.message(message_id).await.unwrap();
        let request = tx
            .pending_satisfaction(conversation, message_id, Timestamp::from_millis(base))
            .await
            .unwrap()
            .expect("the question waits for its answer");
        tx.record_satisfaction(
            request,
            &answer,
            true,
            Timestamp::from_millis(base + 180_000),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let statuses: Vec<ConversationStatus> = store
            .status_changes(conversation)
            .await
            .unwrap()
            .iter()
            .map(|change| change.status)
            .collect();
        answered.push((
            store.conversation(conversation).await.unwrap().status,
            statuses,
        ));
    }
    assert_eq!(
        answered[0],
        (
            ConversationStatus::Resolved,
            vec![ConversationStatus::Resolved]
        ),
        "resolved again, the reopening undone"
    );
    assert_eq!(
        answered[1],
        (
            ConversationStatus::Open,
            vec![ConversationStatus::Resolved, ConversationStatus::Open]
        ),
        "the customer's other message keeps it open, and the history says so"
    );
}
