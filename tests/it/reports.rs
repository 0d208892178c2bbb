//! Response-time figures end to end: customer messages with known platform times arrive as
//! signed webhooks, replies go through the API, and the JSON API, the reports page, its CSV
//! export and the public page, JSON and badge agree with each other and with figures worked out
//! by hand below. Then a person's look: screenshots of the reports page and the badge.

use buzon_tests::app::TestApp;
use buzon_tests::browser::{artifact, chrome_capabilities, start_driver};
use buzon_tests::TestDatabase;
use fantoccini::{ClientBuilder, Locator};
use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::{json, Value};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const WAIT: Duration = Duration::from_secs(30);
const PASSWORD: &str = "a long enough password";
const PHONE_NUMBER_ID: &str = "106540352242922";
const PAGE_ID: &str = "104857601234567";
const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn whatsapp_message(from: &str, name: &str, id: &str, at_millis: i64, text: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": "102290129340398",
            "changes": [{
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
                    "contacts": [{"profile": {"name": name}, "wa_id": from}],
                    "messages": [{
                        "from": from,
                        "id": id,
                        "timestamp": (at_millis / 1000).to_string(),
                        "type": "text",
                        "text": {"body": text}
                    }]
                },
                "field": "messages"
            }]
        }]
    }))
    .unwrap()
}

fn messenger_message(psid: &str, mid: &str, at_millis: i64, text: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "object": "page",
        "entry": [{
            "id": PAGE_ID,
            "time": at_millis,
            "messaging": [{
                "sender": {"id": psid},
                "recipient": {"id": PAGE_ID},
                "timestamp": at_millis,
                "message": {"mid": mid, "text": text}
            }]
        }]
    }))
    .unwrap()
}

async fn cli_ok(app: &TestApp, args: &[&str], stdin: Option<&str>) -> String {
    let output = app.cli(args, stdin).await;
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn channel_id(stdout: &str) -> i64 {
    stdout
        .lines()
        .find_map(|line| {
            line.strip_prefix("channel ")?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("channel add names the id: {stdout}"))
}

async fn post_json(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "POST {path}: {status} {text}");
    serde_json::from_str(&text).unwrap()
}

fn millis_of(rfc3339: &Value) -> i64 {
    let text = rfc3339.as_str().expect("a time");
    let parsed = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .expect("RFC 3339");
    (parsed.unix_timestamp_nanos() / 1_000_000) as i64
}

async fn reply(app: &TestApp, token: &str, conversation: i64, text: &str) -> i64 {
    let message = post_json(
        app,
        token,
        &format!("/api/v1/conversations/{conversation}/replies"),
        json!({ "text": text }),
    )
    .await;
    millis_of(&message["created_at"])
}

/// The nearest-rank percentile, worked out the way the README states it.
fn nearest_rank(samples: &[i64], percent: usize) -> i64 {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let rank = (percent * sorted.len()).div_ceil(100).max(1);
    sorted[rank - 1]
}

/// The `data-value` of the first element with `data-metric="{metric}"`.
fn page_value(html: &str, metric: &str) -> String {
    let marker = format!("data-metric=\"{metric}\" data-value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("the page shows {metric}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

async fn sign_in(app: &TestApp, email: &str) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http.get(app.url("/login")).send().await.unwrap();
    let cookie_of = |response: &reqwest::Response, name: &str| {
        response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .find_map(|value| {
                value
                    .strip_prefix(&format!("{name}="))
                    .map(|rest| rest.split(';').next().unwrap().to_owned())
            })
    };
    let login_cookie = cookie_of(&page, "buzon_login_csrf").expect("login CSRF cookie");
    let html = page.text().await.unwrap();
    let marker = "name=\"_csrf\" value=\"";
    let start = html.find(marker).unwrap() + marker.len();
    let csrf = html[start..].split('"').next().unwrap().to_owned();
    let response = http
        .post(app.url("/login"))
        .header(COOKIE, format!("buzon_login_csrf={login_cookie}"))
        .form(&[("email", email), ("password", PASSWORD), ("_csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    format!(
        "buzon_session={}",
        cookie_of(&response, "buzon_session").expect("a session")
    )
}

async fn get_page(app: &TestApp, path: &str, cookie: &str, language: &str) -> (u16, String) {
    let response = reqwest::Client::new()
        .get(app.url(path))
        .header(COOKIE, cookie)
        .header("accept-language", language)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn api_reports_page_and_public_figures_agree_with_hand_computed_times() {
    figures_agree(TestDatabase::sqlite(), true).await;
}

#[tokio::test]
async fn api_reports_page_and_public_figures_agree_on_postgres() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    figures_agree(db, false).await;
}

async fn figures_agree(db: TestDatabase, screenshots: bool) {
    // The business is open 10:00-24:00 every day in a fixed-offset zone chosen so that it is
    // about 12:00 there now: the morning before 10:00 is closed, and nothing crosses midnight.
    let start = now_millis() / 1000 * 1000;
    let utc_hour = (start / HOUR).rem_euclid(24);
    let offset = 12 - utc_hour;
    let zone = match offset {
        0 => "UTC".to_owned(),
        positive if positive > 0 => format!("Etc/GMT-{positive}"),
        negative => format!("Etc/GMT+{}", -negative),
    };
    // Local now is 12:mm:ss, so 10:00 local was two hours and mm:ss ago.
    let opened_at = start - 2 * HOUR - start.rem_euclid(HOUR);
    let closed_port = format!("http://127.0.0.1:{}/v21.0", buzon_tests::app::free_port());
    let mut env: Vec<(&str, &str)> = vec![
        ("BUZON_HOURS_TIME_ZONE", zone.as_str()),
        ("BUZON_REPORTS_REFRESH_SECS", "1"),
        // Replies stay queued (the platform is unreachable); queued replies count, failed do not.
        ("BUZON_WHATSAPP_API_BASE", closed_port.as_str()),
        ("BUZON_FACEBOOK_API_BASE", closed_port.as_str()),
    ];
    for day in [
        "MONDAY",
        "TUESDAY",
        "WEDNESDAY",
        "THURSDAY",
        "FRIDAY",
        "SATURDAY",
        "SUNDAY",
    ] {
        env.push((
            Box::leak(format!("BUZON_HOURS_{day}").into_boxed_str()),
            "10:00-24:00",
        ));
    }
    let app = TestApp::start(db, &env).await;
    let whatsapp = channel_id(
        &cli_ok(
            &app,
            &[
                "channel",
                "add",
                "whatsapp",
                "--no-check",
                "--phone-number-id",
                PHONE_NUMBER_ID,
                "--access-token",
                "wa-token",
                "--name",
                "Tienda WhatsApp",
            ],
            None,
        )
        .await,
    );
    let facebook = channel_id(
        &cli_ok(
            &app,
            &[
                "channel",
                "add",
                "facebook",
                "--no-check",
                "--page-id",
                PAGE_ID,
                "--page-token",
                "fb-token",
                "--name",
                "Tienda Facebook",
            ],
            None,
        )
        .await,
    );
    // Only WhatsApp is published (as an admin would choose on the channels page).
    app.db
        .raw_execute(&format!(
            "UPDATE channels SET published = 1 WHERE id = {whatsapp}"
        ))
        .await
        .unwrap();
    cli_ok(
        &app,
        &[
            "user",
            "add",
            "ana@shop.example",
            "--role",
            "viewer",
            "--name",
            "Ana",
        ],
        Some(&format!("{PASSWORD}\n")),
    )
    .await;
    let agent = app.token("agent").await;
    let viewer = app.token("viewer").await;

    // A: before opening (09:mm local). B: a burst of two. C: too fresh to judge. D: 26 hours
    // ago, never answered. E: a troll's. F: Messenger, on the unpublished channel.
    let a_at = start - 3 * HOUR;
    let b_at = start - 37 * MINUTE;
    let c_at = start - 20 * MINUTE;
    let d_at = start - 26 * HOUR;
    let e_at = start - 50 * MINUTE;
    let f_at = start - 10 * MINUTE - 250;
    let deliveries = [
        (
            "whatsapp",
            whatsapp_message(
                "34600000001",
                "Alba Cliente",
                "wamid.A1",
                a_at,
                "¿Dónde está mi pedido?",
            ),
        ),
        (
            "whatsapp",
            whatsapp_message("34600000002", "Bruno Cliente", "wamid.B1", b_at, "Hola"),
        ),
        (
            "whatsapp",
            whatsapp_message(
                "34600000002",
                "Bruno Cliente",
                "wamid.B2",
                b_at + 4 * MINUTE,
                "¿Hay talla M?",
            ),
        ),
        (
            "whatsapp",
            whatsapp_message("34600000003", "Clara Cliente", "wamid.C1", c_at, "Gracias"),
        ),
        (
            "whatsapp",
            whatsapp_message(
                "34600000004",
                "Dario Cliente",
                "wamid.D1",
                d_at,
                "Nadie contesta",
            ),
        ),
        (
            "whatsapp",
            whatsapp_message("34600000005", "Troll", "wamid.E1", e_at, "spam spam"),
        ),
        (
            "facebook",
            messenger_message("7000000000000006", "mid.F1", f_at, "Is it in stock?"),
        ),
    ];
    for (platform, body) in &deliveries {
        assert_eq!(app.post_signed_webhook(platform, body).await.status(), 200);
    }
    let conversations: Vec<Value> = app
        .eventually(WAIT, "six conversations", || async {
            let list = app
                .api_get(
                    &viewer,
                    "/api/v1/conversations?status=all&flagged=include&limit=50",
                )
                .await;
            let items = list["items"].as_array().cloned().unwrap_or_default();
            (items.len() >= 6).then_some(items)
        })
        .await;
    // The burst's second message too.
    app.eventually(WAIT, "every message stored", || async {
        let list = app
            .api_get(
                &viewer,
                "/api/v1/conversations?status=all&flagged=include&limit=50",
            )
            .await;
        let text = list.to_string();
        text.contains("¿Hay talla M?").then_some(())
    })
    .await;
    let by_author = |platform_id: &str| -> Value {
        conversations
            .iter()
            .find(|c| c["contact"]["platform_id"] == platform_id)
            .cloned()
            .unwrap_or_else(|| panic!("a conversation of {platform_id}"))
    };
    let (a, b, e, f) = (
        by_author("34600000001"),
        by_author("34600000002"),
        by_author("34600000005"),
        by_author("7000000000000006"),
    );
    let id = |c: &Value| c["id"].as_i64().unwrap();

    post_json(
        &app,
        &agent,
        &format!("/api/v1/contacts/{}/tags", e["contact"]["id"]),
        json!({"add": ["troll"]}),
    )
    .await;
    post_json(
        &app,
        &agent,
        &format!("/api/v1/conversations/{}/tags", id(&a)),
        json!({"add": ["refund"]}),
    )
    .await;
    let a_reply = reply(&app, &agent, id(&a), "Sale hoy.").await;
    let b_reply = reply(&app, &agent, id(&b), "Sí, hay talla M.").await;
    let e_reply = reply(&app, &agent, id(&e), "…").await;
    let f_reply = reply(&app, &agent, id(&f), "Yes!").await;
    // B writes again after the reply (a second burst), gets a second reply, and is resolved.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let b2_at = now_millis() / 1000 * 1000;
    assert!(b2_at > b_reply);
    let body = whatsapp_message(
        "34600000002",
        "Bruno Cliente",
        "wamid.B3",
        b2_at,
        "¡Gracias!",
    );
    assert_eq!(
        app.post_signed_webhook("whatsapp", &body).await.status(),
        200
    );
    app.eventually(WAIT, "the second burst", || async {
        let conversation = app
            .api_get(&viewer, &format!("/api/v1/conversations/{}", id(&b)))
            .await;
        conversation.to_string().contains("¡Gracias!").then_some(())
    })
    .await;
    let b2_reply = reply(&app, &agent, id(&b), "¡A ti!").await;
    let before_resolve = now_millis();
    post_json(
        &app,
        &agent,
        &format!("/api/v1/conversations/{}/status", id(&b)),
        json!({"status": "resolved"}),
    )
    .await;
    let after_resolve = now_millis();

    // Worked out by hand.
    let first_a = a_reply - a_at;
    let first_b = b_reply - b_at;
    let first_e = e_reply - e_at;
    let first_f = f_reply - f_at;
    let business_a = a_reply - opened_at; // A waited from 10:00 local, not from 09:mm.
    assert!(business_a < first_a && business_a > 2 * HOUR);
    let wall_firsts = [first_a, first_b, first_f];
    let business_firsts = [business_a, first_b, first_f];
    let replies = [first_a, first_b, first_f, b2_reply - b2_at];

    // The JSON API, once the refresh has seen the resolution.
    let api = app
        .eventually(WAIT, "the API to count the resolution", || async {
            let api = app.api_get(&viewer, "/api/v1/metrics/response-times").await;
            (api["overall"]["wall"]["resolution"]["count"] == 1
                && api["overall"]["wall"]["reply_time"]["count"] == 4)
                .then_some(api)
        })
        .await;
    let overall = &api["overall"];
    assert_eq!(
        overall["cycles"], 5,
        "A, B, C, D and F; the troll's E is left out: {api}"
    );
    let wall = &overall["wall"];
    assert_eq!(wall["first_response"]["count"], 3);
    assert_eq!(
        wall["first_response"]["median_millis"],
        nearest_rank(&wall_firsts, 50)
    );
    assert_eq!(wall["first_response"]["median_millis"], first_b);
    assert_eq!(wall["first_response"]["p90_millis"], first_a);
    assert_eq!(
        wall["reply_time"]["median_millis"],
        nearest_rank(&replies, 50)
    );
    assert_eq!(wall["reply_time"]["p90_millis"], nearest_rank(&replies, 90));
    // A, B and F answered; D waited over 24 hours; C is not judged yet.
    assert_eq!(
        wall["response_rate"],
        json!({"answered": 3, "judged": 4, "rate": 0.75})
    );
    let resolution = wall["resolution"]["median_millis"].as_i64().unwrap();
    assert!(resolution >= before_resolve - b_at && resolution <= after_resolve - b_at);
    let business = &overall["business"];
    assert_eq!(
        business["first_response"]["median_millis"],
        nearest_rank(&business_firsts, 50)
    );
    assert_eq!(business["first_response"]["p90_millis"], business_a);
    // D has had only 16 opening hours since it wrote: not judged on business hours yet.
    assert_eq!(
        business["response_rate"],
        json!({"answered": 3, "judged": 3, "rate": 1.0})
    );
    let whatsapp_figures = api["by_channel"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["channel_id"] == whatsapp)
        .cloned()
        .expect("WhatsApp figures");
    assert_eq!(
        whatsapp_figures["wall"]["first_response"]["median_millis"],
        first_b
    );
    assert_eq!(
        whatsapp_figures["wall"]["first_response"]["p90_millis"],
        first_a
    );
    assert!(api["by_channel"]
        .as_array()
        .unwrap()
        .iter()
        .any(|entry| entry["channel_id"] == facebook));

    // The troll switch brings E back.
    let with_trolls = app
        .api_get(
            &viewer,
            "/api/v1/metrics/response-times?include_flagged=true",
        )
        .await;
    assert_eq!(with_trolls["overall"]["cycles"], 6);
    assert_eq!(
        with_trolls["overall"]["wall"]["first_response"]["median_millis"],
        nearest_rank(&[first_a, first_b, first_e, first_f], 50)
    );
    // One channel only.
    let facebook_only = app
        .api_get(
            &viewer,
            &format!("/api/v1/metrics/response-times?channel={facebook}"),
        )
        .await;
    assert_eq!(
        facebook_only["overall"]["wall"]["first_response"]["median_millis"],
        first_f
    );
    // Without a token: 401.
    assert_eq!(
        reqwest::get(app.url("/api/v1/metrics/response-times"))
            .await
            .unwrap()
            .status(),
        401
    );

    // The reports page shows the same figures, for a viewer.
    let cookie = sign_in(&app, "ana@shop.example").await;
    let (status, page) = get_page(&app, "/reports", &cookie, "en").await;
    assert_eq!(status, 200);
    assert_eq!(
        page_value(&page, "wall.first_response.median"),
        first_b.to_string()
    );
    assert_eq!(
        page_value(&page, "wall.first_response.p90"),
        first_a.to_string()
    );
    assert_eq!(page_value(&page, "wall.first_response.count"), "3");
    assert_eq!(
        page_value(&page, "business.first_response.p90"),
        business_a.to_string()
    );
    assert_eq!(page_value(&page, "wall.response_rate"), "3/4");
    assert_eq!(page_value(&page, "business.response_rate"), "3/3");
    assert!(
        page.contains("data-key=\"refund\""),
        "the label table lists refund"
    );
    assert!(page.contains("<svg") && page.contains("Erlang C"));
    assert!(
        page.contains("never a mean"),
        "the rules are next to the figures"
    );
    assert!(!page.contains("<script>alert"), "no script from anywhere");
    let (_, spanish) = get_page(&app, "/reports", &cookie, "es").await;
    assert!(spanish.contains("Tiempos de respuesta") && spanish.contains("mediana"));
    // Signed out: to the login page.
    let signed_out = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/reports"))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), 303);

    // The per-conversation export has every timestamp and the same first response times.
    let (status, csv) = get_page(&app, "/reports/export/conversations.csv", &cookie, "en").await;
    assert_eq!(status, 200);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 1 + 5, "{csv}");
    let a_line = lines
        .iter()
        .find(|line| line.starts_with(&format!("{},", id(&a))))
        .expect("A's cycle");
    assert!(a_line.contains(&first_a.to_string()) && a_line.contains(&business_a.to_string()));
    // Staffing: one row per hour of the week; someone is needed in the hours cycles started.
    let (_, staffing) = get_page(&app, "/reports/export/staffing.csv", &cookie, "en").await;
    assert_eq!(staffing.lines().count(), 1 + 7 * 24);
    let staffed = staffing
        .lines()
        .skip(1)
        .filter(|line| line.rsplit(',').next() != Some("0"))
        .count();
    assert!((1..=5).contains(&staffed), "{staffing}");
    for name in [
        "summary", "channels", "agents", "labels", "heatmap", "staffing",
    ] {
        let (status, body) =
            get_page(&app, &format!("/reports/export/{name}.csv"), &cookie, "en").await;
        assert_eq!(status, 200, "{name}");
        assert!(body.lines().count() > 1, "{name}: {body}");
    }

    // The public JSON: WhatsApp only (A, B, C, D), no private data.
    let public: Value = app
        .eventually(WAIT, "the public figures to catch up", || async {
            let response = reqwest::get(app.url("/public/response-times.json"))
                .await
                .unwrap();
            assert_eq!(response.headers()["cache-control"], "public, max-age=60");
            let public: Value = response.json().await.unwrap();
            (public["overall"]["last_30_days"]["first_response"]["count"] == 2).then_some(public)
        })
        .await;
    let month = &public["overall"]["last_30_days"];
    assert_eq!(month["first_response"]["median_millis"], first_b);
    assert_eq!(
        month["first_response"]["median_millis"],
        whatsapp_figures["wall"]["first_response"]["median_millis"]
    );
    assert_eq!(month["first_response"]["p90_millis"], first_a);
    assert_eq!(month["response_rate"]["answered"], 2);
    assert_eq!(month["response_rate"]["judged"], 3);
    assert_eq!(
        public["overall"]["last_7_days"]["first_response"]["median_millis"],
        first_b
    );
    let channels = public["channels"].as_array().unwrap();
    assert_eq!(channels.len(), 1);
    assert_eq!(channels[0]["id"], whatsapp);
    assert_eq!(channels[0]["last_30_days"], *month);
    let minutes = (first_b + MINUTE - 1) / MINUTE;
    let rounded = ((minutes + 4) / 5 * 5).max(5);
    assert_eq!(
        public["overall"]["sentence"],
        format!("Usually replies within {rounded} minutes")
    );
    let text = public.to_string();
    for private in [
        "Alba",
        "Bruno",
        "pedido",
        "34600000001",
        "Tienda Facebook",
        "Ana",
    ] {
        assert!(!text.contains(private), "the public JSON shows {private}");
    }
    let spanish: Value = reqwest::get(app.url("/public/response-times.json?lang=es"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        spanish["overall"]["sentence"],
        format!("Suele responder en menos de {rounded} minutos")
    );
    let page = reqwest::get(app.url("/public/response-times"))
        .await
        .unwrap();
    assert_eq!(page.headers()["cache-control"], "public, max-age=60");
    let page = page.text().await.unwrap();
    assert!(page.contains(&format!("data-value=\"{first_b}\"")));
    assert!(page.contains("/public/badge.svg") && !page.contains("Alba"));
    let badge = reqwest::get(app.url("/public/badge.svg")).await.unwrap();
    assert_eq!(badge.headers()["content-type"], "image/svg+xml");
    let badge = badge.text().await.unwrap();
    assert!(badge.contains(&format!("within {rounded} min")), "{badge}");
    assert_eq!(
        reqwest::get(app.url(&format!("/public/badge.svg?channel={facebook}")))
            .await
            .unwrap()
            .status(),
        404,
        "an unpublished channel has no badge"
    );

    // As a person sees them.
    let driver = if screenshots {
        start_driver().await
    } else {
        None
    };
    if let Some(driver) = driver {
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(chrome_capabilities(1280, 3900))
            .connect(&driver.url)
            .await
            .expect("chromedriver opens a session");
        client.goto(&app.url("/login")).await.unwrap();
        client
            .find(Locator::Css("input[name=email]"))
            .await
            .unwrap()
            .send_keys("ana@shop.example")
            .await
            .unwrap();
        client
            .find(Locator::Css("input[name=password]"))
            .await
            .unwrap()
            .send_keys(PASSWORD)
            .await
            .unwrap();
        client
            .find(Locator::Css("form button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        client.goto(&app.url("/reports")).await.unwrap();
        client
            .find(Locator::Css("table.figures"))
            .await
            .expect("the figures show");
        std::fs::write(artifact("reports.png"), client.screenshot().await.unwrap()).unwrap();
        client
            .goto(&app.url("/public/response-times"))
            .await
            .unwrap();
        std::fs::write(
            artifact("public-response-times.png"),
            client.screenshot().await.unwrap(),
        )
        .unwrap();
        client.close().await.unwrap();
        // The badge as another site embeds it: an <img> on a page of another origin.
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(chrome_capabilities(700, 420))
            .connect(&driver.url)
            .await
            .expect("chromedriver opens a session");
        let embed = serve_once_elsewhere(format!(
            "<!doctype html><body style='margin:24px;font-family:sans-serif'><a href='{0}/public/response-times'><img id='badge' src='{0}/public/badge.svg' height='60' alt='badge'></a><p>Another shop's site embeds the badge with a plain &lt;img&gt;.</p></body>",
            app.base_url
        ))
        .await;
        client.goto(&embed).await.unwrap();
        let mut loaded = 0.0;
        for _ in 0..50 {
            loaded = client
                .execute(
                    "return document.getElementById('badge').naturalWidth;",
                    vec![],
                )
                .await
                .unwrap()
                .as_f64()
                .unwrap_or(0.0);
            if loaded > 0.0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(loaded > 0.0, "the badge loads in another site's page");
        std::fs::write(artifact("badge.png"), client.screenshot().await.unwrap()).unwrap();
        client.close().await.unwrap();
    }
    app.finish().await;
}

/// Serves `html` at a URL of another origin (a port of its own), for embedding checks.
async fn serve_once_elsewhere(html: String) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = [0_u8; 4096];
            let _ = socket.read(&mut request).await;
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{html}",
                html.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
        }
    });
    url
}
