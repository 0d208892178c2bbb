//! Every part of a delivery has exactly one outcome, at its path: the known no-message kinds
//! (one test each), unrecognized parts, loose shapes and salvaged customer messages.

use super::{connector, id};
use crate::{KNOWN_EVENTS, UNKNOWN_AUTHOR};
use buzon_connector::{
    unsupported_placeholder, Connector, ConnectorError, InboundItem, Origin, Part, PlatformMessage,
};
use buzon_core::{Attachment, Timestamp};

const ACCOUNT: &str = "2244994945";

fn webhook(body: &str) -> Vec<Part> {
    let parts = connector("http://unused.invalid")
        .normalize(Origin::Webhook, body.as_bytes())
        .unwrap_or_else(|err| panic!("the delivery parses: {err:?}"));
    check_kinds(&parts);
    parts
}

fn polled(endpoint: &str, body: &str) -> Vec<Part> {
    let parts = connector("http://unused.invalid")
        .normalize(
            Origin::Poll {
                endpoint,
                account: &id(ACCOUNT),
            },
            body.as_bytes(),
        )
        .unwrap_or_else(|err| panic!("the page parses: {err:?}"));
    check_kinds(&parts);
    parts
}

/// Every known kind is one the connector lists.
fn check_kinds(parts: &[Part]) {
    for part in parts {
        if let InboundItem::Known { kind, .. } = &part.item {
            assert!(KNOWN_EVENTS.contains(kind), "{kind} is listed");
        }
    }
}

fn paths(parts: &[Part]) -> Vec<&str> {
    parts.iter().map(|part| part.path.as_str()).collect()
}

fn known(kind: &'static str) -> InboundItem {
    InboundItem::Known {
        account: Some(id(ACCOUNT)),
        kind,
    }
}

/// The single part of a delivery.
fn only(parts: Vec<Part>) -> Part {
    assert_eq!(parts.len(), 1, "{parts:?}");
    parts.into_iter().next().expect("one part")
}

fn as_message(part: &Part) -> &PlatformMessage {
    match &part.item {
        InboundItem::Message(message) => message,
        other => panic!("a message at {}: {other:?}", part.path),
    }
}

fn unrecognized_reason(part: &Part) -> &str {
    match &part.item {
        InboundItem::Unrecognized { reason, .. } => reason,
        other => panic!("unrecognized at {}: {other:?}", part.path),
    }
}

fn delivery(key: &str, entries: &str) -> String {
    format!(r#"{{"for_user_id": "{ACCOUNT}", "{key}": [{entries}]}}"#)
}

const USER: &str = r#"{"id": 1, "id_str": "6253282", "name": "Ana", "screen_name": "ana"}"#;

#[test]
fn the_connector_lists_its_known_events() {
    let x = connector("http://unused.invalid");
    assert_eq!(x.known_events(), KNOWN_EVENTS);
    let mut sorted = KNOWN_EVENTS.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), KNOWN_EVENTS.len(), "no kind twice");
}

#[test]
fn our_own_dm_is_an_echo() {
    let body = delivery(
        "direct_message_events",
        &format!(
            r#"{{"type": "message_create", "id": "5", "created_timestamp": "1516403560557",
                "message_create": {{"target": {{"recipient_id": "3001969357"}},
                "sender_id": "{ACCOUNT}", "message_data": {{"text": "our answer"}}}}}}"#
        ),
    );
    let part = only(webhook(&body));
    assert_eq!(part.path, "direct_message_events[0]");
    assert_eq!(part.item, known("echo"));

    let page = format!(
        r#"{{"data": [{{"id": "7", "event_type": "MessageCreate", "text": "ours", "sender_id": "{ACCOUNT}"}}]}}"#
    );
    let part = only(polled("dm_events", &page));
    assert_eq!(part.path, "data[0]");
    assert_eq!(part.item, known("echo"));
}

#[test]
fn our_own_tweet_is_an_own_post() {
    let body = delivery(
        "tweet_create_events",
        &format!(
            r#"{{"id_str": "9", "text": "@ana thanks!", "in_reply_to_status_id_str": "8",
                "user": {{"id_str": "{ACCOUNT}", "screen_name": "acme"}}}}"#
        ),
    );
    let part = only(webhook(&body));
    assert_eq!(part.path, "tweet_create_events[0]");
    assert_eq!(part.item, known("own_post"));

    let page = format!(r#"{{"data": [{{"id": "9", "text": "hello", "author_id": {ACCOUNT}}}]}}"#);
    assert_eq!(only(polled("mentions", &page)).item, known("own_post"));
}

#[test]
fn a_retweet_is_a_known_retweet() {
    let body = delivery(
        "tweet_create_events",
        &format!(
            r#"{{"id_str": "10", "text": "RT @acme: news", "user": {USER},
                "retweeted_status": {{"id_str": "3", "text": "news", "user": {{"id_str": "{ACCOUNT}"}}}}}}"#
        ),
    );
    assert_eq!(only(webhook(&body)).item, known("retweet"));

    let page = r#"{"data": [{"id": "10", "text": "RT @acme: news", "author_id": "6253282",
        "referenced_tweets": [{"type": "retweeted", "id": "3"}]}]}"#;
    assert_eq!(only(polled("mentions", page)).item, known("retweet"));
}

#[test]
fn a_favorite_is_a_known_favorite() {
    let body = delivery(
        "favorite_events",
        &format!(
            r#"{{"id": "a7ba59eab0bfcba386f7acedac279542", "created_at": "Mon Mar 26 16:33:26 +0000 2018",
                "timestamp_ms": 1522082006140, "favorited_status": {{"id_str": "1"}}, "user": {USER}}}"#
        ),
    );
    let part = only(webhook(&body));
    assert_eq!(part.path, "favorite_events[0]");
    assert_eq!(part.item, known("favorite"));
}

#[test]
fn follows_and_unfollows_are_known_follows() {
    let event = |kind: &str| {
        format!(
            r#"{{"type": "{kind}", "created_timestamp": "1517588749178",
                "target": {{"id": "{ACCOUNT}"}}, "source": {USER}}}"#
        )
    };
    let body = format!(
        r#"{{"for_user_id": "{ACCOUNT}", "follow_events": [{}, {}], "unfollow_events": [{}]}}"#,
        event("follow"),
        event("unfollow"),
        event("unfollow")
    );
    let parts = webhook(&body);
    assert_eq!(
        paths(&parts),
        ["follow_events[0]", "follow_events[1]", "unfollow_events[0]"]
    );
    assert!(parts.iter().all(|part| part.item == known("follow")));
}

#[test]
fn blocks_are_known_blocks() {
    let body = format!(
        r#"{{"for_user_id": "{ACCOUNT}", "block_events": [{{"type": "block", "created_timestamp": "1518127020304",
            "source": {{"id": "{ACCOUNT}"}}, "target": {USER}}}, {{"type": "unblock", "source": {{}}, "target": {{}}}}]}}"#
    );
    let parts = webhook(&body);
    assert_eq!(paths(&parts), ["block_events[0]", "block_events[1]"]);
    assert!(parts.iter().all(|part| part.item == known("block")));
}

#[test]
fn mutes_are_known_mutes() {
    let body = format!(
        r#"{{"for_user_id": "{ACCOUNT}", "mute_events": [{{"type": "mute", "created_timestamp": "1518127020304",
            "source": {{"id": "{ACCOUNT}"}}, "target": {USER}}}], "unmute_events": [{{"type": "unmute"}}]}}"#
    );
    let parts = webhook(&body);
    assert_eq!(paths(&parts), ["mute_events[0]", "unmute_events[0]"]);
    assert!(parts.iter().all(|part| part.item == known("mute")));
}

#[test]
fn typing_is_known_typing() {
    let body = format!(
        r#"{{"for_user_id": "{ACCOUNT}", "direct_message_indicate_typing_events": [
            {{"created_timestamp": "1518127183443", "sender_id": "3284025577", "target": {{"recipient_id": "{ACCOUNT}"}}}}],
            "users": {{"3284025577": {{"id": "3284025577", "name": "Ana", "screen_name": "ana"}}}}}}"#
    );
    let part = only(webhook(&body));
    assert_eq!(part.path, "direct_message_indicate_typing_events[0]");
    assert_eq!(part.item, known("typing"));
}

#[test]
fn a_read_mark_is_a_known_read() {
    let body = format!(
        r#"{{"for_user_id": "{ACCOUNT}", "direct_message_mark_read_events": [
            {{"created_timestamp": "1518452444662", "sender_id": "199566737",
              "target": {{"recipient_id": "{ACCOUNT}"}}, "last_read_event_id": "963085315333238788"}}]}}"#
    );
    let part = only(webhook(&body));
    assert_eq!(part.path, "direct_message_mark_read_events[0]");
    assert_eq!(part.item, known("read"));
}

#[test]
fn a_revocation_is_a_known_revoke_even_without_for_user_id() {
    let body = r#"{"user_event": {"revoke": {"date_time": "2018-05-24T09:48:12+00:00",
        "target": {"app_id": "13090192"}, "source": {"user_id": "63046977"}}}}"#;
    let part = only(webhook(body));
    assert_eq!(part.path, "user_event");
    assert_eq!(
        part.item,
        InboundItem::Known {
            account: Some(id("63046977")),
            kind: "revoke"
        }
    );
    let other = format!(r#"{{"for_user_id": "{ACCOUNT}", "user_event": {{"suspend": {{}}}}}}"#);
    let part = only(webhook(&other));
    assert_eq!(part.path, "user_event");
    assert!(unrecognized_reason(&part).contains("suspend"));
}

#[test]
fn group_dm_joins_and_leaves_are_known_participants() {
    let page = r#"{"data": [
        {"id": "1", "event_type": "ParticipantsJoin", "participant_ids": ["5"]},
        {"id": "2", "event_type": "ParticipantsLeave", "participant_ids": ["5"]},
        {"id": "3", "event_type": "ConversationRenamed"}]}"#;
    let parts = polled("dm_events", page);
    assert_eq!(paths(&parts), ["data[0]", "data[1]", "data[2]"]);
    assert_eq!(parts[0].item, known("participants"));
    assert_eq!(parts[1].item, known("participants"));
    assert!(unrecognized_reason(&parts[2]).contains("ConversationRenamed"));
}

#[test]
fn parts_keep_the_delivery_order_and_unknown_arrays_are_unrecognized_at_their_name() {
    let body = format!(
        r#"{{"favorite_events": [{{"id": "f"}}],
            "for_user_id": "{ACCOUNT}",
            "tweet_delete_events": [{{"status": {{"id": "1045405559317569537", "user_id": "1"}}, "timestamp_ms": "1432228155593"}}],
            "user_has_blocked": "false",
            "spaces_events": [{{"id": 1}}, {{"id": 2}}],
            "reaction_event": {{"id": 1}},
            "some_flag": true,
            "tweet_create_events": [{{"id_str": "11", "text": "@acme hi", "user": {USER}}}],
            "follow_events": {{"type": "follow"}},
            "apps": {{}}, "users": {{}}}}"#
    );
    let parts = webhook(&body);
    assert_eq!(
        paths(&parts),
        [
            "favorite_events[0]",
            "tweet_delete_events[0]",
            "spaces_events",
            "reaction_event",
            "tweet_create_events[0]",
            "follow_events"
        ]
    );
    assert_eq!(parts[0].item, known("favorite"));
    assert_eq!(
        parts[1].item,
        InboundItem::Removed {
            account: id(ACCOUNT),
            platform_id: id("1045405559317569537"),
        }
    );
    assert_eq!(
        unrecognized_reason(&parts[2]),
        "an event array buzon does not know: spaces_events"
    );
    assert!(unrecognized_reason(&parts[3]).contains("reaction_event"));
    assert_eq!(as_message(&parts[4]).text, "@acme hi");
    assert!(unrecognized_reason(&parts[5]).contains("not an array"));
    for part in [&parts[2], &parts[3], &parts[5]] {
        assert!(matches!(
            &part.item,
            InboundItem::Unrecognized { account: Some(account), .. } if *account == id(ACCOUNT)
        ));
    }
}

#[test]
fn an_odd_part_never_spoils_its_neighbours() {
    let body = delivery(
        "tweet_create_events",
        &format!(
            r#""a string", 42, {{"text": "no id", "user": {USER}}},
               {{"id_str": "12", "text": 7, "user": {USER}}},
               {{"id_str": "13", "text": "@acme still here", "user": {USER}}}"#
        ),
    );
    let parts = webhook(&body);
    assert_eq!(parts.len(), 5);
    for part in &parts[..4] {
        let reason = unrecognized_reason(part);
        assert!(!reason.contains("no id"), "no text in reasons: {reason}");
    }
    assert!(unrecognized_reason(&parts[3]).contains("text is not a string"));
    assert_eq!(parts[4].path, "tweet_create_events[4]");
    assert_eq!(as_message(&parts[4]).text, "@acme still here");
    assert_eq!(as_message(&parts[4]).raw, None);

    let page =
        r#"{"data": [[], {"id": {"x": 1}, "text": "hi"}, {"id": "14", "text": "@acme ok"}]}"#;
    let parts = polled("mentions", page);
    assert_eq!(paths(&parts), ["data[0]", "data[1]", "data[2]"]);
    unrecognized_reason(&parts[0]);
    unrecognized_reason(&parts[1]);
    assert_eq!(as_message(&parts[2]).text, "@acme ok");
}

#[test]
fn bodies_that_are_not_activity_deliveries_are_errors() {
    let x = connector("http://unused.invalid");
    for body in [
        "[]",
        "7",
        r#""for_user_id""#,
        r#"{"tweet_create_events": []}"#,
        r#"{"for_user_id": {"id": 1}, "tweet_create_events": []}"#,
        r#"{"for_user_id": "", "tweet_create_events": []}"#,
    ] {
        assert!(
            matches!(
                x.normalize(Origin::Webhook, body.as_bytes()),
                Err(ConnectorError::Payload(_))
            ),
            "{body}"
        );
    }
    let account = id(ACCOUNT);
    for body in ["[]", r#"{"data": {"id": "1"}}"#, r#"{"data": "1"}"#] {
        for endpoint in ["mentions", "dm_events"] {
            assert!(
                matches!(
                    x.normalize(
                        Origin::Poll {
                            endpoint,
                            account: &account
                        },
                        body.as_bytes()
                    ),
                    Err(ConnectorError::Payload(_))
                ),
                "{endpoint}: {body}"
            );
        }
    }
    assert_eq!(polled("mentions", r#"{"data": null}"#), Vec::new());
    assert_eq!(
        webhook(&format!(r#"{{"for_user_id": {ACCOUNT}}}"#)),
        Vec::new()
    );
}

#[test]
fn quotes_replies_and_long_posts_are_messages_with_their_whole_text() {
    let long = "a".repeat(300);
    let body = delivery(
        "tweet_create_events",
        &format!(
            r#"{{"id_str": "20", "text": "what do you think, @acme? https://t.co/q", "is_quote_status": true,
                "quoted_status_id_str": "3", "quoted_status": {{"id_str": "3", "user": {{"id_str": "{ACCOUNT}"}}}},
                "user": {USER}, "timestamp_ms": "1539202764000"}},
               {{"id_str": "21", "text": "short…", "truncated": true, "in_reply_to_status_id": 20,
                "extended_tweet": {{"full_text": "short then {long}", "note_tweet": {{"text": "the whole {long}"}}}},
                "user": {USER}}},
               {{"id_str": "22", "full_text": "@acme extended mode", "user": {USER}}}"#
        ),
    );
    let parts = webhook(&body);
    let quote = as_message(&parts[0]);
    assert_eq!(quote.text, "what do you think, @acme? https://t.co/q");
    assert_eq!(quote.thread_key, "tweet:20");
    assert_eq!(quote.in_reply_to, None);
    assert_eq!(quote.created_at, Timestamp::from_millis(1_539_202_764_000));
    assert_eq!(quote.author.name.as_deref(), Some("Ana"));
    assert_eq!(quote.author.handle.as_deref(), Some("ana"));
    let reply = as_message(&parts[1]);
    assert_eq!(reply.text, format!("the whole {long}"));
    assert_eq!(reply.thread_key, "tweet:20");
    assert_eq!(reply.in_reply_to, Some(id("20")));
    assert_eq!(reply.raw, None);
    assert_eq!(as_message(&parts[2]).text, "@acme extended mode");

    let page = format!(
        r#"{{"data": [{{"id": "30", "text": "first 280…", "note_tweet": {{"text": "the whole {long}"}},
            "author_id": "42", "conversation_id": "25",
            "referenced_tweets": [{{"type": "quoted", "id": "3"}}, {{"type": "replied_to", "id": "26"}}]}}],
            "includes": {{"users": [{{"id": "42", "name": "Ana", "username": "ana"}}]}}}}"#
    );
    let polled = only(polled("mentions", &page));
    let polled = as_message(&polled);
    assert_eq!(polled.text, format!("the whole {long}"));
    assert_eq!(polled.thread_key, "tweet:25");
    assert_eq!(polled.in_reply_to, Some(id("26")));
    assert_eq!(polled.author.name.as_deref(), Some("Ana"));
}

#[test]
fn tweet_media_become_attachments() {
    let body = delivery(
        "tweet_create_events",
        &format!(
            r#"{{"id_str": "40", "text": "@acme broken https://t.co/p", "user": {USER},
                "entities": {{"media": [{{"id_str": "1", "type": "photo", "media_url_https": "https://pbs.twimg.com/media/one.jpg"}}]}},
                "extended_entities": {{"media": [
                    {{"id_str": "1", "type": "photo", "media_url_https": "https://pbs.twimg.com/media/one.jpg"}},
                    {{"id": 2, "type": "video", "media_url_https": "https://pbs.twimg.com/thumb.jpg",
                      "video_info": {{"variants": [
                        {{"content_type": "application/x-mpegURL", "url": "https://video.twimg.com/pl.m3u8"}},
                        {{"bitrate": 832000, "content_type": "video/mp4", "url": "https://video.twimg.com/low.mp4"}},
                        {{"bitrate": 2176000, "content_type": "video/mp4", "url": "https://video.twimg.com/high.mp4"}}]}}}},
                    {{"id_str": "3", "type": "animated_gif", "media_url_https": "https://pbs.twimg.com/gif.jpg"}}]}}}}"#
        ),
    );
    let part = only(webhook(&body));
    let message = as_message(&part);
    assert_eq!(message.text, "@acme broken https://t.co/p");
    assert_eq!(message.raw, None);
    assert_eq!(
        message.attachments,
        vec![
            Attachment {
                kind: "image".into(),
                mime_type: None,
                media_id: Some("1".into()),
                url: Some("https://pbs.twimg.com/media/one.jpg".into()),
                filename: None,
                caption: None,
            },
            Attachment {
                kind: "video".into(),
                mime_type: Some("video/mp4".into()),
                media_id: Some("2".into()),
                url: Some("https://video.twimg.com/high.mp4".into()),
                filename: None,
                caption: None,
            },
            Attachment {
                kind: "gif".into(),
                mime_type: None,
                media_id: Some("3".into()),
                url: Some("https://pbs.twimg.com/gif.jpg".into()),
                filename: None,
                caption: None,
            },
        ]
    );

    let page = r#"{"data": [{"id": "41", "text": "@acme look", "author_id": "42",
        "attachments": {"media_keys": ["3_1", "7_2", "9_9"]}}],
        "includes": {"media": [{"media_key": "3_1", "type": "photo", "url": "https://pbs.twimg.com/a.jpg"},
                               {"media_key": "7_2", "type": "audio"}]}}"#;
    let part = only(polled("mentions", page));
    let message = as_message(&part);
    assert_eq!(
        message.attachments,
        vec![Attachment {
            kind: "image".into(),
            mime_type: None,
            media_id: Some("3_1".into()),
            url: Some("https://pbs.twimg.com/a.jpg".into()),
            filename: None,
            caption: None,
        }]
    );
    assert_eq!(
        message.text,
        format!(
            "@acme look {} {}",
            unsupported_placeholder("attachment", "audio"),
            unsupported_placeholder("attachment", "media")
        )
    );
    assert!(message.raw.is_some());
}

#[test]
fn dms_with_media_and_quick_replies_are_messages() {
    let body = format!(
        r#"{{"for_user_id": "{ACCOUNT}", "direct_message_events": [
            {{"type": "message_create", "id": "50", "created_timestamp": "1516403560557",
              "message_create": {{"target": {{"recipient_id": "{ACCOUNT}"}}, "sender_id": "3001969357", "source_app_id": "268278",
                "message_data": {{"text": "my receipt https://t.co/x", "entities": {{"urls": []}},
                  "attachment": {{"type": "media", "media": {{"id": 958, "id_str": "958", "type": "photo",
                    "media_url_https": "https://ton.twitter.com/1.1/ton/data/dm/958/photo.jpg", "url": "https://t.co/x"}}}}}}}}}},
            {{"type": "message_create", "id": "51", "created_timestamp": "1516403560558",
              "message_create": {{"target": {{"recipient_id": "{ACCOUNT}"}}, "sender_id": "3001969357",
                "message_data": {{"text": "Red Bird", "quick_reply_response": {{"type": "options", "metadata": "external_id_2"}}}}}}}}],
            "users": {{"3001969357": {{"id": "3001969357", "name": "Jordan", "screen_name": "jb"}}}}}}"#
    );
    let parts = webhook(&body);
    let photo = as_message(&parts[0]);
    assert_eq!(photo.text, "my receipt https://t.co/x");
    assert_eq!(photo.raw, None);
    assert_eq!(photo.author.name.as_deref(), Some("Jordan"));
    assert_eq!(
        photo.attachments,
        vec![Attachment {
            kind: "image".into(),
            mime_type: None,
            media_id: Some("958".into()),
            url: Some("https://ton.twitter.com/1.1/ton/data/dm/958/photo.jpg".into()),
            filename: None,
            caption: None,
        }]
    );
    let quick_reply = as_message(&parts[1]);
    assert_eq!(quick_reply.text, "Red Bird");
    assert_eq!(quick_reply.thread_key, "dm:3001969357");
    assert_eq!(quick_reply.raw, None);
}

#[test]
fn a_shared_location_is_a_geo_attachment_and_old_deliveries_take_the_recipient_for_the_account() {
    // As recorded in 2017 (jimmoffitt/FloodSocial): no for_user_id.
    let body = r#"{"direct_message_events": [{"type": "message_create", "id": "862154965623689219",
        "created_timestamp": "1494388736526",
        "message_create": {"target": {"recipient_id": "17200003"}, "sender_id": "944480690",
          "message_data": {"text": " https:\/\/t.co\/JyjKciQmnt",
            "attachment": {"type": "location", "location": {"type": "shared_coordinate",
              "shared_coordinate": {"coordinates": {"type": "Point", "coordinates": [-97.32473787098, 32.717900045251]}}}},
            "quick_reply_response": {"type": "location", "metadata": "not used, useful?"}}}}],
        "users": {"944480690": {"id": "944480690", "name": "demo account", "screen_name": "FloodSocial"}}}"#;
    let part = only(webhook(body));
    let message = as_message(&part);
    assert_eq!(message.account, id("17200003"));
    assert_eq!(message.author.handle.as_deref(), Some("FloodSocial"));
    assert_eq!(message.text, " https://t.co/JyjKciQmnt");
    assert_eq!(message.raw, None);
    assert_eq!(
        message.attachments,
        vec![Attachment {
            kind: "location".into(),
            mime_type: None,
            media_id: None,
            url: Some("geo:32.717900045251,-97.32473787098".into()),
            filename: None,
            caption: None,
        }]
    );
    let without_recipient = r#"{"direct_message_events": [{"type": "message_create", "id": "1",
        "message_create": {"sender_id": "944480690", "message_data": {"text": "hi"}}}]}"#;
    let part = only(webhook(without_recipient));
    assert!(matches!(
        part.item,
        InboundItem::Unrecognized { account: None, .. }
    ));
}

#[test]
fn a_dm_keeps_its_text_beside_an_attachment_it_cannot_show() {
    let dm = |data: &str| {
        format!(
            r#"{{"type": "message_create", "id": "60", "created_timestamp": "1516403560",
                "message_create": {{"sender_id": 3001969357, "message_data": {data}}}}}"#
        )
    };
    let cases = [
        (
            r#"{"text": "see this", "attachment": {"type": "location", "location": {}}}"#,
            "see this [attachment of an unsupported kind: location]",
        ),
        (
            r#"{"text": "here", "attachment": {"type": "location", "location": {"type": "shared_place", "shared_place": {"place": {"id": "5a110d312052166f"}}}}}"#,
            "here [attachment of an unsupported kind: location]",
        ),
        (
            r#"{"text": "see this", "attachment": "https://example.com/a.png"}"#,
            "see this [attachment of an unsupported kind: unknown]",
        ),
        (
            r#"{"text": "see this", "attachment": {"type": "media", "media": {"type": "sticker"}}}"#,
            "see this [attachment of an unsupported kind: sticker]",
        ),
        (
            r#"{"text": "see this", "attachment": {"type": "media", "media": "x"}}"#,
            "see this [attachment of an unsupported kind: media]",
        ),
        (
            r#"{"text": "see this", "attachment": {"type": "media"}}"#,
            "see this [attachment of an unsupported kind: media]",
        ),
        (
            r#"{"attachment": {"type": "card", "card": {}}}"#,
            "[attachment of an unsupported kind: card]",
        ),
    ];
    for (data, text) in cases {
        let entry = dm(data);
        let body = delivery("direct_message_events", &entry);
        let part = only(webhook(&body));
        let message = as_message(&part);
        assert_eq!(message.text, text, "{data}");
        assert_eq!(message.raw.as_deref(), Some(entry.as_str()), "{data}");
        assert_eq!(message.author.platform_id, id("3001969357"));
        assert_eq!(
            message.created_at,
            Timestamp::from_millis(1_516_403_560_000),
            "seconds are read as seconds"
        );
        assert!(message.attachments.is_empty());
    }
}

#[test]
fn odd_neighbouring_fields_keep_the_text_and_the_raw_part() {
    let entry = r#"{"id_str": "70", "id": "not a number", "text": "@acme help",
            "in_reply_to_status_id_str": {"oops": 1}, "created_at": "yesterday",
            "user": {"id_str": "6253282", "name": 5, "screen_name": "ana"},
            "extended_tweet": "no", "brand_new_field": [1, 2]}"#;
    let body = delivery("tweet_create_events", entry);
    let part = only(webhook(&body));
    let message = as_message(&part);
    assert_eq!(message.text, "@acme help");
    assert_eq!(message.thread_key, "tweet:70");
    assert_eq!(message.in_reply_to, None);
    assert_eq!(message.created_at, Timestamp::from_millis(0));
    assert_eq!(message.author.name, None);
    assert_eq!(message.author.handle.as_deref(), Some("ana"));
    assert_eq!(message.raw.as_deref(), Some(entry), "as it arrived");

    let without_user = delivery(
        "tweet_create_events",
        r#"{"id": 71, "text": "@acme who am I", "user": "someone"}"#,
    );
    let part = only(webhook(&without_user));
    let message = as_message(&part);
    assert_eq!(message.author.platform_id.as_str(), UNKNOWN_AUTHOR);
    assert_eq!(message.platform_id, id("71"));
    assert!(message.raw.is_some());

    let page = r#"{"data": [{"id": 80, "text": "@acme hi", "author_id": "42", "created_at": "soon",
        "referenced_tweets": "none", "conversation_id": 79}],
        "includes": {"users": "odd"}}"#;
    let part = only(polled("mentions", page));
    let message = as_message(&part);
    assert_eq!(message.text, "@acme hi");
    assert_eq!(message.platform_id, id("80"));
    assert_eq!(message.thread_key, "tweet:79");
    assert_eq!(message.author.name, None);
    assert!(message.raw.is_some());
}

#[test]
fn deletions_read_loose_ids_and_odd_ones_are_unrecognized() {
    let body = delivery(
        "tweet_delete_events",
        r#"{"status": {"id_str": "1", "id": 1}}, {"status": {"id": 2}}, {"status": "3"}, {}"#,
    );
    let parts = webhook(&body);
    assert_eq!(
        parts[0].item,
        InboundItem::Removed {
            account: id(ACCOUNT),
            platform_id: id("1")
        }
    );
    assert_eq!(
        parts[1].item,
        InboundItem::Removed {
            account: id(ACCOUNT),
            platform_id: id("2")
        }
    );
    unrecognized_reason(&parts[2]);
    assert_eq!(parts[3].path, "tweet_delete_events[3]");
    unrecognized_reason(&parts[3]);
}

#[test]
fn a_delivery_without_for_user_id_keeps_its_other_parts_unrecognized() {
    let body =
        r#"{"user_event": {"revoke": {}}, "tweet_create_events": [{"id_str": "1", "text": "hi"}]}"#;
    let parts = webhook(body);
    assert_eq!(
        parts[0].item,
        InboundItem::Known {
            account: None,
            kind: "revoke"
        }
    );
    assert!(unrecognized_reason(&parts[1]).contains("for_user_id"));
}

#[test]
fn unknown_dm_event_types_are_unrecognized_and_untyped_ones_are_messages() {
    let body = delivery(
        "direct_message_events",
        r#"{"type": "message_delete", "id": "90"},
           {"id": "91", "message_create": {"sender_id": "5", "message_data": {"text": "no type"}}},
           {"type": "message_create", "id": "92"},
           {"type": "message_create", "id": "93", "message_create": {"sender_id": "5"}}"#,
    );
    let parts = webhook(&body);
    assert!(unrecognized_reason(&parts[0]).contains("message_delete"));
    assert_eq!(as_message(&parts[1]).text, "no type");
    assert_eq!(as_message(&parts[1]).raw, None);
    unrecognized_reason(&parts[2]);
    let empty = as_message(&parts[3]);
    assert_eq!(empty.text, "");
    assert!(empty.raw.is_some(), "a DM without message_data is kept raw");
}
