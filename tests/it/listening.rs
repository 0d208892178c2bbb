//! Listening end to end, on both engines, against the real binary and the sandbox: Facebook
//! Page mentions (fetched, because the webhook carries no text; a repeat lands once, an edit
//! updates, a removal retracts; the tagged edge finds what webhooks missed), Page reviews
//! (stored with their recommendation, answered as a comment on the review), and saved X
//! searches (every post once across polls and pages, retweets out when the query says so, a
//! post that is also a mention is one message, a 429 waits for its reset, an invalid query
//! shows on the channel's health and is not retried in a loop), with promote and dismiss.

use crate::working::call;
use buzon_tests::app::TestApp;
use buzon_tests::sandbox::{
    connect_sandbox_channels, start_with_sandbox, Injection, Sandbox, SandboxConfig, Source,
};
use buzon_tests::web::{add_user, Session};
use buzon_tests::{Engine, TestDatabase};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

const THROUGH: Duration = Duration::from_secs(45);
const SEARCH_ROUTE: &str = "GET /x/2/tweets/search/recent";

/// How many stored messages carry `platform_id`.
async fn stored(app: &TestApp, platform_id: &str) -> i64 {
    app.db
        .scalar(&format!(
            "SELECT COUNT(*) FROM messages WHERE platform_id = '{}'",
            platform_id.replace('\'', "''")
        ))
        .await
}

/// Waits until `platform_id` is stored; returns its conversation as the API lists it (in the
/// queue or the monitoring view) and the message.
async fn landed(app: &TestApp, token: &str, platform_id: &str) -> (Value, Value) {
    app.eventually(THROUGH, &format!("message {platform_id}"), || async {
        if stored(app, platform_id).await == 0 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            return None;
        }
        let conversation = app
            .db
            .scalar(&format!(
                "SELECT conversation_id FROM messages WHERE platform_id = '{platform_id}'"
            ))
            .await;
        let detail = app
            .api_get(token, &format!("/api/v1/conversations/{conversation}"))
            .await;
        let message = detail["messages"]
            .as_array()?
            .iter()
            .find(|message| message["platform_id"] == platform_id)?
            .clone();
        Some((detail, message))
    })
    .await
}

/// The ids of a view's conversations (`queue` or `monitoring`), every status.
async fn view_ids(app: &TestApp, token: &str, view: &str) -> Vec<i64> {
    let page = app
        .api_get(
            token,
            &format!("/api/v1/conversations?view={view}&status=all&limit=200"),
        )
        .await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_i64().unwrap())
        .collect()
}

fn x_post(text: &str) -> Injection {
    Injection::new(Source::XPost, text)
}

async fn page_mentions_and_reviews(engine: Engine) {
    let Some(db) = TestDatabase::of(engine).await else {
        return;
    };
    let config = SandboxConfig::default();
    let (app, sandbox) = start_with_sandbox(db, config.clone(), &[]).await;
    connect_sandbox_channels(&app, &config).await;
    let viewer = app.token("viewer").await;
    let agent = app.token("agent").await;

    // Connecting the Page subscribed it to the fields listening reads.
    let fields = sandbox.subscribed_fields();
    for field in ["feed", "mention", "ratings", "messages"] {
        assert!(
            fields.iter().any(|known| known == field),
            "{field} in {fields:?}"
        );
    }

    // A mention elsewhere, delivered twice, lands once with the post's text and author.
    let delivered_before = sandbox.stats().webhooks_delivered;
    let mut mention = Injection::new(
        Source::FacebookMention,
        "tiendabuzon me cobró dos veces y nadie contesta",
    )
    .by("70001", "Ana Ruiz");
    mention.repeat = Some(2);
    let item = sandbox
        .inject(mention)
        .expect("the sandbox takes a mention");
    app.eventually(THROUGH, "both deliveries of the mention", || async {
        (sandbox.stats().webhooks_delivered >= delivered_before + 2).then_some(())
    })
    .await;
    let (conversation, message) = landed(&app, &viewer, &item.id).await;
    assert!(
        message["text"]
            .as_str()
            .unwrap()
            .contains("me cobró dos veces y nadie contesta"),
        "{message}"
    );
    assert_eq!(
        conversation["contact"]["name"], "Ana Ruiz",
        "{conversation}"
    );
    assert_eq!(conversation["found_by"], "mention");
    assert_eq!(conversation["kind"], "page_mention");
    assert_eq!(conversation["monitor"], "watching");
    let mention_conversation = conversation["id"].as_i64().unwrap();
    assert!(view_ids(&app, &viewer, "monitoring")
        .await
        .contains(&mention_conversation));
    assert!(!view_ids(&app, &viewer, "queue")
        .await
        .contains(&mention_conversation));
    // Whatever else arrives meanwhile, it stays one message.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(stored(&app, &item.id).await, 1);

    // An edit updates it; a removal retracts it.
    sandbox
        .edit_item(&item.id, "tiendabuzon ya me devolvió el dinero, gracias")
        .expect("the sandbox edits the mention");
    app.eventually(THROUGH, "the edit of the mention", || async {
        let (_, message) = landed(&app, &viewer, &item.id).await;
        message["text"]
            .as_str()?
            .contains("ya me devolvió el dinero")
            .then_some(())
    })
    .await;
    assert_eq!(stored(&app, &item.id).await, 1);
    sandbox
        .remove_item(&item.id)
        .expect("the sandbox removes the mention");
    app.eventually(THROUGH, "the removal of the mention", || async {
        let (_, message) = landed(&app, &viewer, &item.id).await;
        (message["deleted"] == true).then_some(())
    })
    .await;

    // A mention whose webhook never came is found by the reconcile poll of the tagged edge.
    let mut missed = Injection::new(Source::FacebookMention, "¿alguien compró en tiendabuzon?");
    missed.repeat = Some(0);
    let missed = sandbox.inject(missed).expect("the sandbox takes a mention");
    let (conversation, _) = landed(&app, &viewer, &missed.id).await;
    assert_eq!(conversation["found_by"], "mention");

    // Dismissing takes it out of sight; a viewer changes nothing.
    let missed_conversation = conversation["id"].as_i64().unwrap();
    let (status, _) = call(
        &app,
        Method::POST,
        &viewer,
        &format!("/api/v1/conversations/{missed_conversation}/dismiss"),
        None,
    )
    .await;
    assert_eq!(status, 403);
    let (status, body) = call(
        &app,
        Method::POST,
        &agent,
        &format!("/api/v1/conversations/{missed_conversation}/dismiss"),
        None,
    )
    .await;
    assert_eq!((status, body["now_in"].as_str()), (200, Some("dismissed")));
    assert!(!view_ids(&app, &viewer, "monitoring")
        .await
        .contains(&missed_conversation));
    let (status, body) = call(
        &app,
        Method::POST,
        &agent,
        &format!("/api/v1/conversations/{missed_conversation}/dismiss"),
        None,
    )
    .await;
    assert_eq!(status, 409, "dismissed already: {body}");
    // A dismissal can be undone: promoting brings it into the queue; then it is neither.
    let (status, _) = call(
        &app,
        Method::POST,
        &agent,
        &format!("/api/v1/conversations/{missed_conversation}/promote"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert!(view_ids(&app, &viewer, "queue")
        .await
        .contains(&missed_conversation));
    for action in ["promote", "dismiss"] {
        let (status, body) = call(
            &app,
            Method::POST,
            &agent,
            &format!("/api/v1/conversations/{missed_conversation}/{action}"),
            None,
        )
        .await;
        assert_eq!(status, 409, "{action} outside the monitoring view: {body}");
    }

    // A negative review lands with its recommendation, goes into the queue on its own, and
    // is answered with a comment on the review.
    let mut review = Injection::new(Source::FacebookReview, "Nunca llegó mi pedido");
    review.recommendation = Some("negative".into());
    let review = sandbox.inject(review).expect("the sandbox takes a review");
    let (conversation, message) = landed(&app, &viewer, &review.id).await;
    assert_eq!(message["text"], "Nunca llegó mi pedido");
    assert_eq!(conversation["found_by"], "review");
    assert_eq!(conversation["recommendation"], "negative");
    assert_eq!(conversation["kind"], "page_review");
    let review_conversation = conversation["id"].as_i64().unwrap();
    app.eventually(THROUGH, "the negative review in the queue", || async {
        view_ids(&app, &viewer, "queue")
            .await
            .contains(&review_conversation)
            .then_some(())
    })
    .await;
    let answer = "Lamentamos el retraso: te escribimos por privado para resolverlo hoy.";
    let (status, body) = call(
        &app,
        Method::POST,
        &agent,
        &format!("/api/v1/conversations/{review_conversation}/replies"),
        Some(&json!({ "text": answer })),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    app.eventually(THROUGH, "the answer on the review", || async {
        sandbox
            .replies()
            .into_iter()
            .find(|reply| reply.accepted && reply.text.as_deref() == Some(answer))
    })
    .await;
    let accepted: Vec<_> = sandbox
        .replies()
        .into_iter()
        .filter(|reply| reply.accepted && reply.text.as_deref() == Some(answer))
        .collect();
    assert_eq!(accepted.len(), 1, "{accepted:?}");
    assert_eq!(accepted[0].target_id, review.id, "a comment on the review");

    // A positive review waits in the monitoring view; promoting it moves it into the queue,
    // where its wait counts from the promotion.
    // Written an hour ago: its response time must count from the promotion, not from then.
    let mut praise = Injection::new(Source::FacebookReview, "Todo perfecto, muy rápidos");
    praise.recommendation = Some("positive".into());
    praise.at = Some(buzon_core::Timestamp::now().as_millis() / 1000 - 3600);
    let praise = sandbox.inject(praise).expect("the sandbox takes a review");
    let (conversation, _) = landed(&app, &viewer, &praise.id).await;
    assert_eq!(conversation["recommendation"], "positive");
    let praise_conversation = conversation["id"].as_i64().unwrap();
    app.eventually(
        THROUGH,
        "the rules to look at the positive review",
        || async { (app.db.scalar("SELECT COUNT(*) FROM rule_checks").await == 0).then_some(()) },
    )
    .await;
    assert!(view_ids(&app, &viewer, "monitoring")
        .await
        .contains(&praise_conversation));
    let before = buzon_core::Timestamp::now();
    let (status, body) = call(
        &app,
        Method::POST,
        &agent,
        &format!("/api/v1/conversations/{praise_conversation}/promote"),
        None,
    )
    .await;
    assert_eq!((status, body["now_in"].as_str()), (200, Some("queue")));
    let promoted = app
        .api_get(
            &viewer,
            &format!("/api/v1/conversations/{praise_conversation}"),
        )
        .await;
    assert_eq!(promoted["monitor"], Value::Null);
    let promoted_at =
        buzon_core::Timestamp::parse_rfc3339(promoted["promoted_at"].as_str().unwrap()).unwrap();
    assert!(promoted_at >= before.plus_millis(-1000));
    let waiting_since =
        buzon_core::Timestamp::parse_rfc3339(promoted["waiting_since"].as_str().unwrap()).unwrap();
    assert!(
        waiting_since >= promoted_at,
        "the wait counts from the promotion: {promoted}"
    );
    assert!(view_ids(&app, &viewer, "queue")
        .await
        .contains(&praise_conversation));
    let thanks = "¡Gracias por tu reseña!";
    let (status, _) = call(
        &app,
        Method::POST,
        &agent,
        &format!("/api/v1/conversations/{praise_conversation}/replies"),
        Some(&json!({ "text": thanks })),
    )
    .await;
    assert_eq!(status, 202);
    // Two first responses (the two reviews; the mentions were never promoted), both within
    // minutes: the hour the praise waited unseen in the monitoring view does not count.
    let figures = app
        .eventually(THROUGH, "both first responses in the figures", || async {
            let figures = app.api_get(&viewer, "/api/v1/metrics/response-times").await;
            (figures["overall"]["wall"]["first_response"]["count"] == 2).then_some(figures)
        })
        .await;
    let slowest = figures["overall"]["wall"]["first_response"]["p90_millis"]
        .as_i64()
        .unwrap();
    assert!(
        slowest < 10 * 60 * 1000,
        "counted from the promotion, not from the review: {slowest} ms"
    );
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_mentions_and_reviews_land_once_update_retract_and_are_answered_sqlite() {
    page_mentions_and_reviews(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_mentions_and_reviews_land_once_update_retract_and_are_answered_postgres() {
    page_mentions_and_reviews(Engine::Postgres).await;
}

/// Spends the recent-search budget of the sandbox's X app from outside buzon, as another
/// client of the same app would; returns when X's answers are 429s, with the reset (Unix
/// seconds) X gave.
async fn drain_search_budget(sandbox: &Sandbox, token: &str) -> i64 {
    let client = reqwest::Client::new();
    for _ in 0..1000 {
        let response = client
            .get(format!("{}/2/tweets/search/recent", sandbox.x_base()))
            .query(&[("query", "nothing-matches-this")])
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        if response.status().as_u16() == 429 {
            return response
                .headers()
                .get("x-rate-limit-reset")
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.parse().ok())
                .expect("a 429 names its reset");
        }
    }
    panic!("the search budget never ran out");
}

fn search_requests(sandbox: &Sandbox) -> u64 {
    sandbox
        .stats()
        .requests
        .get(SEARCH_ROUTE)
        .copied()
        .unwrap_or_default()
}

async fn saved_searches(engine: Engine) {
    let Some(db) = TestDatabase::of(engine).await else {
        return;
    };
    // A short window with room for a request a second, so the test sees a reset.
    let config = SandboxConfig {
        x_search_rate_limit_per_window: 30,
        x_rate_limit_window: Duration::from_secs(12),
        ..SandboxConfig::default()
    };
    let (app, sandbox) = start_with_sandbox(db, config.clone(), &[]).await;
    let channels = connect_sandbox_channels(&app, &config).await;
    let admin = app.token("admin").await;
    let agent = app.token("agent").await;
    let viewer = app.token("viewer").await;
    let searches = format!("/api/v1/channels/{}/searches", channels.x);

    // Bad input changes nothing: an empty or over-long query, an agent, a Facebook channel.
    for (token, body, expected) in [
        (&admin, json!({"query": "  "}), 422),
        (&admin, json!({"query": "a".repeat(513)}), 422),
        (
            &admin,
            json!({"query": "tiendabuzon", "promote": "often"}),
            422,
        ),
        (&agent, json!({"query": "tiendabuzon"}), 403),
    ] {
        let (status, answer) = call(&app, Method::POST, token, &searches, Some(&body)).await;
        assert_eq!(status, expected, "{body} → {answer}");
    }
    let (status, _) = call(
        &app,
        Method::POST,
        &admin,
        &format!("/api/v1/channels/{}/searches", channels.facebook),
        Some(&json!({"query": "tiendabuzon"})),
    )
    .await;
    assert_eq!(status, 400, "saved searches are for X channels");
    assert_eq!(
        app.db.scalar("SELECT COUNT(*) FROM saved_searches").await,
        0
    );

    // Posts already there when the search is saved: more than a page (100), a retweet, and a
    // post that also mentions the account.
    let mut found: Vec<String> = Vec::new();
    for n in 0..130 {
        let item = sandbox
            .inject(x_post(&format!(
                "tiendabuzon: pedido {n} sin noticias desde el lunes"
            )))
            .unwrap();
        found.push(item.id);
    }
    let mut retweet = x_post("tiendabuzon: el peor servicio del año");
    retweet.retweet = true;
    let retweet = sandbox.inject(retweet).unwrap();
    let also_mention = sandbox
        .inject(Injection::new(
            Source::X,
            "tiendabuzon ¿me contestan por aquí?",
        ))
        .unwrap();

    let (status, search) = call(
        &app,
        Method::POST,
        &admin,
        &searches,
        Some(&json!({"query": "tiendabuzon -is:retweet", "promote": "none"})),
    )
    .await;
    assert_eq!(status, 201, "{search}");
    let search_id = search["id"].as_i64().unwrap();

    // Every post once, across the two pages; the retweet stays out; the mention is one message
    // in the queue, not a find.
    app.eventually(Duration::from_secs(90), "every found post", || async {
        let mut missing = 0;
        for id in &found {
            if stored(&app, id).await == 0 {
                missing += 1;
            }
        }
        if missing > 0 {
            tokio::time::sleep(Duration::from_millis(500)).await;
            return None;
        }
        Some(())
    })
    .await;
    let (mention_conversation, _) = landed(&app, &viewer, &also_mention.id).await;
    assert_eq!(mention_conversation["found_by"], Value::Null);
    assert_eq!(mention_conversation["monitor"], Value::Null);
    for id in &found {
        assert_eq!(stored(&app, id).await, 1, "post {id} is stored once");
    }
    assert_eq!(stored(&app, &also_mention.id).await, 1);
    assert_eq!(
        stored(&app, &retweet.id).await,
        0,
        "-is:retweet keeps it out"
    );
    let monitoring = view_ids(&app, &viewer, "monitoring").await;
    assert_eq!(
        monitoring.len(),
        130,
        "each find waits in the monitoring view"
    );
    assert_eq!(
        app.db
            .scalar(&format!(
                "SELECT COUNT(*) FROM messages WHERE search_id = {search_id}"
            ))
            .await,
        130
    );

    // Later posts come in on later polls, once.
    let mut later = Vec::new();
    for n in 0..3 {
        later.push(
            sandbox
                .inject(x_post(&format!("tiendabuzon otra vez sin respuesta ({n})")))
                .unwrap()
                .id,
        );
    }
    for id in &later {
        landed(&app, &viewer, id).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    for id in found.iter().chain(&later) {
        assert_eq!(stored(&app, id).await, 1, "post {id} is stored once");
    }

    // Another client spends the budget: buzon's next request meets a 429 and waits for the
    // reset, without asking again before it.
    let reset = drain_search_budget(&sandbox, &config.x_token).await;
    let answered_429 = sandbox.stats().responses_429;
    let waiting = sandbox
        .inject(x_post("tiendabuzon sigue sin contestar"))
        .unwrap();
    app.eventually(THROUGH, "buzon to meet the 429", || async {
        (sandbox.stats().responses_429 > answered_429).then_some(())
    })
    .await;
    let asked = search_requests(&sandbox);
    let reset_at = std::time::UNIX_EPOCH + Duration::from_secs(reset as u64);
    while std::time::SystemTime::now() + Duration::from_millis(300) < reset_at {
        assert_eq!(
            search_requests(&sandbox),
            asked,
            "no search request before X's reset"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    landed(&app, &viewer, &waiting.id).await;

    // An invalid query shows X's error on the channel's health and is not tried in a loop.
    let (status, bad) = call(
        &app,
        Method::POST,
        &admin,
        &searches,
        Some(&json!({"query": "tiendabuzon foo:bar"})),
    )
    .await;
    assert_eq!(status, 201, "{bad}");
    let bad_id = bad["id"].as_i64().unwrap();
    let health = app
        .eventually(THROUGH, "the refused query on the health", || async {
            let health = app
                .api_get(&admin, &format!("/api/v1/channels/{}/health", channels.x))
                .await;
            health["searches"]
                .as_array()?
                .iter()
                .find(|search| search["id"] == bad_id && search["error"].is_string())
                .cloned()
        })
        .await;
    assert!(
        health["error"].as_str().unwrap().contains("400"),
        "X's answer is shown: {health}"
    );
    let polled_once = health["last_polled_at"].clone();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let health = app
        .api_get(&admin, &format!("/api/v1/channels/{}/health", channels.x))
        .await;
    let again = health["searches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|search| search["id"] == bad_id)
        .unwrap()
        .clone();
    assert_eq!(again["last_polled_at"], polled_once, "not retried: {again}");
    let good = health["searches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|search| search["id"] == search_id)
        .unwrap();
    assert_eq!(good["error"], Value::Null, "{good}");

    // An admin changes a search's promotion on the channel's page (the same use case as the
    // API's PUT): the query stays, so its cursor does too.
    add_user(&app, "marta@shop.example", "admin").await;
    let marta = Session::start(&app, "marta@shop.example").await;
    let changed = marta
        .post(
            &app,
            &format!("/admin/channels/{}/searches/{search_id}", channels.x),
            &[("query", "tiendabuzon -is:retweet"), ("promote", "all")],
        )
        .await;
    assert_eq!(changed.status(), 303);
    let (_, listed) = call(&app, Method::GET, &viewer, &searches, None).await;
    let changed = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|search| search["id"] == search_id)
        .unwrap()
        .clone();
    assert_eq!(changed["promote"], "all", "{changed}");

    // The reports count what each search found.
    add_user(&app, "vera@shop.example", "viewer").await;
    let session = Session::start(&app, "vera@shop.example").await;
    let html = session.get(&app, "/reports").await.text().await.unwrap();
    assert!(html.contains("id=\"listening\""), "the listening table");
    assert!(
        html.contains("tiendabuzon -is:retweet"),
        "named by its query"
    );
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_searches_bring_each_post_once_and_respect_x_limits_sqlite() {
    saved_searches(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_searches_bring_each_post_once_and_respect_x_limits_postgres() {
    saved_searches(Engine::Postgres).await;
}

/// The monitoring view in a real Chromium, by keyboard alone: it lists what the saved search
/// found, `m` promotes the selected find into the queue and `x` dismisses the next; the
/// reports page counts the search's finds by its query. Screenshots in both languages.
#[tokio::test]
async fn the_monitoring_view_promotes_and_dismisses_by_keyboard() {
    use crate::browser::{body_keys, browser, sign_in_as, until};
    use buzon_tests::browser::{artifact, start_driver};
    let Some(driver) = start_driver().await else {
        return;
    };
    let config = SandboxConfig {
        x_search_rate_limit_per_window: 900,
        ..SandboxConfig::default()
    };
    let (app, sandbox) = start_with_sandbox(TestDatabase::sqlite(), config.clone(), &[]).await;
    let channels = connect_sandbox_channels(&app, &config).await;
    let admin = app.token("admin").await;
    add_user(&app, "ana@shop.example", "agent").await;
    let (status, _) = call(
        &app,
        Method::POST,
        &admin,
        &format!("/api/v1/channels/{}/searches", channels.x),
        Some(&json!({"query": "\"tienda buzón\" -is:retweet"})),
    )
    .await;
    assert_eq!(status, 201);
    for text in [
        "Tienda Buzón tiene las mejores zapatillas",
        "¿Alguien ha comprado en Tienda Buzón?",
        "Tienda Buzón: tercer día sin respuesta",
    ] {
        sandbox.inject(x_post(text)).unwrap();
    }
    app.eventually(THROUGH, "three finds", || async {
        (app.db
            .scalar("SELECT COUNT(*) FROM conversations WHERE monitor = 'watching'")
            .await
            == 3)
            .then_some(())
    })
    .await;

    let client = browser(&driver.url).await;
    sign_in_as(
        &client,
        &app.base_url,
        "ana@shop.example",
        buzon_tests::web::PASSWORD,
    )
    .await;
    client
        .goto(&app.url("/inbox?view=monitoring"))
        .await
        .unwrap();
    until(
        &client,
        "three finds listed",
        "document.querySelectorAll('#queue .row').length === 3",
    )
    .await;
    let labels = client
        .execute(
            "return Array.from(document.querySelectorAll('#queue .row .mark.found')).map(e => e.textContent);",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        labels
            .as_array()
            .unwrap()
            .iter()
            .all(|label| label.as_str().unwrap().contains("tienda buzón")),
        "each row says which search found it: {labels}"
    );
    std::fs::write(
        artifact("monitoring-en.png"),
        client.screenshot().await.unwrap(),
    )
    .unwrap();

    // j selects the first find, m promotes it: the page comes back with one find fewer.
    body_keys(&client, "j").await;
    body_keys(&client, "m").await;
    until(
        &client,
        "two finds left",
        "location.search.includes('done=promoted') && document.querySelectorAll('#queue .row').length === 2",
    )
    .await;
    assert_eq!(
        app.db
            .scalar("SELECT COUNT(*) FROM conversations WHERE found_by = 'search' AND monitor IS NULL AND promoted_at IS NOT NULL")
            .await,
        1
    );
    // x dismisses the (now selected) first of the rest.
    body_keys(&client, "x").await;
    until(
        &client,
        "one find left",
        "location.search.includes('done=dismissed') && document.querySelectorAll('#queue .row').length === 1",
    )
    .await;
    assert_eq!(
        app.db
            .scalar("SELECT COUNT(*) FROM conversations WHERE monitor = 'dismissed'")
            .await,
        1
    );
    assert_eq!(
        app.db
            .scalar("SELECT COUNT(*) FROM audit_log WHERE action IN ('conversation.promote', 'conversation.dismiss')")
            .await,
        2
    );

    // The reports count the search's finds, by its query.
    client.goto(&app.url("/reports")).await.unwrap();
    until(
        &client,
        "the listening table",
        "document.querySelector('#listening') && document.querySelector('#listening').textContent.includes('tienda buzón') && document.querySelector('#listening td.num').textContent.trim() === '3'",
    )
    .await;
    client
        .execute(
            "document.getElementById('table-listening').scrollIntoView();",
            vec![],
        )
        .await
        .unwrap();
    std::fs::write(
        artifact("reports-listening-en.png"),
        client.screenshot().await.unwrap(),
    )
    .unwrap();

    // The same view in Spanish.
    client
        .goto(&app.url("/inbox?view=monitoring"))
        .await
        .unwrap();
    client
        .find(fantoccini::Locator::Css(
            "form[action='/lang'] button[lang=es]",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until(&client, "Spanish", "document.documentElement.lang === 'es'").await;
    client
        .goto(&app.url("/inbox?view=monitoring"))
        .await
        .unwrap();
    until(
        &client,
        "the Spanish monitoring view",
        "document.querySelector('h1').textContent.includes('Monitorización')",
    )
    .await;
    std::fs::write(
        artifact("monitoring-es.png"),
        client.screenshot().await.unwrap(),
    )
    .unwrap();
    client.close().await.unwrap();
    app.finish().await;
}
