//! Webhooks end to end: signature checks, durable storage, the normalizer, and the JSON API,
//! with the platforms' published payloads.

use buzon_tests::app::{TestApp, META_VERIFY_TOKEN};
use buzon_tests::platform::fixture;
use buzon_tests::TestDatabase;
use serde_json::Value;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

/// Connects a channel for fixtures' accounts; no platform answers these tests, so its token is
/// saved unchecked.
async fn add_channel(app: &TestApp, args: &[&str]) {
    let mut full = vec!["channel", "add"];
    full.extend_from_slice(args);
    full.push("--no-check");
    let output = app.cli(&full, None).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Connects the Page the Facebook fixtures were recorded for.
async fn add_fixture_page(app: &TestApp) {
    add_channel(
        app,
        &[
            "facebook",
            "--page-id",
            "1234567890321",
            "--page-token",
            "EAAB-test-token",
        ],
    )
    .await;
}

/// The conversations of the queue (every status), once `count` of them exist.
async fn conversations(app: &TestApp, token: &str, count: usize) -> Vec<Value> {
    app.eventually(WAIT, &format!("{count} conversations"), || async {
        let list = app
            .api_get(token, "/api/v1/conversations?status=all&flagged=include")
            .await;
        let items = list["items"].as_array().cloned().unwrap_or_default();
        (items.len() >= count).then_some(items)
    })
    .await
}

#[tokio::test]
async fn meta_handshake_echoes_the_challenge_only_for_the_right_token() {
    let app = TestApp::start(TestDatabase::sqlite(), &[]).await;
    for platform in ["facebook", "whatsapp"] {
        let ok = app
            .http
            .get(app.url(&format!("/webhooks/{platform}?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token={META_VERIFY_TOKEN}")))
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 200);
        assert_eq!(ok.text().await.unwrap(), "1158201444");
        let wrong = app
            .http
            .get(app.url(&format!("/webhooks/{platform}?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=nope")))
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 403);
        assert!(!wrong.text().await.unwrap().contains("1158201444"));
    }
    app.finish().await;
}

#[tokio::test]
async fn x_crc_is_answered_with_the_documented_token() {
    let app = TestApp::start(TestDatabase::sqlite(), &[]).await;
    let response = app
        .http
        .get(app.url("/webhooks/x?crc_token=test-crc-token"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({"response_token": "sha256=1Fg22hsV/J0MPCeiX/iZqLqDkZ0S28yOOMIljrsAX9M="})
    );
    // The CRC answer is the same HMAC as a delivery signature: it must never sign a body.
    let forged = app
        .http
        .get(app.url("/webhooks/x"))
        .query(&[(
            "crc_token",
            r#"{"for_user_id":"1","direct_message_events":[]}"#,
        )])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 400, "a JSON body is not a CRC token");
    app.finish().await;
}

#[tokio::test]
async fn wrong_or_missing_signatures_get_401_and_store_nothing() {
    let app = TestApp::start(TestDatabase::sqlite(), &[]).await;
    let body = fixture("facebook/feed_post_add.json");
    let unsigned = app
        .http
        .post(app.url("/webhooks/facebook"))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);
    let wrong = app
        .http
        .post(app.url("/webhooks/facebook"))
        .header(
            "X-Hub-Signature-256",
            buzon_tests::platform::meta_signature("another-secret", &body),
        )
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let mut tampered = body.clone();
    tampered[40] ^= 1;
    let signature = buzon_tests::platform::meta_signature("test-app-secret", &body);
    let changed = app
        .http
        .post(app.url("/webhooks/facebook"))
        .header("X-Hub-Signature-256", signature)
        .body(tampered)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 401);
    let x_body = fixture("x/aaa_direct_message_events.json");
    let x_wrong = app
        .http
        .post(app.url("/webhooks/x"))
        .header("x-twitter-webhooks-signature", "sha256=AAAA")
        .body(x_body)
        .send()
        .await
        .unwrap();
    assert_eq!(x_wrong.status(), 401);
    assert_eq!(
        app.db.scalar("SELECT COUNT(*) FROM inbound_events").await,
        0,
        "nothing stored"
    );
    let too_big = vec![b' '; 1024 * 1024 + 1];
    assert_eq!(
        app.post_signed_webhook("facebook", &too_big).await.status(),
        413
    );
    app.finish().await;
}

#[tokio::test]
async fn every_signed_fixture_is_accepted_and_stored_byte_for_byte() {
    let app = TestApp::start(TestDatabase::sqlite(), &[]).await;
    let fixtures = [
        ("facebook", "facebook/feed_comment_add.json"),
        ("facebook", "facebook/feed_post_add.json"),
        (
            "facebook",
            "facebook/feed_comment_edited_legacy_sender.json",
        ),
        ("facebook", "facebook/feed_comment_remove.json"),
        ("facebook", "facebook/feed_comment_hide.json"),
        (
            "facebook",
            "facebook/feed_comment_reply_batched_two_pages.json",
        ),
        ("facebook", "facebook/messenger_text_message.json"),
        ("facebook", "facebook/messenger_reply_to_message.json"),
        ("whatsapp", "whatsapp/text_message.json"),
        ("whatsapp", "whatsapp/status_sent.json"),
        ("whatsapp", "whatsapp/reaction_escaped_emoji.json"),
        ("whatsapp", "whatsapp/reaction_removed_no_emoji.json"),
        ("whatsapp", "whatsapp/image_message.json"),
        ("whatsapp", "whatsapp/interactive_button_reply_bsuid.json"),
        ("whatsapp", "whatsapp/unsupported_message_type.json"),
        ("whatsapp", "whatsapp/status_failed.json"),
        ("whatsapp", "whatsapp/status_delivered_bsuid_only.json"),
        ("x", "x/aaa_direct_message_events.json"),
        ("x", "x/aaa_tweet_delete_events.json"),
    ];
    for (platform, name) in fixtures {
        let body = fixture(name);
        let response = app.post_signed_webhook(platform, &body).await;
        assert_eq!(response.status(), 200, "{name}");
        let again = app.post_signed_webhook(platform, &body).await;
        assert_eq!(
            again.status(),
            200,
            "a repeated delivery is acknowledged too ({name})"
        );
    }
    assert_eq!(
        app.db.scalar("SELECT COUNT(*) FROM inbound_events").await,
        fixtures.len() as i64,
        "each delivery stored once"
    );
    let hide = fixture("facebook/feed_comment_hide.json");
    let hide_hex = hex_of(&hide);
    let stored_hex = app
        .eventually(WAIT, "the hide fixture row", || async {
            let rows = app
                .db
                .scalar(&format!(
                    "SELECT COUNT(*) FROM inbound_events WHERE hex(body) = '{hide_hex}'"
                ))
                .await;
            (rows == 1).then_some(rows)
        })
        .await;
    assert_eq!(
        stored_hex, 1,
        "the raw bytes, trailing newline included, are kept exactly"
    );
    app.finish().await;
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

#[tokio::test]
async fn webhooks_reach_the_queue_and_the_api_with_the_platforms_values() {
    let app = TestApp::start(TestDatabase::sqlite(), &[]).await;
    add_channel(
        &app,
        &[
            "facebook",
            "--page-id",
            "<PAGE_ID>",
            "--page-token",
            "page-token-1",
        ],
    )
    .await;
    add_channel(
        &app,
        &[
            "whatsapp",
            "--phone-number-id",
            "106540352242922",
            "--access-token",
            "wa-token-1",
        ],
    )
    .await;
    add_channel(
        &app,
        &[
            "x",
            "--user-id",
            "4337869213",
            "--access-token",
            "x-token-1",
        ],
    )
    .await;
    let token = app.token("viewer").await;

    for (platform, name) in [
        ("facebook", "facebook/messenger_text_message.json"),
        ("whatsapp", "whatsapp/text_message.json"),
        ("x", "x/aaa_direct_message_events.json"),
    ] {
        let body = fixture(name);
        assert_eq!(app.post_signed_webhook(platform, &body).await.status(), 200);
        assert_eq!(
            app.post_signed_webhook(platform, &body).await.status(),
            200,
            "duplicate delivery"
        );
    }
    let items = conversations(&app, &token, 3).await;
    assert_eq!(
        items.len(),
        3,
        "one conversation each, duplicates changed nothing"
    );

    let find = |channel: &str| -> Value {
        items
            .iter()
            .find(|item| item["channel"] == channel)
            .cloned()
            .unwrap_or_else(|| panic!("a {channel} conversation"))
    };
    let messenger = find("facebook");
    assert_eq!(messenger["thread_key"], "messenger:<PSID>");
    assert_eq!(messenger["contact"]["platform_id"], "<PSID>");
    let whatsapp = find("whatsapp");
    assert_eq!(whatsapp["thread_key"], "whatsapp:16505551234");
    assert_eq!(whatsapp["contact"]["name"], "Sheena Nelson");
    assert_eq!(whatsapp["last_message"], "Does it come in another color?");
    let x = find("x");
    assert_eq!(x["thread_key"], "dm:3001969357");
    assert_eq!(x["contact"]["name"], "Jordan Brinks");

    let detail = app
        .api_get(
            &token,
            &format!("/api/v1/conversations/{}", messenger["id"]),
        )
        .await;
    let messages = detail["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["text"], "hello, world!");
    assert_eq!(
        messages[0]["platform_id"],
        "mid.1457764197618:41d102a3e1ae206a38"
    );
    assert_eq!(messages[0]["direction"], "inbound");
    assert_eq!(
        messages[0]["created_at"], "2016-03-23T00:25:52.478Z",
        "the platform's time"
    );
    assert_eq!(messages[0]["author"]["platform_id"], "<PSID>");

    let detail = app
        .api_get(&token, &format!("/api/v1/conversations/{}", whatsapp["id"]))
        .await;
    assert_eq!(
        detail["messages"][0]["created_at"],
        "2025-06-08T20:59:43.000Z"
    );
    assert_eq!(
        detail["messages"][0]["platform_id"],
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
    );
    let detail = app
        .api_get(&token, &format!("/api/v1/conversations/{}", x["id"]))
        .await;
    assert_eq!(detail["messages"][0]["text"], "Hello World!");
    assert_eq!(detail["messages"][0]["platform_id"], "954491830116155396");
    assert_eq!(app.db.scalar("SELECT COUNT(*) FROM messages").await, 3);
    app.finish().await;
}

#[tokio::test]
async fn signed_json_we_do_not_understand_is_kept_with_its_error_and_replayable() {
    let app = TestApp::start(TestDatabase::sqlite(), &[]).await;
    let body = br#"{"object":"instagram","entry":[{"id":"1","time":1,"changes":[]}]}"#;
    assert_eq!(
        app.post_signed_webhook("facebook", body).await.status(),
        200
    );
    let admin = app.token("admin").await;
    let failed = app
        .eventually(WAIT, "the failed event", || async {
            let list = app.api_get(&admin, "/api/v1/admin/events").await;
            let items = list["items"].as_array().cloned().unwrap_or_default();
            (!items.is_empty()).then_some(items)
        })
        .await;
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0]["error"].as_str().unwrap().len() > 5,
        "the error is given in words: {}",
        failed[0]
    );
    assert_eq!(
        failed[0]["body"],
        String::from_utf8_lossy(body).as_ref(),
        "the raw body is kept"
    );
    let agent = app.token("agent").await;
    let refused = app
        .http
        .get(app.url("/api/v1/admin/events"))
        .bearer_auth(&agent)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403, "only admins see the event log");
    let id = failed[0]["id"].as_i64().unwrap();
    let replayed = app
        .http
        .post(app.url(&format!("/api/v1/admin/events/{id}/replay")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(replayed.status(), 202);
    // The replay starts the event's attempts afresh (it was pending right after the 202), and
    // a body buzon still cannot read is kept again, unparsed as a whole.
    app.eventually(WAIT, "the replayed event to be kept again", || async {
        let kept_again = app
            .db
            .scalar(&format!("SELECT COUNT(*) FROM inbound_events WHERE id = {id} AND state = 'unparsed' AND attempts = 1 AND unparsed LIKE '%\"$\"%'"))
            .await;
        (kept_again == 1).then_some(())
    })
    .await;
    app.finish().await;
}

#[tokio::test]
async fn live_updates_follow_a_hide_not_only_new_messages() {
    let app = TestApp::start(TestDatabase::sqlite(), &[]).await;
    add_fixture_page(&app).await;
    buzon_tests::web::add_user(&app, "ana@shop.example", "agent").await;
    let session = buzon_tests::web::Session::start(&app, "ana@shop.example").await;
    // The recorded comment, written by a visitor (the recording has the Page as author).
    let mut added: Value =
        serde_json::from_slice(&fixture("facebook/feed_comment_add.json")).unwrap();
    added["entry"][0]["changes"][0]["value"]["from"]["id"] = "7001".into();
    let added = serde_json::to_vec(&added).unwrap();
    assert_eq!(
        app.post_signed_webhook("facebook", &added).await.status(),
        200
    );
    let comment = "901097836652708_903438993085259";
    app.eventually(WAIT, "the comment", || async {
        let stored = app
            .db
            .scalar(&format!(
                "SELECT COUNT(*) FROM messages WHERE platform_id = '{comment}'"
            ))
            .await;
        (stored == 1).then_some(())
    })
    .await;
    let mut events = session.get(&app, "/events").await;
    let first = String::from_utf8_lossy(&events.chunk().await.unwrap().unwrap()).into_owned();
    // Hiding changes no message count and no outbox row: the live version still moves.
    // The Page hides it (the recorded hide, aimed at this comment).
    let hide = String::from_utf8(fixture("facebook/feed_comment_hide.json"))
        .unwrap()
        .replace("900728623356296_900744590021366", comment);
    assert_eq!(
        app.post_signed_webhook("facebook", hide.as_bytes())
            .await
            .status(),
        200
    );
    let next = tokio::time::timeout(WAIT, async {
        loop {
            let chunk = events
                .chunk()
                .await
                .unwrap()
                .expect("the stream stays open");
            let text = String::from_utf8_lossy(&chunk).into_owned();
            if text.contains("data:") && text != first {
                return text;
            }
        }
    })
    .await
    .expect("a live update after the hide");
    assert!(next.starts_with("event: activity"), "{next}");
    assert_eq!(
        app.db
            .scalar(&format!(
                "SELECT hidden FROM messages WHERE platform_id = '{comment}'"
            ))
            .await,
        1
    );
    app.finish().await;
}

/// Webhooks come in any order: a comment's removal processed before the comment itself is
/// kept, and the comment is stored retracted when it comes (it would be shown otherwise, a
/// removed comment back in the queue). A comment nobody removed lands as usual.
async fn a_removal_before_its_comment(engine: buzon_tests::Engine) {
    let Some(db) = TestDatabase::of(engine).await else {
        return;
    };
    let app = TestApp::start(db, &[]).await;
    add_fixture_page(&app).await;
    let token = app.token("viewer").await;
    let removed = "901097836652708_903438993085259";
    let kept = "901097836652708_903438993085260";
    let remove = String::from_utf8(fixture("facebook/feed_comment_remove.json"))
        .unwrap()
        .replace("905578656204626_905579239537901", removed);
    assert_eq!(
        app.post_signed_webhook("facebook", remove.as_bytes())
            .await
            .status(),
        200
    );
    app.eventually(WAIT, "the removal processed", || async {
        (app.db
            .scalar("SELECT COUNT(*) FROM inbound_events WHERE state = 'done'")
            .await
            == 1)
            .then_some(())
    })
    .await;
    assert_eq!(
        app.db.scalar("SELECT COUNT(*) FROM messages").await,
        0,
        "nothing to retract yet"
    );
    // Then the comment, and another by the same visitor that nobody removed.
    for (id, text) in [(removed, "and the next one"), (kept, "still here")] {
        let mut added: Value =
            serde_json::from_slice(&fixture("facebook/feed_comment_add.json")).unwrap();
        let change = &mut added["entry"][0]["changes"][0]["value"];
        change["from"]["id"] = "7001".into();
        change["comment_id"] = id.into();
        change["message"] = text.into();
        let added = serde_json::to_vec(&added).unwrap();
        assert_eq!(
            app.post_signed_webhook("facebook", &added).await.status(),
            200
        );
    }
    // Each comment is a conversation of its own; the API says whether each is removed.
    let deleted = |platform_id: &'static str| {
        let (app, token) = (&app, &token);
        async move {
            app.eventually(WAIT, platform_id, || async {
                let listed = conversations(app, token, 2).await;
                for item in &listed {
                    let id = item["id"].as_i64()?;
                    let detail = app
                        .api_get(token, &format!("/api/v1/conversations/{id}"))
                        .await;
                    if let Some(message) = detail["messages"]
                        .as_array()?
                        .iter()
                        .find(|message| message["platform_id"] == platform_id)
                    {
                        return Some(message["deleted"].clone());
                    }
                }
                None
            })
            .await
        }
    };
    assert_eq!(
        deleted(removed).await,
        Value::Bool(true),
        "stored retracted"
    );
    assert_eq!(deleted(kept).await, Value::Bool(false), "nobody removed it");
    app.finish().await;
}

#[tokio::test]
async fn a_removal_that_comes_before_its_comment_retracts_it_when_it_comes_sqlite() {
    a_removal_before_its_comment(buzon_tests::Engine::Sqlite).await;
}

#[tokio::test]
async fn a_removal_that_comes_before_its_comment_retracts_it_when_it_comes_postgres() {
    a_removal_before_its_comment(buzon_tests::Engine::Postgres).await;
}
