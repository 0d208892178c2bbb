//! The in-memory response-time index against a full recompute from the database, on SQLite and
//! PostgreSQL: after the build, and after each kind of change a report depends on (customer
//! messages in old and new conversations, replies sent and failed, automatic replies, status
//! changes, labels added and removed, a troll flag on one author of a linked person) — each
//! brought in through the triggers' journal, never by building again.

use buzon_app::reports::index::MetricsIndex;
use buzon_core::metrics::{
    compute, heatmap, BusinessCalendar, Cycle, LocalDate, MetricsOptions, OpenInterval, Period,
    WeeklySchedule, DAY_MILLIS,
};
use buzon_core::*;
use buzon_store::{Cipher, DatabaseUrl, Store};
use buzon_tests::TestDatabase;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_agrees_with_a_recompute_after_every_change_on_sqlite() {
    agree(TestDatabase::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_agrees_with_a_recompute_after_every_change_on_postgres() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    agree(db).await;
}

/// A small deterministic generator, so a failure can be replayed.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound
    }
}

struct World {
    store: Store,
    calendar: BusinessCalendar,
    index: MetricsIndex,
    channels: Vec<Channel>,
    agents: Vec<UserId>,
    now: i64,
    next_id: u64,
}

impl World {
    async fn message(&mut self, channel: usize, author: u64, at: i64) -> ConversationId {
        self.next_id += 1;
        let message = NewInboundMessage {
            channel_id: self.channels[channel].id,
            platform_id: ExternalId::parse(format!("m-{}", self.next_id)).unwrap(),
            thread_key: format!("thread-{author}"),
            conversation_kind: match self.channels[channel].kind {
                ChannelKind::Facebook => ConversationKind::Comment,
                ChannelKind::Whatsapp => ConversationKind::Whatsapp,
                ChannelKind::X => ConversationKind::XMention,
            },
            author: NewContact {
                platform_id: ExternalId::parse(format!("author-{author}")).unwrap(),
                name: Some(format!("Author {author}")),
                handle: None,
            },
            text: "¿hola? <b>".into(),
            attachments: vec![],
            created_at: Timestamp::from_millis(at),
            raw: None,
            found_by: None,
        };
        match self.store.ingest_message(&message).await.unwrap() {
            IngestOutcome::Inserted {
                conversation_id, ..
            } => conversation_id,
            IngestOutcome::Duplicate => panic!("a fresh id is no duplicate"),
        }
    }

    /// Queues a reply and, unless `fail`, records it as sent; with `fail` it fails for good.
    async fn reply(&mut self, conversation: ConversationId, agent: Option<UserId>, fail: bool) {
        self.next_id += 1;
        let queued = self
            .store
            .queue_reply(&NewOutboundReply {
                conversation_id: conversation,
                user_id: agent,
                text: "gracias".into(),
                idempotency_key: format!("reply-{}", self.next_id),
                payload: ReplyPayload {
                    thread_key: "thread".into(),
                    conversation_kind: None,
                    in_reply_to: None,
                    text: "reply".into(),
                    template: None,
                },
                automatic: agent.is_none(),
            })
            .await
            .unwrap();
        let now = Timestamp::now();
        let claimed = self
            .store
            .claim_outbox("index-test", 100, now, now.plus_millis(60_000))
            .await
            .unwrap();
        for item in claimed {
            if fail && item.id == queued.1.id {
                self.store
                    .fail_outbox(item.id, "index-test", "window closed", None)
                    .await
                    .unwrap();
            } else {
                let platform_id = ExternalId::parse(format!("sent-{}", item.id.get())).unwrap();
                assert!(self
                    .store
                    .complete_outbox(item.id, "index-test", &platform_id)
                    .await
                    .unwrap());
            }
        }
    }

    /// Brings the index up to date and compares it with figures computed from the database
    /// over several periods, both channel scopes and both troll switches.
    async fn check(&self, when: &str) {
        self.index.catch_up(&self.store).await.unwrap();
        let as_of = Timestamp::now();
        let end = Timestamp::from_millis(self.now + DAY_MILLIS);
        for days in [3, 10, 40] {
            let period = Period {
                start: end.plus_millis(-days * DAY_MILLIS),
                end,
            };
            let previous = Period {
                start: period.start.plus_millis(-days * DAY_MILLIS),
                end: period.start,
            };
            for channel in [None, Some(self.channels[0].id)] {
                for include_flagged in [false, true] {
                    let options = MetricsOptions {
                        include_flagged,
                        ..MetricsOptions::as_of(as_of)
                    };
                    let measured = self
                        .index
                        .measure(period, previous, channel, options)
                        .await
                        .unwrap();
                    let timelines = self
                        .store
                        .metric_timelines(previous.start, period.end, channel)
                        .await
                        .unwrap();
                    let what = format!(
                        "{when}: {days} days, channel {channel:?}, trolls {include_flagged}"
                    );
                    let expected = compute(&timelines, &self.calendar, period, &options);
                    assert!(
                        !expected.is_empty() || days == 3,
                        "{what}: something to count"
                    );
                    assert_eq!(sorted(measured.cycles), sorted(expected), "{what}: cycles");
                    assert_eq!(
                        sorted(measured.before),
                        sorted(compute(&timelines, &self.calendar, previous, &options)),
                        "{what}: previous period"
                    );
                    assert_eq!(
                        measured.heatmap,
                        heatmap(&timelines, &self.calendar, period, &options),
                        "{what}: heatmap"
                    );
                }
            }
        }
    }
}

/// On PostgreSQL a journal id is handed out at insert time: a transaction that commits after
/// a later one has been read must still be brought in.
async fn a_late_commit_is_not_missed(world: &World, url: &str, conversations: &[ConversationId]) {
    use sqlx::Connection;
    let mut late = sqlx::PgConnection::connect(url).await.unwrap();
    let mut open = late.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO conversation_labels (conversation_id, label, created_at) VALUES ($1, 'slow-commit', 0)",
    )
    .bind(conversations[11].get())
    .execute(&mut *open)
    .await
    .unwrap();
    // A large transaction: 5,000 more journal ids held by it (as flagging a prolific
    // spammer does), so the next committed id jumps far ahead.
    sqlx::query(
        "INSERT INTO metric_changes (conversation_id, recorded_at) \
         SELECT $1, 0 FROM generate_series(1, 5000)",
    )
    .bind(conversations[11].get())
    .execute(&mut *open)
    .await
    .unwrap();
    world
        .store
        .tag_conversation(conversations[12], &[Label::parse("quick").unwrap()], &[])
        .await
        .unwrap();
    world
        .check("while an earlier transaction is still open")
        .await;
    open.commit().await.unwrap();
    world.check("after the earlier transaction commits").await;
    let labelled = world
        .index
        .measure(
            Period {
                start: Timestamp::from_millis(0),
                end: Timestamp::from_millis(world.now + DAY_MILLIS),
            },
            Period {
                start: Timestamp::from_millis(0),
                end: Timestamp::from_millis(0),
            },
            None,
            MetricsOptions::as_of(Timestamp::now()),
        )
        .await
        .unwrap();
    assert!(labelled
        .cycles
        .iter()
        .any(|cycle| cycle.conversation_id == conversations[11]
            && cycle.labels.contains(&Label::parse("slow-commit").unwrap())));
    late.close().await.unwrap();
}

fn sorted(mut cycles: Vec<Cycle>) -> Vec<Cycle> {
    cycles.sort_by_key(|cycle| (cycle.conversation_id, cycle.started_at));
    cycles
}

async fn agree(db: TestDatabase) {
    let store = Store::connect(
        &DatabaseUrl::parse(&db.url).unwrap(),
        Cipher::from_key_text(&"42".repeat(32)).unwrap(),
    )
    .await
    .unwrap();
    store.migrate().await.unwrap();
    let calendar = BusinessCalendar::new(
        "Europe/Madrid",
        WeeklySchedule::monday_to_friday(OpenInterval::parse("09:00-18:00").unwrap()),
        [LocalDate::parse("2026-12-08").unwrap()],
    )
    .unwrap();
    let mut channels = Vec::new();
    for (kind, id) in [
        (ChannelKind::Whatsapp, "wa-index"),
        (ChannelKind::Facebook, "fb-index"),
    ] {
        channels.push(
            store
                .add_channel(
                    kind,
                    "Shop",
                    &ExternalId::parse(id).unwrap(),
                    &ChannelCredentials {
                        access_token: format!("token-{id}"),
                        ..Default::default()
                    },
                )
                .await
                .unwrap(),
        );
    }
    let mut agents = Vec::new();
    for name in ["ana", "luis"] {
        agents.push(
            store
                .create_user(
                    &format!("{name}@shop.example"),
                    name,
                    Role::Agent,
                    "a long password",
                )
                .await
                .unwrap()
                .id,
        );
    }
    let mut world = World {
        index: MetricsIndex::new(calendar.clone()),
        store,
        calendar,
        channels,
        agents,
        now: Timestamp::now().as_millis(),
        next_id: 0,
    };

    // Forty conversations over the last 35 days: bursts of customer messages, replies by two
    // people and by the automatic rule, resolutions, pending spans and reopens.
    let mut random = Lcg(20_261_123);
    let mut conversations = Vec::new();
    for author in 0..40u64 {
        let channel = (author % 2) as usize;
        let start = world.now - (random.below(35 * 24) as i64 + 1) * 3_600_000;
        let mut at = start;
        let mut conversation = None;
        for _ in 0..=random.below(3) {
            conversation = Some(world.message(channel, author, at).await);
            at += random.below(90) as i64 * 60_000 + 1;
        }
        let conversation = conversation.unwrap();
        conversations.push(conversation);
        match random.below(6) {
            0 => {}
            1 => world.reply(conversation, None, false).await,
            2 => {
                let agent = world.agents[random.below(2) as usize];
                world.reply(conversation, Some(agent), false).await;
            }
            3 => {
                let agent = world.agents[0];
                world.reply(conversation, Some(agent), false).await;
                world
                    .store
                    .set_conversation_status(conversation, ConversationStatus::Resolved)
                    .await
                    .unwrap();
            }
            4 => {
                world
                    .store
                    .set_conversation_status(conversation, ConversationStatus::Pending)
                    .await
                    .unwrap();
            }
            _ => {
                world
                    .store
                    .set_conversation_status(conversation, ConversationStatus::Resolved)
                    .await
                    .unwrap();
                world
                    .store
                    .set_conversation_status(conversation, ConversationStatus::Open)
                    .await
                    .unwrap();
            }
        }
    }
    world
        .store
        .tag_conversation(conversations[1], &[Label::parse("refund").unwrap()], &[])
        .await
        .unwrap();
    world.check("after the build").await;

    // Customer messages: in an old conversation, out of order, and a new conversation.
    world.message(0, 0, world.now - 2 * 3_600_000).await;
    world.message(1, 1, world.now - 20 * DAY_MILLIS).await;
    let fresh = world.message(0, 100, world.now - 60_000).await;
    world.check("after new customer messages").await;

    // Replies: sent by a person, automatic, and one that failed for good (not counted).
    let agent = world.agents[1];
    world.reply(fresh, Some(agent), true).await;
    world.check("after a failed reply").await;
    world.reply(fresh, None, false).await;
    world.reply(conversations[2], Some(agent), false).await;
    world.reply(fresh, Some(agent), false).await;
    world.check("after replies").await;

    // Status changes: pending, resolved, reopened.
    let store = world.store.clone();
    store
        .set_conversation_status(conversations[3], ConversationStatus::Pending)
        .await
        .unwrap();
    store
        .set_conversation_status(fresh, ConversationStatus::Resolved)
        .await
        .unwrap();
    store
        .set_conversation_status(conversations[5], ConversationStatus::Resolved)
        .await
        .unwrap();
    store
        .set_conversation_status(conversations[5], ConversationStatus::Open)
        .await
        .unwrap();
    world.check("after status changes").await;

    // Labels on conversations, added and removed.
    let complaint = Label::parse("late-delivery").unwrap();
    store
        .tag_conversation(conversations[6], std::slice::from_ref(&complaint), &[])
        .await
        .unwrap();
    store
        .tag_conversation(conversations[1], &[], &[Label::parse("refund").unwrap()])
        .await
        .unwrap();
    world.check("after labels").await;

    // A troll flag on one author follows the person into their other channel's
    // conversation, and lifting it brings both back.
    let first = store
        .conversation(conversations[8])
        .await
        .unwrap()
        .contact_id;
    let second = store
        .conversation(conversations[9])
        .await
        .unwrap()
        .contact_id;
    store.link_contacts(first, second).await.unwrap();
    let troll = Label::parse("troll").unwrap();
    store
        .tag_contact(first, std::slice::from_ref(&troll), &[])
        .await
        .unwrap();
    world.check("after a troll flag").await;
    let flagged = world
        .index
        .measure(
            Period {
                start: Timestamp::from_millis(0),
                end: Timestamp::from_millis(world.now + DAY_MILLIS),
            },
            Period {
                start: Timestamp::from_millis(0),
                end: Timestamp::from_millis(0),
            },
            None,
            MetricsOptions::as_of(Timestamp::now()),
        )
        .await
        .unwrap();
    assert!(
        flagged
            .cycles
            .iter()
            .all(|cycle| cycle.conversation_id != conversations[8]
                && cycle.conversation_id != conversations[9]),
        "both of the person's conversations are left out"
    );
    store
        .tag_contact(first, &[], std::slice::from_ref(&troll))
        .await
        .unwrap();
    world.check("after the flag is lifted").await;

    // Flag first, link after: the link brings the flag to the other contact's conversation.
    let spammer = store
        .conversation(conversations[13])
        .await
        .unwrap()
        .contact_id;
    let other = store
        .conversation(conversations[14])
        .await
        .unwrap()
        .contact_id;
    store
        .tag_contact(spammer, &[Label::parse("spam").unwrap()], &[])
        .await
        .unwrap();
    world.check("after a spam flag").await;
    store.link_contacts(other, spammer).await.unwrap();
    world.check("after linking a flagged contact").await;

    // A fresh build swapped in agrees too, and so does catching up after it.
    world.index.rebuild(&world.store, true).await.unwrap();
    world.message(1, 7, world.now - 30_000).await;
    world.check("after a rebuild").await;

    if db.url.starts_with("postgres") {
        a_late_commit_is_not_missed(&world, &db.url, &conversations).await;
    }

    world.store.close().await;
    db.finish().await;
}
