//! Every part gets exactly one outcome: each known kind, the unrecognized ones, the paths,
//! loose wire types, and the salvage of customers' words. Payload shapes follow Meta's
//! webhook references and restfb's recorded fixtures (`src/test/resources/json/webhooks/`).

use super::id;
use super::webhooks::{known, unrecognized, webhook, webhook_parts};
use crate::KNOWN_EVENTS;
use buzon_connector::{
    unsupported_placeholder, Connector, InboundItem, MessageKind, Origin, Part, PlatformMessage,
};
use buzon_core::{Attachment, ConversationKind, NewContact, Timestamp};
use std::collections::BTreeSet;

const PAGE: &str = "111";

/// A Messenger delivery of one event (given without its braces' sender/recipient).
fn messaging(event: &str) -> String {
    format!(
        r#"{{"object":"page","entry":[{{"id":"{PAGE}","time":1700000000000,"messaging":[{{"sender":{{"id":"222"}},"recipient":{{"id":"{PAGE}"}},"timestamp":1700000000123,{event}}}]}}]}}"#
    )
}

/// A Page delivery of one change.
fn change(field: &str, value: &str) -> String {
    format!(
        r#"{{"object":"page","entry":[{{"id":"{PAGE}","time":1700000000,"changes":[{{"field":"{field}","value":{value}}}]}}]}}"#
    )
}

fn feed(value: &str) -> String {
    change("feed", value)
}

/// The one item of a one-part delivery.
fn only(body: &str) -> InboundItem {
    let mut items = webhook(body.as_bytes());
    assert_eq!(items.len(), 1, "one part: {items:?}");
    items.remove(0)
}

/// A message from the customer `222`, as the Messenger tests expect it.
fn direct(mid: &str, text: &str, attachments: Vec<Attachment>) -> PlatformMessage {
    PlatformMessage {
        account: id(PAGE),
        platform_id: id(mid),
        thread_key: "messenger:222".into(),
        conversation: ConversationKind::Messenger,
        kind: MessageKind::Direct,
        author: NewContact {
            platform_id: id("222"),
            name: None,
            handle: None,
        },
        text: text.into(),
        attachments,
        created_at: Timestamp::from_millis(1_700_000_000_123),
        in_reply_to: None,
        raw: None,
        found_by: None,
    }
}

fn media(kind: &str, url: Option<&str>, caption: Option<&str>) -> Attachment {
    Attachment {
        kind: kind.into(),
        mime_type: None,
        media_id: None,
        url: url.map(str::to_owned),
        filename: None,
        caption: caption.map(str::to_owned),
    }
}

/// The JSON of the first `messaging[]` event of a delivery built by [`messaging`], as sent.
fn first_event(body: &str) -> String {
    let start = body.find("\"messaging\":[").expect("a messaging list") + "\"messaging\":[".len();
    let end = body.rfind("]}]}").expect("the envelope's end");
    body[start..end].to_owned()
}

// ---- one test per known kind ----------------------------------------------------------------

/// One delivery per known kind (restfb fixture shapes), with the kind it must give.
fn known_kind_samples() -> Vec<(&'static str, String)> {
    vec![
        // messaging-message-basic-echo.json
        (
            "echo",
            messaging(
                r#""message":{"mid":"m_1","seq":73,"text":"hello","is_echo":true,"app_id":1517776481860111,"metadata":"X"}"#,
            ),
        ),
        (
            "read",
            messaging(r#""read":{"watermark":1458668856253,"seq":38}"#),
        ),
        (
            "delivery",
            messaging(
                r#""delivery":{"mids":["mid.1458668856218:ed81099e15d3f4f233"],"watermark":1458668856253,"seq":37}"#,
            ),
        ),
        // feed-status-add-photos.json: the Page's own post.
        (
            "own_post",
            feed(
                r#"{"item":"status","verb":"add","post_id":"111_9","from":{"name":"Shop","id":"111"},"published":1,"created_time":1448633038,"message":"Our news"}"#,
            ),
        ),
        // messaging-reaction-1.json
        (
            "reaction",
            messaging(
                r#""reaction":{"mid":"m_1","action":"react","emoji":"\ud83d\ude22","reaction":"sad"}"#,
            ),
        ),
        // messaging-postback-chat.json, without its title (a titled tap is a message)
        (
            "postback",
            messaging(r#""postback":{"title":"","payload":{"any":"json"},"mid":"m_2"}"#),
        ),
        // messaging-optin-userref.json
        (
            "optin",
            messaging(r#""optin":{"ref":"PASS_THROUGH_PARAM","user_ref":"UNIQUE_REF_PARAM"}"#),
        ),
        // messaging-referral-basic.json
        (
            "referral",
            messaging(
                r#""referral":{"ref":"ref_data_in_m_dot_me_param","source":"SHORTLINK","type":"OPEN_THREAD"}"#,
            ),
        ),
        // messaging-request-thread-control.json
        (
            "handover",
            messaging(
                r#""request_thread_control":{"requested_owner_app_id":"123","metadata":"METADATA"}"#,
            ),
        ),
        // feed-like-add-page-25.json
        (
            "like",
            feed(r#"{"item":"like","verb":"add","user_id":10201978818232600}"#),
        ),
        // feed-share-add-25.json, by a visitor.
        (
            "share",
            feed(
                r#"{"item":"share","verb":"add","share_id":98735342324352,"post_id":"111_98735342324352","sender_id":555,"created_time":1460111843,"published":1,"message":"look","link":"http://www.google.com/","sender_name":"Test Sender"}"#,
            ),
        ),
        // ratings-comment-add-25.json
        (
            "rating",
            change(
                "ratings",
                r#"{"item":"comment","verb":"add","comment_id":"904801129604590_904802532937783","post_id":"100002241334695_904801129604590","sender_id":705955836155788,"created_time":1448795386,"sender_name":"Tester","open_graph_story_id":"6767676767"}"#,
            ),
        ),
        // feed-video-block.json
        (
            "block",
            feed(
                r#"{"video_id":"900767076685784","video_flag_reason":1,"item":"video","verb":"block","link":"https://www.example.org/test.mp4","message":"Test video"}"#,
            ),
        ),
        // feed-video-mute.json (shape as feed-video-block.json)
        (
            "mute",
            feed(
                r#"{"video_id":"900767076685784","item":"video","verb":"mute","link":"https://www.example.org/test.mp4"}"#,
            ),
        ),
        // messaging-accountlinking-linked.json
        (
            "account_linking",
            messaging(
                r#""account_linking":{"status":"linked","authorization_code":"PASS_THROUGH_AUTHORIZATION_CODE"}"#,
            ),
        ),
        // messaging-policy-callback-unblock.json
        (
            "policy_enforcement",
            messaging(
                r#""policy-enforcement":{"action":"unblock","reason":"The bot violated our Platform Policies"}"#,
            ),
        ),
    ]
}

#[test]
fn each_known_kind_is_named_by_its_event() {
    for (kind, body) in known_kind_samples() {
        assert_eq!(only(&body), known(PAGE, kind), "{kind}");
    }
}

#[test]
fn the_known_kinds_are_the_listed_ones_each_with_a_sample() {
    let connector = super::offline_connector();
    assert_eq!(connector.known_events(), KNOWN_EVENTS);
    let listed: BTreeSet<&str> = KNOWN_EVENTS.iter().copied().collect();
    assert_eq!(listed.len(), KNOWN_EVENTS.len(), "no kind is listed twice");
    let sampled: BTreeSet<&str> = known_kind_samples().iter().map(|(kind, _)| *kind).collect();
    assert_eq!(
        sampled, listed,
        "every listed kind has a sample, and no other"
    );
}

#[test]
fn each_echo_read_delivery_is_known_in_standby_too() {
    let body = r#"{"object":"page","entry":[{"id":"111","time":1700000000000,"standby":[
        {"sender":{"id":"111"},"recipient":{"id":"222"},"timestamp":1700000000000,"message":{"mid":"m_echo","text":"from the other app"}},
        {"sender":{"id":"222"},"recipient":{"id":"111"},"timestamp":1700000000001,"read":{"watermark":1700000000000}},
        {"sender":{"id":"222"},"recipient":{"id":"111"},"timestamp":1700000000002,"delivery":{"watermark":1700000000000}}
    ]}]}"#;
    assert_eq!(
        webhook(body.as_bytes()),
        vec![
            known(PAGE, "echo"),
            known(PAGE, "read"),
            known(PAGE, "delivery")
        ]
    );
}

#[test]
fn the_other_handover_events_and_optin_variants_are_known() {
    for event in [
        r#""pass_thread_control":{"new_owner_app_id":"123456789","metadata":"Additional content"}"#,
        r#""take_thread_control":{"previous_owner_app_id":"123456789","metadata":"x"}"#,
        r#""app_roles":{"123456789":["primary_receiver"]}"#,
    ] {
        assert_eq!(only(&messaging(event)), known(PAGE, "handover"), "{event}");
    }
    for event in [
        r#""optin":{"type":"notification_messages","payload":"ADDITIONAL-INFORMATION","notification_messages_token":"T","token_expiry_timestamp":1700000000000,"user_token_status":"NOT_REFRESHED","notification_messages_timezone":"UTC","title":"Updates"}"#,
        r#""optin":{"type":"one_time_notif_req","payload":"X","one_time_notif_token":"T"}"#,
    ] {
        assert_eq!(only(&messaging(event)), known(PAGE, "optin"), "{event}");
    }
    assert_eq!(
        only(&messaging(
            r#""reaction":{"mid":"m_1","action":"unreact","reaction":"other"}"#
        )),
        known(PAGE, "reaction")
    );
}

#[test]
fn the_page_feed_known_variants() {
    for (value, kind) in [
        // feed-reaction-add-comment.json, -reply, -edit, -remove.
        (
            r#"{"created_time":1475578854,"item":"reaction","post_id":"111_98","parent_id":"111_98","comment_id":"111_126","verb":"add","reaction_type":"love","sender_id":555}"#,
            "reaction",
        ),
        (
            r#"{"item":"reaction","post_id":"111_98","verb":"remove","reaction_type":"like","from":{"id":"555","name":"A"}}"#,
            "reaction",
        ),
        // feed-like-add-comment-25.json: a like of a comment is a reaction to it.
        (
            r#"{"item":"like","verb":"add","comment_id":"940663242694065_659751347534292","sender_id":909653922461664,"created_time":1450701319,"sender_name":"Tester"}"#,
            "reaction",
        ),
        // A follow of the Page.
        (
            r#"{"item":"page","verb":"follow","from":{"id":"555","name":"A"}}"#,
            "like",
        ),
        // feed-share-add-25.json as published: the Page shared a link.
        (
            r#"{"item":"share","verb":"add","share_id":98735342324352,"post_id":"111_98735342324352","sender_id":111,"created_time":1460111843,"published":1,"message":"Ein Link","link":"http://www.google.com/","sender_name":"Test Sender"}"#,
            "own_post",
        ),
        // feed-event-add.json: an event, which only the Page creates, without an author.
        (
            r#"{"story":"Page added an event.","item":"event","event_id":"1944041199140689","post_id":"111_1944041199140689","verb":"add","created_time":1502232487}"#,
            "own_post",
        ),
        // The Page's own photo post and its edit.
        (
            r#"{"item":"photo","verb":"add","post_id":"111_5","photo_id":"5","link":"https://scontent.example/p.jpg","from":{"id":"111","name":"Shop"},"created_time":1700000000}"#,
            "own_post",
        ),
        (
            r#"{"item":"status","verb":"edited","post_id":"111_5","from":{"id":"111","name":"Shop"},"message":"fixed","created_time":1700000000}"#,
            "own_post",
        ),
        // feed-video-unblock.json
        (
            r#"{"video_id":"900767076685784","item":"video","verb":"unblock"}"#,
            "block",
        ),
        // A feed `rating` item.
        (
            r#"{"item":"rating","verb":"add","review_id":"1"}"#,
            "rating",
        ),
    ] {
        assert_eq!(only(&feed(value)), known(PAGE, kind), "{value}");
    }
    // ratings-like-add-25.json
    assert_eq!(
        only(&change(
            "ratings",
            r#"{"item":"like","verb":"add","post_id":"1_2","parent_id":"1_2","created_time":1451775296,"from":{"name":"Tester","id":"705955836155788"}}"#
        )),
        known(PAGE, "rating")
    );
}

// ---- unrecognized parts and paths ---------------------------------------------------------

#[test]
fn unknown_events_fields_items_and_shapes_are_unrecognized_with_a_reason() {
    assert_eq!(
        only(&messaging(r#""message_trust":{"level":"high"}"#)),
        unrecognized(
            PAGE,
            "a messaging event with none of the fields buzon knows: message_trust"
        )
    );
    assert_eq!(
        only(&change(
            "conversations",
            r#"{"page_id":111,"thread_id":"t_id.171899099639713"}"#
        )),
        unrecognized(
            PAGE,
            "a change of the field \"conversations\", which buzon does not handle"
        )
    );
    // mention-post-add-real.json: the value names the post but not its author: fetched.
    assert_eq!(
        only(&change(
            "mention",
            r#"{"message":"A test post message","post_id":"111_98722536423179","created_time":1614340562,"item":"post","verb":"add"}"#
        )),
        InboundItem::Fetch {
            account: buzon_core::ExternalId::parse("111").unwrap(),
            object_id: buzon_core::ExternalId::parse("111_98722536423179").unwrap(),
        }
    );
    assert_eq!(
        only(&feed(
            r#"{"item":"checkin","verb":"add","from":{"id":"555","name":"A"}}"#
        )),
        unrecognized(PAGE, "the feed item \"checkin\" is not handled")
    );
    assert_eq!(
        only(&feed(
            r#"{"item":"milestone","verb":"add","post_id":"111_1","from":{"id":"555","name":"A"}}"#
        )),
        unrecognized(PAGE, "the feed item \"milestone\" is not handled")
    );
    assert_eq!(
        only(&feed(
            r#"{"item":"comment","verb":"update","comment_id":"1_2","from":{"id":"555","name":"A"}}"#
        )),
        unrecognized(PAGE, "the feed verb \"update\" on a comment is not handled")
    );
    assert_eq!(
        only(&feed(r#"{"item":"comment","comment_id":"1_2"}"#)),
        unrecognized(PAGE, "a feed comment without a verb")
    );
    assert_eq!(
        only(&feed(r#"{"verb":"add"}"#)),
        unrecognized(PAGE, "a feed change without an item")
    );
    assert_eq!(
        only(&messaging(r#""message":"hello""#)),
        unrecognized(PAGE, "a Messenger message that is not an object")
    );
    assert_eq!(
        only(&messaging(r#""message":{"text":"no id"}"#)),
        unrecognized(PAGE, "a Messenger message without a mid")
    );
    assert_eq!(
        only(
            r#"{"object":"page","entry":[{"id":"111","messaging":[{"recipient":{"id":"111"},"message":{"mid":"m_1","text":"who?"}}]}]}"#
        ),
        unrecognized(PAGE, "a Messenger message without a sender")
    );
    assert_eq!(
        only(
            r#"{"object":"page","entry":[{"id":"111","messaging":[{"sender":{"id":"222"},"message":{"mid":"m_1","text":"when?"}}]}]}"#
        ),
        unrecognized(PAGE, "a Messenger message without a timestamp")
    );
}

#[test]
fn every_part_has_its_path_and_odd_entries_are_parts_of_their_own() {
    let body = r#"{"object":"page","entry":[
        {"id":"111","time":1700000000,
         "changes":[{"field":"feed","value":{"item":"reaction","verb":"add"}},"not a change"],
         "messaging":[{"sender":{"id":"222"},"timestamp":1700000000000,"read":{"watermark":1}}],
         "standby":[{"sender":{"id":"222"},"timestamp":1700000000000,"message":{"mid":"m_s","text":"hi"}}]},
        "not an entry",
        {"time":1700000000,"messaging":[]},
        {"id":"333","messaging":{"sender":{"id":"222"}}},
        {"id":"444","time":1700000000},
        {"id":"555","messaging":[]}
    ]}"#;
    let parts = webhook_parts(body.as_bytes());
    let paths: Vec<&str> = parts.iter().map(|part| part.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "entry[0].changes[0]",
            "entry[0].changes[1]",
            "entry[0].messaging[0]",
            "entry[0].standby[0]",
            "entry[1]",
            "entry[2]",
            "entry[3].messaging",
            "entry[4]",
        ]
    );
    assert_eq!(parts[0].item, known(PAGE, "reaction"));
    assert_eq!(
        parts[1].item,
        unrecognized(PAGE, "a change that is not an object")
    );
    assert_eq!(parts[2].item, known(PAGE, "read"));
    assert!(
        matches!(&parts[3].item, InboundItem::Message(message) if message.text == "hi"),
        "{:?}",
        parts[3]
    );
    assert_eq!(
        parts[4].item,
        InboundItem::Unrecognized {
            account: None,
            reason: "an entry that is not an object".into()
        }
    );
    assert_eq!(
        parts[5].item,
        InboundItem::Unrecognized {
            account: None,
            reason: "an entry without a valid Page id".into()
        }
    );
    assert_eq!(
        parts[6].item,
        unrecognized("333", "`messaging` is not a list")
    );
    assert_eq!(
        parts[7].item,
        unrecognized("444", "an entry with none of changes, messaging or standby")
    );
}

#[test]
fn a_body_that_is_not_a_page_delivery_is_refused_whole() {
    let connector = super::offline_connector();
    for body in [
        &b"[1,2]"[..],
        br#"{"entry":[]}"#,
        br#"{"object":7,"entry":[]}"#,
        br#"{"object":"page"}"#,
        br#"{"object":"instagram","entry":[]}"#,
        b"",
    ] {
        assert!(
            connector.normalize(Origin::Webhook, body).is_err(),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

// ---- Messenger messages ---------------------------------------------------------------------

#[test]
fn a_quick_reply_keeps_its_text_and_a_message_edit_is_an_edit() {
    assert_eq!(
        only(&messaging(
            r#""message":{"mid":"m_q","text":"Red","quick_reply":{"payload":{"colour":"red"}}}"#
        )),
        InboundItem::Message(direct("m_q", "Red", vec![]))
    );
    // messaging-message-edits.json: num_edit as a string.
    assert_eq!(
        only(&messaging(
            r#""message_edit":{"mid":"mid.1457764197618:41d102a3e1ae206a38","text":"hello, world!","num_edit":"37"}"#
        )),
        InboundItem::Edited(direct(
            "mid.1457764197618:41d102a3e1ae206a38",
            "hello, world!",
            vec![]
        ))
    );
    // The Page editing its own message is its echo.
    let body = messaging(r#""message_edit":{"mid":"m_1","text":"x","num_edit":1}"#).replacen(
        r#""sender":{"id":"222"}"#,
        r#""sender":{"id":"111"}"#,
        1,
    );
    assert_eq!(only(&body), known(PAGE, "echo"));
}

#[test]
fn a_deleted_message_is_removed_and_a_message_with_a_referral_is_a_message() {
    assert_eq!(
        only(&messaging(r#""message":{"mid":"m_d","is_deleted":true}"#)),
        InboundItem::Removed {
            account: id(PAGE),
            platform_id: id("m_d")
        }
    );
    // A message that came from an ad carries the customer's words: a message.
    assert_eq!(
        only(&messaging(
            r#""message":{"mid":"m_ad","text":"Is it in stock?","referral":{"source":"ADS","type":"OPEN_THREAD","ad_id":"6045246247433"}}"#
        )),
        InboundItem::Message(direct("m_ad", "Is it in stock?", vec![]))
    );
}

#[test]
fn every_shown_attachment_type_is_an_attachment() {
    let body = messaging(
        r#""message":{"mid":"m_a","text":"look","attachments":[
            {"type":"image","payload":{"url":"https://cdn.example/i.jpg"}},
            {"type":"video","payload":{"url":"https://cdn.example/v.mp4"}},
            {"type":"audio","payload":{"url":"https://cdn.example/a.mp4"}},
            {"type":"file","payload":{"url":"https://cdn.example/f.pdf"}},
            {"type":"reel","payload":{"url":"https://cdn.example/r.mp4","title":"My reel","reel_video_id":"9"}},
            {"type":"ig_reel","payload":{"url":"https://cdn.example/ig.mp4","title":"IG","reel_video_id":"8"}},
            {"type":"story_mention","payload":{"url":"https://cdn.example/s.jpg"}},
            {"type":"share","payload":{"url":"https://cdn.example/sh.jpg"}},
            {"type":"location","payload":{"coordinates":{"lat":12.34,"long":43.21}},"title":"Pin"}
        ]}"#,
    );
    assert_eq!(
        only(&body),
        InboundItem::Message(direct(
            "m_a",
            "look",
            vec![
                media("image", Some("https://cdn.example/i.jpg"), None),
                media("video", Some("https://cdn.example/v.mp4"), None),
                media("audio", Some("https://cdn.example/a.mp4"), None),
                media("file", Some("https://cdn.example/f.pdf"), None),
                media("reel", Some("https://cdn.example/r.mp4"), Some("My reel")),
                media("ig_reel", Some("https://cdn.example/ig.mp4"), Some("IG")),
                media("story_mention", Some("https://cdn.example/s.jpg"), None),
                media("share", Some("https://cdn.example/sh.jpg"), None),
                media("location", Some("geo:12.34,43.21"), Some("Pin")),
            ]
        ))
    );
    // messaging-message-sticker.json: `sticker_id` beside an image.
    assert_eq!(
        only(&messaging(
            r#""message":{"mid":"mid.12345654332:226a70a704","seq":1165,"sticker_id":56789012345678,"attachments":[{"type":"image","payload":{"url":"https://scontent.xx.fbcdn.net/sticker.png","sticker_id":56789012345678}}]}"#
        )),
        InboundItem::Message(direct(
            "mid.12345654332:226a70a704",
            "",
            vec![media(
                "sticker",
                Some("https://scontent.xx.fbcdn.net/sticker.png"),
                None
            )]
        ))
    );
}

#[test]
fn a_fallback_or_template_attachment_keeps_the_text_with_a_placeholder_and_the_raw_part() {
    // messaging-message-fallback-attachment.json, with a text beside it; the payload is a
    // string.
    let body = messaging(
        r#""message":{"mid":"m_f","seq":51,"text":"see this","attachments":[{"title":"Legacy Attachment","url":"https:\/\/www.messenger.com\/","type":"fallback","payload":"BLOB_BLOB_BLOB"}]}"#,
    );
    let mut expected = direct(
        "m_f",
        &format!(
            "see this {}",
            unsupported_placeholder("attachment", "fallback")
        ),
        vec![],
    );
    expected.raw = Some(first_event(&body));
    assert_eq!(only(&body), InboundItem::Message(expected));
    assert_eq!(
        first_event(&body),
        r#"{"sender":{"id":"222"},"recipient":{"id":"111"},"timestamp":1700000000123,"message":{"mid":"m_f","seq":51,"text":"see this","attachments":[{"title":"Legacy Attachment","url":"https:\/\/www.messenger.com\/","type":"fallback","payload":"BLOB_BLOB_BLOB"}]}}"#,
        "raw is the part exactly as it arrived, escapes included"
    );

    // messaging-message-product-template.json and messaging-button-template.json.
    let body = messaging(
        r#""message":{"mid":"m_t","attachments":[{"type":"template","payload":{"product":{"elements":[{"id":"1","retailer_id":"r","image_url":"https://fb.cdn.com/sdsd","title":"Some product title","subtitle":"$40"}]}}},{"type":"template","payload":{"template_type":"button","buttons":[{"type":"web_url","url":"BUTTON_URL","title":"Visit Messenger"}]}}]}"#,
    );
    let placeholder = unsupported_placeholder("attachment", "template");
    let mut expected = direct("m_t", &format!("{placeholder} {placeholder}"), vec![]);
    expected.raw = Some(first_event(&body));
    assert_eq!(only(&body), InboundItem::Message(expected));
}

#[test]
fn odd_attachments_and_fields_never_drop_the_text() {
    let cases: Vec<(&str, &str, Vec<Attachment>)> = vec![
        // An attachment type buzon does not know.
        (
            r#"{"mid":"m_1","text":"hi","attachments":[{"type":"poll","payload":{"question":"?"}}]}"#,
            "hi [attachment of an unsupported kind: poll]",
            vec![],
        ),
        // A payload that is a URL itself.
        (
            r#"{"mid":"m_1","text":"hi","attachments":[{"type":"image","payload":"https://cdn.example/i.jpg"}]}"#,
            "hi",
            vec![media("image", Some("https://cdn.example/i.jpg"), None)],
        ),
        // A payload that is missing, empty, or an empty object.
        (
            r#"{"mid":"m_1","text":"hi","attachments":[{"type":"image"},{"type":"video","payload":""},{"type":"file","payload":{}}]}"#,
            "hi",
            vec![
                media("image", None, None),
                media("video", None, None),
                media("file", None, None),
            ],
        ),
        // An attachment without a type, with and without a URL; one that is not an object.
        (
            r#"{"mid":"m_1","text":"hi","attachments":[{"payload":{"url":"https://cdn.example/x"}},{"payload":{}},"odd",{"type":7}]}"#,
            "hi [attachment of an unsupported kind: unknown] [attachment of an unsupported kind: unknown] [attachment of an unsupported kind: unknown]",
            vec![media("file", Some("https://cdn.example/x"), None)],
        ),
        // `attachments` that is not a list.
        (
            r#"{"mid":"m_1","text":"hi","attachments":{"type":"image"}}"#,
            "hi [attachment of an unsupported kind: attachments]",
            vec![],
        ),
        // messaging-message-isunsupported.json, with text.
        (
            r#"{"mid":"m_1","text":"hi","is_unsupported":true}"#,
            "hi [message of an unsupported kind: unsupported]",
            vec![],
        ),
        // A field buzon does not know beside the text.
        (
            r#"{"mid":"m_1","text":"hi","poll":{"id":"1"}}"#,
            "hi",
            vec![],
        ),
        // A message with nothing buzon knows but an unknown field.
        (
            r#"{"mid":"m_1","poll":{"id":"1"}}"#,
            "[message of an unsupported kind: poll]",
            vec![],
        ),
        // A text that is a number; flags as strings; reply_to of the wrong shape.
        (
            r#"{"mid":"m_1","text":42,"is_echo":"false","reply_to":"m_0"}"#,
            "42",
            vec![],
        ),
        (
            r#"{"mid":"m_1","text":{"body":"x"}}"#,
            "[message of an unsupported kind: text]",
            vec![],
        ),
    ];
    for (message, text, attachments) in cases {
        let body = messaging(&format!(r#""message":{message}"#));
        let mut expected = direct("m_1", text, attachments);
        expected.raw = Some(first_event(&body));
        assert_eq!(only(&body), InboundItem::Message(expected), "{message}");
    }
}

#[test]
fn an_unsupported_message_without_text_is_a_placeholder() {
    // messaging-message-isunsupported.json
    let body = messaging(r#""message":{"is_unsupported":true,"mid":"message_id"}"#);
    let mut expected = direct(
        "message_id",
        &unsupported_placeholder("message", "unsupported"),
        vec![],
    );
    expected.raw = Some(first_event(&body));
    assert_eq!(only(&body), InboundItem::Message(expected));
}

#[test]
fn ids_times_and_flags_are_read_loosely() {
    // messaging-message-edits.json style: numeric ids; time in seconds as a string.
    let body = r#"{"object":"page","entry":[{"id":12345654332,"time":"1457764198","messaging":[
        {"sender":{"id":987654321432},"recipient":{"id":12345654332},"timestamp":"1457764197","message":{"mid":"m_n","text":"hi","is_echo":0}}]}]}"#;
    let InboundItem::Message(message) = only(body) else {
        panic!("a message");
    };
    assert_eq!(message.account, id("12345654332"));
    assert_eq!(message.author.platform_id, id("987654321432"));
    assert_eq!(message.created_at, Timestamp::from_secs(1_457_764_197));
    assert_eq!(message.raw, None);
    // No timestamp: the entry's time (milliseconds) stands in.
    let body = r#"{"object":"page","entry":[{"id":"111","time":1700000000999,"messaging":[
        {"sender":{"id":"222"},"message":{"mid":"m_t","text":"hi"}}]}]}"#;
    let InboundItem::Message(message) = only(body) else {
        panic!("a message");
    };
    assert_eq!(
        message.created_at,
        Timestamp::from_millis(1_700_000_000_999)
    );
    // A Graph ISO time in a feed change.
    let InboundItem::Message(comment) = only(&feed(
        r#"{"item":"comment","verb":"add","comment_id":"5_6","post_id":"111_5","from":{"id":9,"name":"A"},"created_time":"2023-11-14T22:13:20+0000","message":"iso"}"#,
    )) else {
        panic!("a comment");
    };
    assert_eq!(comment.created_at, Timestamp::from_secs(1_700_000_000));
    assert_eq!(comment.author.platform_id, id("9"));
}

// ---- the Page feed --------------------------------------------------------------------------

#[test]
fn feed_comments_with_media_replies_edits_and_visitor_posts() {
    let comment =
        |platform_id: &str, thread: &str, reply_to: Option<&str>, text: &str| PlatformMessage {
            account: id(PAGE),
            platform_id: id(platform_id),
            thread_key: thread.into(),
            conversation: ConversationKind::Comment,
            kind: MessageKind::Comment,
            author: NewContact {
                platform_id: id("555"),
                name: Some("Tester".into()),
                handle: None,
            },
            text: text.into(),
            attachments: vec![],
            created_at: Timestamp::from_secs(1_449_135_003),
            in_reply_to: reply_to.map(id),
            raw: None,
            found_by: None,
        };
    // feed-comment-add-with-video.json from a visitor.
    let mut expected = comment("901_903", "comment:901_903", None, "and the next one");
    expected.attachments = vec![media(
        "video",
        Some("https://example.fbcdn.net/video.mp4"),
        None,
    )];
    assert_eq!(
        only(&feed(
            r#"{"item":"comment","verb":"add","video":"https://example.fbcdn.net/video.mp4","comment_id":"901_903","post_id":"111_901","parent_id":"111_901","sender_id":555,"created_time":1449135003,"message":"and the next one","sender_name":"Tester"}"#
        )),
        InboundItem::Message(expected)
    );
    // feed-comment-edited-with-photo.json, a reply.
    let mut expected = comment("901_904", "comment:901_903", Some("901_903"), "edited");
    expected.attachments = vec![media("image", Some("https://cdn.example/p.jpg"), None)];
    assert_eq!(
        only(&feed(
            r#"{"item":"comment","verb":"edited","photo":"https://cdn.example/p.jpg","comment_id":"901_904","post_id":"111_901","parent_id":"901_903","from":{"id":"555","name":"Tester"},"created_time":1449135003,"message":"edited"}"#
        )),
        InboundItem::Edited(expected)
    );
    // A sticker or GIF comment arrives as a `photo` URL (no text).
    let mut expected = comment("901_905", "comment:901_905", None, "");
    expected.attachments = vec![media(
        "image",
        Some("https://cdn.example/sticker.png"),
        None,
    )];
    assert_eq!(
        only(&feed(
            r#"{"item":"comment","verb":"add","photo":"https://cdn.example/sticker.png","comment_id":"901_905","post_id":"111_901","parent_id":"111_901","from":{"id":"555","name":"Tester"},"created_time":1449135003,"post":{"status_type":"mobile_status_update","is_published":true,"updated_time":"2015-12-03T09:30:03+0000","promotion_status":"inactive","id":"111_901"}}"#
        )),
        InboundItem::Message(expected)
    );
    // A visitor's photo post, its hide and its removal (feed-photo-*.json).
    let InboundItem::Message(post) = only(&feed(
        r#"{"item":"photo","verb":"add","post_id":"111_7","photo_id":"7","link":"https://cdn.example/v.jpg","from":{"id":"555","name":"Tester"},"created_time":1449135003,"message":"my photo"}"#,
    )) else {
        panic!("a post");
    };
    assert_eq!(post.kind, MessageKind::Post);
    assert_eq!(post.thread_key, "post:111_7");
    assert_eq!(
        post.attachments,
        [media("image", Some("https://cdn.example/v.jpg"), None)]
    );
    assert_eq!(post.raw, None);
    assert_eq!(
        only(&feed(
            r#"{"item":"photo","verb":"hide","post_id":"111_7","from":{"id":"555","name":"Tester"}}"#
        )),
        InboundItem::Hidden {
            account: id(PAGE),
            platform_id: id("111_7"),
            hidden: true
        }
    );
    assert_eq!(
        only(&feed(
            r#"{"item":"status","verb":"unhide","post_id":"111_7"}"#
        )),
        InboundItem::Hidden {
            account: id(PAGE),
            platform_id: id("111_7"),
            hidden: false
        }
    );
    assert_eq!(
        only(&feed(
            r#"{"item":"post","verb":"remove","post_id":"111_7","recipient_id":"111"}"#
        )),
        InboundItem::Removed {
            account: id(PAGE),
            platform_id: id("111_7")
        }
    );
    // The Page removing its own comment still retracts it.
    assert_eq!(
        only(&feed(
            r#"{"item":"comment","verb":"remove","comment_id":"1_2","post_id":"111_1","from":{"id":"111","name":"Shop"}}"#
        )),
        InboundItem::Removed {
            account: id(PAGE),
            platform_id: id("1_2")
        }
    );
}

#[test]
fn an_odd_feed_comment_keeps_its_text_with_a_placeholder_and_the_raw_part() {
    let body = feed(
        r#"{"item":"comment","verb":"add","comment_id":"5_6","post_id":"111_5","from":{"id":"555","name":"A"},"created_time":1700000000,"message":"nice","photo":{"src":"https://cdn.example/p.jpg"},"sticker":"https://cdn.example/s.png"}"#,
    );
    let InboundItem::Message(comment) = only(&body) else {
        panic!("a comment");
    };
    assert_eq!(
        comment.text,
        format!("nice {}", unsupported_placeholder("attachment", "photo"))
    );
    let start = body.find("\"changes\":[").expect("changes") + "\"changes\":[".len();
    let end = body.rfind("]}]}").expect("end");
    assert_eq!(comment.raw.as_deref(), Some(&body[start..end]));
}

#[test]
fn an_odd_part_never_spoils_its_neighbours() {
    let body = r#"{"object":"page","entry":[{"id":"111","time":1700000000000,"messaging":[
        {"sender":{"id":"222"},"timestamp":1700000000000,"message":{"mid":"m_1","text":"first"}},
        {"sender":{"id":"222"},"timestamp":{"odd":true},"message":[1,2]},
        7,
        {"sender":{"id":"222"},"timestamp":1700000000002,"message":{"mid":"m_3","text":"third"}}
    ]}]}"#;
    let parts = webhook_parts(body.as_bytes());
    assert_eq!(parts.len(), 4);
    let texts: Vec<Option<&str>> = parts
        .iter()
        .map(|part| match &part.item {
            InboundItem::Message(message) => Some(message.text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(texts, [Some("first"), None, None, Some("third")]);
    assert_eq!(
        parts[1],
        Part::new(
            "entry[0].messaging[1]",
            unrecognized(PAGE, "a Messenger message that is not an object")
        )
    );
    assert_eq!(
        parts[2],
        Part::new(
            "entry[0].messaging[2]",
            unrecognized(PAGE, "a messaging event that is not an object")
        )
    );
}

#[test]
fn polled_pages_have_a_part_per_object() {
    let connector = super::offline_connector();
    let account = id(PAGE);
    let parts = connector
        .normalize(
            Origin::Poll {
                endpoint: "comments:111_1",
                account: &account,
            },
            br#"{"data":[
                {"id":"1_2","message":"ok","created_time":"2015-12-03T09:30:03+0000","from":{"id":"555","name":"A"}},
                "odd",
                {"id":"1_3","created_time":"2015-12-03T09:30:03+0000","from":{"id":"111","name":"Shop"}},
                {"id":"1_4","message":"no author","created_time":"2015-12-03T09:30:03+0000"},
                {"id":"1_5","message":{"odd":1},"created_time":1449135003,"from":{"id":"555","name":"A"},"parent":{"id":"1_2"}}
            ]}"#,
        )
        .expect("the page parses");
    let paths: Vec<&str> = parts.iter().map(|part| part.path.as_str()).collect();
    assert_eq!(
        paths,
        ["data[0]", "data[1]", "data[2]", "data[3]", "data[4]"]
    );
    assert!(
        matches!(&parts[0].item, InboundItem::Message(message) if message.text == "ok" && message.raw.is_none())
    );
    assert_eq!(
        parts[1].item,
        unrecognized(PAGE, "a Graph object that is not an object")
    );
    assert_eq!(parts[2].item, known(PAGE, "own_post"));
    assert_eq!(
        parts[3].item,
        unrecognized(PAGE, "a comment without an author")
    );
    let InboundItem::Message(reply) = &parts[4].item else {
        panic!("a message: {:?}", parts[4]);
    };
    assert_eq!(reply.text, unsupported_placeholder("message", "text"));
    assert_eq!(reply.in_reply_to, Some(id("1_2")));
    assert!(reply.raw.is_some());
}
