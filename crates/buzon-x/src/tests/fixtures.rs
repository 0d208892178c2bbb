//! Every recorded X payload, parsed into exact values, and the webhook signatures.

use super::{connector, fixture, id, CONSUMER_SECRET};
use crate::{crc_response, XConnector, XSettings, UNKNOWN_AUTHOR};
use buzon_connector::{
    Connector, ConnectorError, HeaderMap, HttpClient, InboundItem, MessageKind, Origin, Part,
    PlatformMessage,
};
use buzon_core::{ConversationKind, ExternalId, NewContact, Timestamp};
use reqwest::header::HeaderValue;
use std::time::Duration;

const DM_SIGNATURE: &str = "sha256=aCq26ZqFrLMxuIzzkzESxsujSR7luMoywf6YlKPUAbM=";
const DELETE_SIGNATURE: &str = "sha256=G3dp/oQwh74eNTVnmJ2rmTW80DjAPBGB67b5heaF3sQ=";

fn signed(signature: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        "x-twitter-webhooks-signature",
        HeaderValue::from_str(signature).expect("signatures are ASCII"),
    );
    headers
}

fn webhook(body: &[u8]) -> Vec<InboundItem> {
    webhook_parts(body)
        .into_iter()
        .map(|part| part.item)
        .collect()
}

fn webhook_parts(body: &[u8]) -> Vec<Part> {
    connector("http://unused.invalid")
        .normalize(Origin::Webhook, body)
        .expect("the delivery parses")
}

fn polled(endpoint: &str, account: &str, body: &[u8]) -> Vec<InboundItem> {
    polled_parts(endpoint, account, body)
        .into_iter()
        .map(|part| part.item)
        .collect()
}

fn polled_parts(endpoint: &str, account: &str, body: &[u8]) -> Vec<Part> {
    connector("http://unused.invalid")
        .normalize(
            Origin::Poll {
                endpoint,
                account: &id(account),
            },
            body,
        )
        .expect("the page parses")
}

fn known(account: &str, kind: &'static str) -> InboundItem {
    InboundItem::Known {
        account: Some(id(account)),
        kind,
    }
}

fn contact(platform_id: &str, name: Option<&str>, handle: Option<&str>) -> NewContact {
    NewContact {
        platform_id: id(platform_id),
        name: name.map(str::to_owned),
        handle: handle.map(str::to_owned),
    }
}

#[test]
fn the_crc_answer_matches_the_readme_example() {
    assert_eq!(
        crc_response("test-consumer-secret", "test-crc-token"),
        r#"{"response_token":"sha256=1Fg22hsV/J0MPCeiX/iZqLqDkZ0S28yOOMIljrsAX9M="}"#
    );
    assert_eq!(
        connector("http://unused.invalid").crc_response("test-crc-token"),
        Some(
            r#"{"response_token":"sha256=1Fg22hsV/J0MPCeiX/iZqLqDkZ0S28yOOMIljrsAX9M="}"#
                .to_owned()
        )
    );
}

#[test]
fn the_listed_signatures_verify_over_the_exact_fixture_bytes() {
    let x = connector("http://unused.invalid");
    let dm = fixture("aaa_direct_message_events.json");
    let delete = fixture("aaa_tweet_delete_events.json");
    assert_eq!(dm.len(), 1606);
    assert_eq!(delete.len(), 242);
    assert_eq!(x.verify_webhook(&signed(DM_SIGNATURE), &dm), Ok(()));
    assert_eq!(x.verify_webhook(&signed(DELETE_SIGNATURE), &delete), Ok(()));
}

#[test]
fn tampered_unsigned_or_wrongly_signed_deliveries_are_rejected() {
    let x = connector("http://unused.invalid");
    let body = fixture("aaa_direct_message_events.json");

    let mut tampered = body.clone();
    let position = tampered
        .windows(5)
        .position(|window| window == b"Hello")
        .expect("the fixture says Hello");
    tampered[position] = b'J';
    assert_eq!(
        x.verify_webhook(&signed(DM_SIGNATURE), &tampered),
        Err(ConnectorError::BadSignature)
    );

    assert_eq!(
        x.verify_webhook(&signed(DELETE_SIGNATURE), &body),
        Err(ConnectorError::BadSignature),
        "another body's signature"
    );
    assert_eq!(
        x.verify_webhook(&HeaderMap::new(), &body),
        Err(ConnectorError::BadSignature),
        "no header"
    );
    assert_eq!(
        x.verify_webhook(&signed("sha256=not base64"), &body),
        Err(ConnectorError::BadSignature)
    );
    assert_eq!(
        x.verify_webhook(&signed(DM_SIGNATURE.trim_start_matches("sha256=")), &body),
        Err(ConnectorError::BadSignature),
        "the prefix is part of the value"
    );

    let settings = |secret: Option<&str>| XSettings {
        api_base: "http://unused.invalid".to_owned(),
        consumer_secret: secret.map(str::to_owned),
        request_timeout: Duration::from_secs(1),
        oauth: None,
    };
    let client = HttpClient::new(Duration::from_secs(1));
    let wrong_secret = XConnector::new(settings(Some("another-secret")), client.clone());
    assert_eq!(
        wrong_secret.verify_webhook(&signed(DM_SIGNATURE), &body),
        Err(ConnectorError::BadSignature)
    );
    for unset in [None, Some("")] {
        let no_secret = XConnector::new(settings(unset), client.clone());
        assert_eq!(
            no_secret.verify_webhook(&signed(DM_SIGNATURE), &body),
            Err(ConnectorError::BadSignature)
        );
        assert_eq!(no_secret.crc_response("test-crc-token"), None);
    }
    assert!(
        !format!("{:?}", settings(Some(CONSUMER_SECRET))).contains(CONSUMER_SECRET),
        "settings never print the secret"
    );
}

#[test]
fn an_activity_dm_finds_its_author_in_users_nested_inside_apps() {
    assert_eq!(
        webhook(&fixture("aaa_direct_message_events.json")),
        vec![InboundItem::Message(PlatformMessage {
            account: id("4337869213"),
            platform_id: id("954491830116155396"),
            thread_key: "dm:3001969357".to_owned(),
            conversation: ConversationKind::XDm,
            kind: MessageKind::Direct,
            author: contact("3001969357", Some("Jordan Brinks"), Some("furiouscamper")),
            text: "Hello World!".to_owned(),
            attachments: Vec::new(),
            created_at: Timestamp::from_millis(1_516_403_560_557),
            in_reply_to: None,
            raw: None,
            found_by: None,
        })]
    );
}

#[test]
fn an_activity_tweet_deletion_removes_the_tweet() {
    assert_eq!(
        webhook(&fixture("aaa_tweet_delete_events.json")),
        vec![InboundItem::Removed {
            account: id("930524282358325248"),
            platform_id: id("1045405559317569537"),
        }]
    );
}

#[test]
fn activity_mentions_thread_on_the_tweet_they_answer_and_skip_our_own() {
    let body = br#"{
        "for_user_id": 2244994945,
        "user_has_blocked": "false",
        "tweet_create_events": [
            {"created_at": "Wed Oct 10 20:19:24 +0000 2018", "id": 1050118621198921728,
             "id_str": "1050118621198921728", "text": "@XDevelopers short text",
             "truncated": true, "extended_tweet": {"full_text": "@XDevelopers the long text \ud83e\udd80 \u00e4"},
             "in_reply_to_status_id_str": "1050118000000000000",
             "user": {"id": 6253282, "id_str": "6253282", "name": "X API", "screen_name": "XAPI"}},
            {"created_at": "Wed Oct 10 20:19:25 +0000 2018", "id_str": "1050118621198921729",
             "text": "@XDevelopers hi", "in_reply_to_status_id_str": null,
             "user": {"id_str": "6253283", "name": "Ana", "screen_name": "ana"}},
            {"created_at": "Wed Oct 10 20:19:26 +0000 2018", "id_str": "1050118621198921730",
             "text": "our own reply", "user": {"id_str": "2244994945", "screen_name": "XDevelopers"}},
            {"created_at": "Wed Oct 10 20:19:27 +0000 2018", "id_str": "1050118621198921731",
             "text": "RT @XDevelopers: hi", "retweeted_status": {"id_str": "1"},
             "user": {"id_str": "6253284", "screen_name": "someone"}}
        ],
        "favorite_events": [{"id": "a"}, {"id": "b"}],
        "user_event": {"revoke": {"date_time": "2018-05-24T09:48:12+00:00"}}
    }"#;
    let items = webhook(body);
    assert_eq!(items.len(), 7, "{items:?}");
    assert_eq!(
        items[0],
        InboundItem::Message(PlatformMessage {
            account: id("2244994945"),
            platform_id: id("1050118621198921728"),
            thread_key: "tweet:1050118000000000000".to_owned(),
            conversation: ConversationKind::XMention,
            kind: MessageKind::Mention,
            author: contact("6253282", Some("X API"), Some("XAPI")),
            text: "@XDevelopers the long text \u{1F980} \u{e4}".to_owned(),
            attachments: Vec::new(),
            created_at: Timestamp::from_millis(1_539_202_764_000),
            in_reply_to: Some(id("1050118000000000000")),
            raw: None,
            found_by: None,
        })
    );
    let InboundItem::Message(second) = &items[1] else {
        panic!("a mention: {:?}", items[1]);
    };
    assert_eq!(second.thread_key, "tweet:1050118621198921729");
    assert_eq!(second.in_reply_to, None);
    assert_eq!(second.text, "@XDevelopers hi");
    assert_eq!(items[2], known("2244994945", "own_post"));
    assert_eq!(items[3], known("2244994945", "retweet"));
    assert_eq!(items[4], known("2244994945", "favorite"));
    assert_eq!(items[4], items[5]);
    assert_eq!(items[6], known("2244994945", "revoke"));
}

#[test]
fn activity_dms_read_a_top_level_users_map_and_skip_our_own() {
    let body = br#"{
        "for_user_id": "4337869213",
        "direct_message_events": [
            {"type": "message_create", "id": "1", "created_timestamp": "1516403560557",
             "message_create": {"target": {"recipient_id": "4337869213"}, "sender_id": "3001969357",
                                "message_data": {"text": "hola"}}},
            {"type": "message_create", "id": "2", "created_timestamp": "1516403560558",
             "message_create": {"target": {"recipient_id": "3001969357"}, "sender_id": "4337869213",
                                "message_data": {"text": "our answer"}}},
            {"type": "participants_join", "id": "3"}
        ],
        "users": {"3001969357": {"id": "3001969357", "name": "Jordan", "screen_name": "jb"}}
    }"#;
    let items = webhook(body);
    let InboundItem::Message(first) = &items[0] else {
        panic!("a DM: {:?}", items[0]);
    };
    assert_eq!(
        first.author,
        contact("3001969357", Some("Jordan"), Some("jb"))
    );
    assert_eq!(first.thread_key, "dm:3001969357");
    assert_eq!(items[1], known("4337869213", "echo"));
    assert!(
        matches!(&items[2], InboundItem::Unrecognized { reason, .. } if reason.contains("participants_join")),
        "the Account Activity API documents only message_create: {:?}",
        items[2]
    );
    assert_eq!(items.len(), 3);
}

#[test]
fn a_documented_mentions_page_reads_author_and_time_from_its_fields() {
    assert_eq!(
        polled("mentions", "2244994945", &fixture("mentions_page.json")),
        vec![InboundItem::Message(PlatformMessage {
            account: id("2244994945"),
            platform_id: id("1301573587187331074"),
            thread_key: "tweet:1301573587187331074".to_owned(),
            conversation: ConversationKind::XMention,
            kind: MessageKind::Mention,
            author: contact("1234567890", Some("Dev Person"), Some("developer")),
            text: "Hey @XDevelopers, love the new API!".to_owned(),
            attachments: Vec::new(),
            created_at: Timestamp::parse_rfc3339("2024-01-15T10:30:00.000Z").expect("a time"),
            in_reply_to: None,
            raw: None,
            found_by: None,
        })]
    );
}

#[test]
fn a_real_default_fields_page_keeps_its_text_exact_and_uses_placeholders() {
    let body = fixture("mentions_page_default_fields_real.json");
    assert_eq!(body.len(), 2189);
    let raw = String::from_utf8(body.clone()).expect("the fixture is UTF-8");
    assert!(
        raw.contains("\\uD83E\\uDD28"),
        "the emoji arrives as an escaped surrogate pair"
    );
    assert!(
        raw.contains('\u{2019}') && raw.contains('\u{2014}'),
        "raw UTF-8 punctuation"
    );

    let expected = [
        ("1578516295611748353", "@Twitter @TwitterSupport this is my ENTIRE feed, why do you think i want this. respond to my ticket. https://t.co/W5GxALkkZd"),
        ("1578516273537118209", "Good @WilliamCohan financial dissection of @elonmusk\u{2019}s @Twitter  deal\u{2014}saying his choice was to pay \u{201C}$12 billion-or-so for nothing, or pay another $10 billion or so and own 78.8% of a private Twitter and control everything.\u{201D} Also: nice headline, @PuckNews. https://t.co/jBgJzKrpZd"),
        ("1578516249856077825", "@KeepusAllFree @AmoonRawh @FatefulHaven @jakeshieldsajj @Twitter Also explains why they\u{2019}re not even doing trials on their boosters. They are laughing at how easily they\u{2019}ve convinced ppl of bs https://t.co/gUCbF0ppL7"),
        ("1578516242867945475", "@MercyKnifed @Twitter what the fuck???"),
        ("1578516230448631808", "@KateTalksTruth @elonmusk Can't @twitter be liable for vaccine injuries if they censor information from a medical doctor like this? Hmmmmm"),
        ("1578516220231397376", "@Twitter make \u{1F928} an available reaction emoji in dms"),
        ("1578516190862794753", "@itsJeffTiedrich @twitter where is the false information banner."),
        ("1578516149339574274", "Hate to say it, but that's a point in Zuck's corner @Twitter"),
        ("1578516142770909184", "@twitter bring back minimized playback for video"),
        ("1578516107798884353", "So, I am down on @elonmusk because of @Twitter purchase, but this is post is BS. https://t.co/g9y9ogoiSO"),
    ];
    let expected: Vec<InboundItem> = expected
        .iter()
        .map(|(tweet_id, text)| {
            InboundItem::Message(PlatformMessage {
                account: id("783214"),
                platform_id: id(tweet_id),
                thread_key: format!("tweet:{tweet_id}"),
                conversation: ConversationKind::XMention,
                kind: MessageKind::Mention,
                author: contact(UNKNOWN_AUTHOR, None, None),
                text: (*text).to_owned(),
                attachments: Vec::new(),
                created_at: Timestamp::from_millis(0),
                in_reply_to: None,
                raw: None,
                found_by: None,
            })
        })
        .collect();
    assert_eq!(polled("mentions", "783214", &body), expected);
}

#[test]
fn requested_fields_give_conversation_reply_and_our_own_tweets_are_skipped() {
    let body = br#"{"data":[
        {"id":"1578516295611748353","text":"@acme where is my order?","author_id":"42",
         "created_at":"2022-10-07T22:00:01.000Z","conversation_id":"1578516000000000000",
         "in_reply_to_user_id":"783214",
         "referenced_tweets":[{"type":"quoted","id":"5"},{"type":"replied_to","id":"1578516100000000000"}]},
        {"id":"1578516295611748354","text":"our reply","author_id":"783214","conversation_id":"1578516000000000000"}
    ],"includes":{"users":[{"id":"42","name":"Ana","username":"ana"}]},
    "errors":[{"title":"Not Found Error","type":"https://api.x.com/2/problems/resource-not-found"}],
    "meta":{"result_count":2,"newest_id":"1578516295611748354","oldest_id":"1578516295611748353"}}"#;
    let items = polled("mentions", "783214", body);
    assert_eq!(
        items[0],
        InboundItem::Message(PlatformMessage {
            account: id("783214"),
            platform_id: id("1578516295611748353"),
            thread_key: "tweet:1578516000000000000".to_owned(),
            conversation: ConversationKind::XMention,
            kind: MessageKind::Mention,
            author: contact("42", Some("Ana"), Some("ana")),
            text: "@acme where is my order?".to_owned(),
            attachments: Vec::new(),
            created_at: Timestamp::parse_rfc3339("2022-10-07T22:00:01.000Z").expect("a time"),
            in_reply_to: Some(id("1578516100000000000")),
            raw: None,
            found_by: None,
        })
    );
    assert_eq!(items[1], known("783214", "own_post"));
    assert_eq!(items.len(), 2);
}

#[test]
fn an_empty_page_holds_nothing() {
    let body = fixture("empty_page_result_count_0.json");
    assert_eq!(body, br#"{"meta":{"result_count":0}}"#);
    assert_eq!(polled("mentions", "783214", &body), Vec::new());
    assert_eq!(polled("dm_events", "783214", &body), Vec::new());
}

#[test]
fn a_recorded_dm_events_page_without_sender_fields_keeps_its_texts() {
    let message = |event_id: &str, text: &str| {
        InboundItem::Message(PlatformMessage {
            account: id("1072250532645998596"),
            platform_id: id(event_id),
            thread_key: format!("dm:{UNKNOWN_AUTHOR}"),
            conversation: ConversationKind::XDm,
            kind: MessageKind::Direct,
            author: contact(UNKNOWN_AUTHOR, None, None),
            text: text.to_owned(),
            attachments: Vec::new(),
            created_at: Timestamp::from_millis(0),
            in_reply_to: None,
            raw: None,
            found_by: None,
        })
    };
    assert_eq!(
        polled(
            "dm_events",
            "1072250532645998596",
            &fixture("dm_events_page.json")
        ),
        vec![
            message("1585800613752881156", "Testing 2"),
            message("1585800613253812228", "Testing 1"),
        ]
    );
}

#[test]
fn requested_dm_fields_thread_on_the_sender_and_skip_our_own() {
    let body = br#"{"data":[
        {"id":"1585800613752881156","event_type":"MessageCreate","text":"hola","sender_id":"750362064426721281",
         "created_at":"2022-10-28T01:02:03.000Z","dm_conversation_id":"750362064426721281-1072250532645998596"},
        {"id":"1585800613253812228","event_type":"MessageCreate","text":"ours","sender_id":"1072250532645998596",
         "created_at":"2022-10-28T01:02:02.000Z","dm_conversation_id":"750362064426721281-1072250532645998596"},
        {"id":"1585800613253812227","event_type":"ParticipantsJoin","sender_id":"750362064426721281"}
    ],"includes":{"users":[{"id":"750362064426721281","name":"Ana","username":"ana"}]},
    "meta":{"result_count":3}}"#;
    let items = polled("dm_events", "1072250532645998596", body);
    assert_eq!(
        items[0],
        InboundItem::Message(PlatformMessage {
            account: id("1072250532645998596"),
            platform_id: id("1585800613752881156"),
            thread_key: "dm:750362064426721281".to_owned(),
            conversation: ConversationKind::XDm,
            kind: MessageKind::Direct,
            author: contact("750362064426721281", Some("Ana"), Some("ana")),
            text: "hola".to_owned(),
            attachments: Vec::new(),
            created_at: Timestamp::parse_rfc3339("2022-10-28T01:02:03.000Z").expect("a time"),
            in_reply_to: None,
            raw: None,
            found_by: None,
        })
    );
    assert_eq!(items[1], known("1072250532645998596", "echo"));
    assert_eq!(items[2], known("1072250532645998596", "participants"));
}

#[test]
fn bodies_that_are_not_json_are_payload_errors_without_their_content() {
    let x = connector("http://unused.invalid");
    let account = id("783214");
    let origins = [
        Origin::Webhook,
        Origin::Poll {
            endpoint: "mentions",
            account: &account,
        },
        Origin::Poll {
            endpoint: "dm_events",
            account: &account,
        },
    ];
    for origin in origins {
        let result = x.normalize(origin, b"<html>secret text</html>");
        assert!(
            matches!(&result, Err(ConnectorError::Payload(reason)) if !reason.contains("secret")),
            "{result:?}"
        );
    }
    // A part in an odd shape no longer spoils its page: it is unrecognized at its path.
    let wrong_type = x.normalize(
        Origin::Poll {
            endpoint: "mentions",
            account: &account,
        },
        br#"{"data":[{"id":"1","text":7}]}"#,
    );
    assert!(
        matches!(
            wrong_type.as_deref(),
            Ok([Part { path, item: InboundItem::Unrecognized { .. } }]) if path == "data[0]"
        ),
        "{wrong_type:?}"
    );
    let without_account = x.normalize(Origin::Webhook, br#"{"tweet_delete_events":[]}"#);
    assert!(matches!(without_account, Err(ConnectorError::Payload(_))));
    let unknown = x.normalize(
        Origin::Poll {
            endpoint: "likes",
            account: &account,
        },
        b"{}",
    );
    assert!(matches!(unknown, Err(ConnectorError::Payload(_))));
}

#[test]
fn large_numeric_ids_never_pass_through_a_float() {
    // 2^63 - 1 and a tweet id above 2^53: a float would round both.
    let body = br#"{"for_user_id": 9223372036854775807,
        "tweet_delete_events": [{"status": {"id": 1578516295611748353, "user_id": 1}}]}"#;
    assert_eq!(
        webhook(body),
        vec![InboundItem::Removed {
            account: ExternalId::parse("9223372036854775807").expect("an id"),
            platform_id: id("1578516295611748353"),
        }]
    );
}
