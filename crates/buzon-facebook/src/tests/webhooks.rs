use super::{fixture, id, offline_connector};
use buzon_connector::{
    Connector, ConnectorError, InboundItem, MessageKind, Origin, Part, PlatformMessage,
};
use buzon_core::{Attachment, ConversationKind, NewContact, Timestamp};

/// The parts of a delivery, with their paths.
pub(super) fn webhook_parts(body: &[u8]) -> Vec<Part> {
    offline_connector()
        .normalize(Origin::Webhook, body)
        .expect("the delivery parses")
}

/// What each part of a delivery became, in order.
pub(super) fn webhook(body: &[u8]) -> Vec<InboundItem> {
    webhook_parts(body)
        .into_iter()
        .map(|part| part.item)
        .collect()
}

/// The fixture with one exact piece of text replaced (the replaced text must occur once).
fn fixture_with(name: &str, from: &str, to: &str) -> Vec<u8> {
    let text = String::from_utf8(fixture(name)).expect("fixtures are UTF-8");
    assert_eq!(
        text.matches(from).count(),
        1,
        "{from:?} occurs once in {name}"
    );
    text.replace(from, to).into_bytes()
}

pub(super) fn known(account: &str, kind: &'static str) -> InboundItem {
    InboundItem::Known {
        account: Some(id(account)),
        kind,
    }
}

pub(super) fn unrecognized(account: &str, reason: &str) -> InboundItem {
    InboundItem::Unrecognized {
        account: Some(id(account)),
        reason: reason.into(),
    }
}

fn author(platform_id: &str, name: Option<&str>) -> NewContact {
    NewContact {
        platform_id: id(platform_id),
        name: name.map(str::to_owned),
        handle: None,
    }
}

#[test]
fn the_pages_own_top_level_comment_is_its_own_post() {
    assert_eq!(
        webhook_parts(&fixture("feed_comment_add.json")),
        vec![Part::new(
            "entry[0].changes[0]",
            known("1234567890321", "own_post")
        )]
    );
}

#[test]
fn a_visitors_top_level_comment_threads_by_itself() {
    let body = fixture_with(
        "feed_comment_add.json",
        "\"id\": \"1234567890321\",\n              \"name\"",
        "\"id\": \"555000111222\",\n              \"name\"",
    );
    assert_eq!(
        webhook(&body),
        vec![InboundItem::Message(PlatformMessage {
            account: id("1234567890321"),
            platform_id: id("901097836652708_903438993085259"),
            thread_key: "comment:901097836652708_903438993085259".into(),
            conversation: ConversationKind::Comment,
            kind: MessageKind::Comment,
            author: author("555000111222", Some("Tester")),
            text: "and the next one".into(),
            attachments: vec![],
            created_at: Timestamp::from_secs(1_449_135_003),
            in_reply_to: None,
            raw: None,
            found_by: None,
        })]
    );
}

#[test]
fn a_visitor_post_threads_by_the_post_and_takes_the_entry_time() {
    // The post carries both `from` and the legacy numeric `sender_id`, and no created_time.
    assert_eq!(
        webhook(&fixture("feed_post_add.json")),
        vec![InboundItem::Message(PlatformMessage {
            account: id("1234567890321"),
            platform_id: id("1234567890321_7293787835232"),
            thread_key: "post:1234567890321_7293787835232".into(),
            conversation: ConversationKind::Comment,
            kind: MessageKind::Post,
            author: author("8423678347823", Some("John Doe")),
            text: "Let's check this".into(),
            attachments: vec![],
            created_at: Timestamp::from_secs(1_454_707_020),
            in_reply_to: None,
            raw: None,
            found_by: None,
        })]
    );
}

#[test]
fn a_batched_reply_yields_one_message_per_page_threaded_by_its_parent_comment() {
    let reply = |account: &str| {
        InboundItem::Message(PlatformMessage {
            account: id(account),
            platform_id: id("139560936744456_139620233405726"),
            thread_key: "comment:139560936744456_139562213411528".into(),
            conversation: ConversationKind::Comment,
            kind: MessageKind::Comment,
            author: author("139560936744123", Some("user")),
            text: "Good".into(),
            attachments: vec![],
            created_at: Timestamp::from_secs(1_511_951_015),
            in_reply_to: Some(id("139560936744456_139562213411528")),
            raw: None,
            found_by: None,
        })
    };
    assert_eq!(
        webhook(&fixture("feed_comment_reply_batched_two_pages.json")),
        vec![reply("<PAGE_ID>"), reply("<OTHER_PAGE_ID>")]
    );
}

#[test]
fn the_pages_own_edit_with_a_numeric_legacy_sender_is_its_own_post() {
    // sender_id is the JSON number 1234567890321, which equals the Page id once read as text.
    assert_eq!(
        webhook(&fixture("feed_comment_edited_legacy_sender.json")),
        vec![known("1234567890321", "own_post")]
    );
}

#[test]
fn a_visitors_edit_with_a_numeric_legacy_sender_is_an_edit() {
    // 2^53 + 1: a float would turn it into ...992.
    let body = fixture_with(
        "feed_comment_edited_legacy_sender.json",
        "\"sender_id\": 1234567890321,",
        "\"sender_id\": 9007199254740993,",
    );
    assert_eq!(
        webhook(&body),
        vec![InboundItem::Edited(PlatformMessage {
            account: id("1234567890321"),
            platform_id: id("900728623356296_900744590021366"),
            thread_key: "comment:900728623356296_900744590021366".into(),
            conversation: ConversationKind::Comment,
            kind: MessageKind::Comment,
            author: author("9007199254740993", Some("Tester")),
            text: "Let's see the Webhooks in action :D".into(),
            attachments: vec![],
            created_at: Timestamp::from_secs(1_448_555_737),
            in_reply_to: None,
            raw: None,
            found_by: None,
        })]
    );
}

#[test]
fn a_removed_comment_is_retracted_even_without_message_or_time() {
    assert_eq!(
        webhook(&fixture("feed_comment_remove.json")),
        vec![InboundItem::Removed {
            account: id("1234567890321"),
            platform_id: id("905578656204626_905579239537901"),
        }]
    );
}

#[test]
fn a_hidden_comment_is_reported_hidden_and_an_unhidden_one_shown() {
    assert_eq!(
        webhook(&fixture("feed_comment_hide.json")),
        vec![InboundItem::Hidden {
            account: id("1234567890321"),
            platform_id: id("900728623356296_900744590021366"),
            hidden: true,
        }]
    );
    let unhide = fixture_with(
        "feed_comment_hide.json",
        "\"verb\": \"hide\"",
        "\"verb\": \"unhide\"",
    );
    assert_eq!(
        webhook(&unhide),
        vec![InboundItem::Hidden {
            account: id("1234567890321"),
            platform_id: id("900728623356296_900744590021366"),
            hidden: false,
        }]
    );
}

#[test]
fn a_messenger_text_is_a_direct_message_in_the_senders_thread() {
    assert_eq!(
        webhook(&fixture("messenger_text_message.json")),
        vec![InboundItem::Message(PlatformMessage {
            account: id("<PAGE_ID>"),
            platform_id: id("mid.1457764197618:41d102a3e1ae206a38"),
            thread_key: "messenger:<PSID>".into(),
            conversation: ConversationKind::Messenger,
            kind: MessageKind::Direct,
            author: author("<PSID>", None),
            text: "hello, world!".into(),
            attachments: vec![],
            created_at: Timestamp::from_millis(1_458_692_752_478),
            in_reply_to: None,
            raw: None,
            found_by: None,
        })]
    );
}

#[test]
fn a_messenger_reply_names_the_message_it_answers() {
    assert_eq!(
        webhook(&fixture("messenger_reply_to_message.json")),
        vec![InboundItem::Message(PlatformMessage {
            account: id("<PAGE_ID>"),
            platform_id: id("m_1457764197618:41d102a3e1ae206a38"),
            thread_key: "messenger:<PSID>".into(),
            conversation: ConversationKind::Messenger,
            kind: MessageKind::Direct,
            author: author("<PSID>", None),
            text: "hello, world!".into(),
            attachments: vec![],
            created_at: Timestamp::from_millis(1_458_692_752_478),
            in_reply_to: Some(id("m_1fTq8oLumEyIp3Q2MR-aY7IfLZDamVrALniheU")),
            raw: None,
            found_by: None,
        })]
    );
}

#[test]
fn a_tapped_button_reaches_the_inbox_as_the_customers_message() {
    let body = br#"{"object":"page","entry":[{"id":"111","time":1700000000000,"messaging":[
        {"sender":{"id":"222"},"recipient":{"id":"111"},"timestamp":1700000000003,"postback":{"title":"Talk to a person","payload":"HUMAN","mid":"m_tap"}},
        {"sender":{"id":"222"},"recipient":{"id":"111"},"timestamp":1700000000005,"postback":{"title":"Get Started","payload":"GET_STARTED"}}
    ]}]}"#;
    let items = webhook(body);
    let texts: Vec<(String, String, String)> = items
        .iter()
        .map(|item| match item {
            InboundItem::Message(message) => (
                message.platform_id.to_string(),
                message.author.platform_id.to_string(),
                message.text.clone(),
            ),
            other => panic!("a message, not {other:?}"),
        })
        .collect();
    assert_eq!(
        texts,
        [
            ("m_tap".into(), "222".into(), "Talk to a person".into()),
            (
                "postback:222:1700000000005".into(),
                "222".into(),
                "Get Started".into()
            ),
        ]
    );
}

#[test]
fn messenger_echoes_receipts_and_untitled_postbacks_are_known_and_attachments_kept() {
    let body = br#"{"object":"page","entry":[{"id":"111","time":1700000000000,"messaging":[
        {"sender":{"id":"111"},"recipient":{"id":"222"},"timestamp":1700000000000,"message":{"mid":"m_echo","is_echo":true,"text":"our reply"}},
        {"sender":{"id":222},"recipient":{"id":111},"timestamp":1700000000001,"read":{"watermark":1700000000000}},
        {"sender":{"id":"222"},"recipient":{"id":"111"},"timestamp":1700000000002,"delivery":{"mids":["m_1"],"watermark":1700000000000}},
        {"sender":{"id":"222"},"recipient":{"id":"111"},"timestamp":1700000000003,"postback":{"payload":"GET_STARTED"}},
        {"sender":{"id":"222"},"recipient":{"id":"111"},"timestamp":1700000000004,"message":{"mid":"m_photo","attachments":[{"type":"image","payload":{"url":"https://scontent.example/photo.jpg"}}]}}
    ]}]}"#;
    let items = webhook(body);
    assert_eq!(
        items[..4],
        [
            known("111", "echo"),
            known("111", "read"),
            known("111", "delivery"),
            known("111", "postback"),
        ]
    );
    assert_eq!(
        items[4],
        InboundItem::Message(PlatformMessage {
            account: id("111"),
            platform_id: id("m_photo"),
            thread_key: "messenger:222".into(),
            conversation: ConversationKind::Messenger,
            kind: MessageKind::Direct,
            author: author("222", None),
            text: String::new(),
            attachments: vec![Attachment {
                kind: "image".into(),
                mime_type: None,
                media_id: None,
                url: Some("https://scontent.example/photo.jpg".into()),
                filename: None,
                caption: None,
            }],
            created_at: Timestamp::from_millis(1_700_000_000_004),
            in_reply_to: None,
            raw: None,
            found_by: None,
        })
    );
    assert_eq!(items.len(), 5);
}

#[test]
fn standby_messages_are_read_like_messaging_ones() {
    let body = br#"{"object":"page","entry":[{"id":"111","time":1700000000000,"standby":[
        {"sender":{"id":"333"},"recipient":{"id":"111"},"timestamp":1700000000000,"message":{"mid":"m_standby","text":"hi"}}]}]}"#;
    let items = webhook(body);
    assert!(
        matches!(&items[..], [InboundItem::Message(message)] if message.platform_id == id("m_standby") && message.thread_key == "messenger:333"),
        "{items:?}"
    );
}

#[test]
fn reactions_likes_shares_ratings_are_known_and_unhandled_feed_events_unrecognized() {
    let body = br#"{"object":"page","entry":[{"id":"111","time":1700000000,"changes":[
        {"field":"feed","value":{"item":"reaction","verb":"add","reaction_type":"like","post_id":"111_1","from":{"id":"9","name":"A"}}},
        {"field":"feed","value":{"item":"like","verb":"add","post_id":"111_1","from":{"id":"9","name":"A"}}},
        {"field":"feed","value":{"item":"share","verb":"add","post_id":"111_2","from":{"id":"9","name":"A"}}},
        {"field":"feed","value":{"item":"comment","verb":"block","comment_id":"1_2","post_id":"111_1","from":{"id":"9","name":"A"}}},
        {"field":"ratings","value":{"item":"comment","verb":"add","review_id":"5"}},
        {"field":"feed","value":{"item":"comment","verb":"add","post_id":"111_1","from":{"id":"9","name":"A"},"message":"no id","created_time":1700000000}},
        {"field":"feed","value":{"item":"comment","verb":"add","comment_id":"1_3","post_id":"111_1","message":"no author","created_time":1700000000}},
        {"field":"feed","value":"not an object"}
    ]}]}"#;
    assert_eq!(
        webhook(body),
        vec![
            known("111", "reaction"),
            // A like of a post is a reaction to it; a like of the Page is a `like`.
            known("111", "reaction"),
            known("111", "share"),
            known("111", "block"),
            known("111", "rating"),
            unrecognized("111", "a feed comment without a valid id"),
            unrecognized("111", "a feed comment without an author"),
            unrecognized("111", "a feed change whose value is not an object"),
        ]
    );
}

#[test]
fn a_comment_with_a_photo_keeps_the_photo_and_a_page_status_update_is_its_own_post() {
    let body = br#"{"object":"page","entry":[{"id":"111","time":1700000000,"changes":[
        {"field":"feed","value":{"item":"comment","verb":"add","comment_id":"5_6","post_id":"111_5","parent_id":"111_5","from":{"id":"9","name":"A"},"created_time":1700000001,"photo":"https://scontent.example/c.jpg"}},
        {"field":"feed","value":{"item":"status","verb":"add","post_id":"111_7","published":1,"from":{"id":"111","name":"Shop"},"message":"Example post content.","created_time":1700000002}}
    ]}]}"#;
    let items = webhook(body);
    assert_eq!(items[1], known("111", "own_post"));
    let InboundItem::Message(comment) = &items[0] else {
        panic!("a message: {items:?}");
    };
    assert_eq!(comment.thread_key, "comment:5_6");
    assert_eq!(comment.text, "");
    assert_eq!(comment.attachments.len(), 1);
    assert_eq!(comment.attachments[0].kind, "image");
    assert_eq!(
        comment.attachments[0].url.as_deref(),
        Some("https://scontent.example/c.jpg")
    );
}

#[test]
fn bodies_that_are_not_page_webhooks_are_payload_errors() {
    let connector = offline_connector();
    let whatsapp = br#"{"object":"whatsapp_business_account","entry":[]}"#;
    assert_eq!(
        connector.normalize(Origin::Webhook, whatsapp),
        Err(ConnectorError::Payload(
            "expected a Page webhook (object \"page\"), got object \"whatsapp_business_account\""
                .into()
        ))
    );
    assert!(matches!(
        connector.normalize(Origin::Webhook, b"hello=world"),
        Err(ConnectorError::Payload(reason)) if reason.starts_with("the body is not JSON")
    ));
    // serde's message would quote the string; the reason must not.
    let Err(ConnectorError::Payload(reason)) = connector.normalize(
        Origin::Webhook,
        br#"{"object":"page","entry":"private words"}"#,
    ) else {
        panic!("a payload error");
    };
    assert!(!reason.contains("private"), "{reason}");
    assert_eq!(
        connector.normalize(Origin::Webhook, br#"{"object":"page","entry":[]}"#),
        Ok(vec![])
    );
}
