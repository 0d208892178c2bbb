//! Odd parts: a customer's words survive any odd neighbour, and each part gets exactly one
//! outcome at its own path.

use super::{change, id, messages, only_message, only_part, parts};
use crate::REACTION_REMOVED;
use buzon_connector::{InboundItem, Part};
use buzon_core::{Attachment, Timestamp};

fn attachment(kind: &str) -> Attachment {
    Attachment {
        kind: kind.into(),
        mime_type: None,
        media_id: None,
        url: None,
        filename: None,
        caption: None,
    }
}

#[test]
fn a_referral_from_an_ad_is_still_the_customers_message() {
    // pywa `message.json` "referral".
    let message = only_message(&messages(
        r#"{"referral":{"source_url":"AD_OR_POST_FB_URL","source_id":"ADID","source_type":"ad","headline":"AD_TITLE","body":"AD_DESCRIPTION",
            "media_type":"image","image_url":"RAW_IMAGE_URL","thumbnail_url":"RAW_THUMBNAIL_URL","ctwa_clid":"CTWA_CLID"},
            "from":"16505551234","id":"wamid.ID","timestamp":"1697045000","type":"text","text":{"body":"BODY"}}"#,
    ));
    assert_eq!(message.text, "BODY");
    assert_eq!(message.author.name.as_deref(), Some("Sheena Nelson"));
    assert_eq!(message.raw, None);
}

#[test]
fn forwarded_messages_and_extra_fields_are_plain_messages() {
    let message = only_message(&messages(
        r#"{"context":{"frequently_forwarded":true},"from":"16505551234","id":"wamid.F","timestamp":"1697044968",
            "type":"text","text":{"body":"text forwarded many times","preview":"x"},"brand_new_field":{"a":[1]}}"#,
    ));
    assert_eq!(message.text, "text forwarded many times");
    assert_eq!(message.in_reply_to, None);
    assert_eq!(message.raw, None);
}

#[test]
fn ids_and_timestamps_may_be_numbers() {
    let body = change(
        "messages",
        r#"{"metadata":{"phone_number_id":106540352242922},"contacts":[{"profile":{"name":"N"},"wa_id":16505551234}],
            "messages":[{"from":16505551234,"id":"wamid.N","timestamp":1749416383,"type":"text","text":{"body":"hi"}}]}"#,
    );
    let InboundItem::Message(message) = only_part(&body).item else {
        panic!()
    };
    assert_eq!(message.account, id("106540352242922"));
    assert_eq!(message.thread_key, "whatsapp:16505551234");
    assert_eq!(message.created_at, Timestamp::from_secs(1_749_416_383));
    assert_eq!(message.author.name.as_deref(), Some("N"));
}

#[test]
fn a_text_survives_odd_neighbouring_fields_and_the_part_is_kept() {
    for (message, kept) in [
        // context as a string, not an object
        (
            r#"{"context":"wamid.X","from":"16505551234","id":"wamid.T","timestamp":"1","type":"text","text":{"body":"still here"}}"#,
            true,
        ),
        // an odd image beside a text: not read for a text, so not odd
        (
            r#"{"from":"16505551234","id":"wamid.T","timestamp":"1","type":"text","text":{"body":"still here"},"image":"https://example.com/x.jpg"}"#,
            false,
        ),
        // no type at all: the text says what it is
        (
            r#"{"from":"16505551234","id":"wamid.T","timestamp":"1","text":{"body":"still here"}}"#,
            true,
        ),
        // a type that is not a string
        (
            r#"{"from":"16505551234","id":"wamid.T","timestamp":"1","type":7,"text":{"body":"still here"}}"#,
            true,
        ),
        // from_user_id of an odd shape, next to a good from
        (
            r#"{"from":"16505551234","from_user_id":{"x":1},"id":"wamid.T","timestamp":"1","type":"text","text":{"body":"still here"}}"#,
            true,
        ),
    ] {
        let found = only_message(&messages(message));
        assert_eq!(found.text, "still here", "{message}");
        assert_eq!(found.author.platform_id, id("16505551234"));
        assert_eq!(found.raw.as_deref(), kept.then_some(message), "{message}");
    }
}

#[test]
fn a_text_body_may_be_a_bare_string_or_a_number() {
    let message = only_message(&messages(
        r#"{"from":"16505551234","id":"wamid.T","timestamp":"1","type":"text","text":"plain"}"#,
    ));
    assert_eq!(message.text, "plain");
    let message = only_message(&messages(
        r#"{"from":"16505551234","id":"wamid.T","timestamp":"1","type":"text","text":{"body":42}}"#,
    ));
    assert_eq!(message.text, "42");
}

#[test]
fn media_that_cannot_be_fetched_keeps_its_caption_and_a_placeholder() {
    // the image is a URL string
    let message = only_message(&messages(
        r#"{"from":"16505551234","id":"wamid.I","timestamp":"1","type":"image","image":"https://example.com/x.jpg"}"#,
    ));
    assert_eq!(message.text, "[attachment of an unsupported kind: image]");
    assert!(message.attachments.is_empty());
    assert!(message.raw.is_some());
    // no image object at all
    let message = only_message(&messages(
        r#"{"from":"16505551234","id":"wamid.I","timestamp":"1","type":"video"}"#,
    ));
    assert_eq!(message.text, "[attachment of an unsupported kind: video]");
    // a caption, but nothing to fetch the image by
    let message = only_message(&messages(
        r#"{"from":"16505551234","id":"wamid.I","timestamp":"1","type":"image","image":{"caption":"look","mime_type":"image/jpeg"}}"#,
    ));
    assert_eq!(
        message.text,
        "look [attachment of an unsupported kind: image]"
    );
    // a URL instead of an id (rolling out) is enough to fetch it
    let message = only_message(&messages(
        r#"{"from":"16505551234","id":"wamid.I","timestamp":"1","type":"document","document":{"url":"https://lookaside.example/x","filename":"a.pdf","mime_type":7}}"#,
    ));
    assert_eq!(message.text, "");
    assert_eq!(
        message.attachments,
        vec![Attachment {
            url: Some("https://lookaside.example/x".into()),
            filename: Some("a.pdf".into()),
            ..attachment("document")
        }]
    );
    assert!(message.raw.is_some(), "the odd mime_type is remembered");
}

#[test]
fn stickers_voice_notes_and_pywa_media_read_as_attachments() {
    // pywa `message.json` "animated_sticker" and "voice".
    let sticker = only_message(&messages(
        r#"{"from":"16505551234","id":"wamid.S","timestamp":"1697043785","type":"sticker",
            "sticker":{"mime_type":"image/webp","sha256":"x","id":"1234567890987654321","animated":true}}"#,
    ));
    assert_eq!(
        sticker.attachments,
        vec![Attachment {
            mime_type: Some("image/webp".into()),
            media_id: Some("1234567890987654321".into()),
            ..attachment("sticker")
        }]
    );
    assert_eq!((sticker.text.as_str(), sticker.raw.as_deref()), ("", None));
    let voice = only_message(&messages(
        r#"{"from":"16505551234","id":"wamid.V","timestamp":"1697043473","type":"audio",
            "audio":{"mime_type":"audio/ogg; codecs=opus","sha256":"x","id":"99","voice":true}}"#,
    ));
    assert_eq!(voice.attachments[0].kind, "audio");
    assert_eq!(voice.raw, None);
}

#[test]
fn unknown_types_keep_their_words_before_the_placeholder() {
    let message = only_message(&messages(
        r#"{"from":"16505551234","id":"wamid.U","timestamp":"1","type":"poll","poll":{"text":"Which colour?"}}"#,
    ));
    assert_eq!(
        message.text,
        "Which colour? [message of an unsupported kind: poll]"
    );
    assert!(message.raw.is_some());
    let message = only_message(&messages(
        r#"{"from":"16505551234","id":"wamid.U","timestamp":"1","type":"hologram","text":{"body":"see my hologram"}}"#,
    ));
    assert_eq!(
        message.text,
        "see my hologram [message of an unsupported kind: hologram]"
    );
}

#[test]
fn unknown_or_empty_interactive_replies_are_kept_with_a_placeholder() {
    // pywa `call_permission_update.json`
    let message = only_message(&messages(
        r#"{"context":{"from":"15550783881","id":"wamid.y=="},"from":"16505551234","id":"wamid.x","timestamp":"1752582182","type":"interactive",
            "interactive":{"type":"call_permission_reply","call_permission_reply":{"response":"accept","expiration_timestamp":1753186982,"response_source":"user_action"}}}"#,
    ));
    assert_eq!(
        message.text,
        "[interactive reply of an unsupported kind: call_permission_reply]"
    );
    assert_eq!(message.in_reply_to, Some(id("wamid.y==")));
    assert!(message.raw.is_some());
    // A button reply without a type still reads as its title.
    let message = only_message(&messages(
        r#"{"from":"16505551234","id":"wamid.x","timestamp":"1","type":"interactive","interactive":{"button_reply":{"id":"a","title":"Yes"}}}"#,
    ));
    assert_eq!(message.text, "Yes");
    // A Flow answer whose response_json is an object, not a string.
    let message = only_message(&messages(
        r#"{"from":"16505551234","id":"wamid.x","timestamp":"1","type":"interactive","interactive":{"type":"nfm_reply","nfm_reply":{"name":"flow","body":"Sent","response_json":{"flow_token":"t"}}}}"#,
    ));
    assert_eq!(message.text, "Sent\n{\"flow_token\":\"t\"}");
}

#[test]
fn reactions_with_odd_targets_or_empty_emoji_stay_reactions() {
    // pywa `message.json` "unreaction_empty": an empty emoji removes the reaction.
    let message = only_message(&messages(
        r#"{"from":"16505551234","id":"wamid.R","timestamp":"1697044456","type":"reaction","reaction":{"message_id":"wamid.yzxyzx=","emoji":""}}"#,
    ));
    assert_eq!(message.text, REACTION_REMOVED);
    assert_eq!(message.in_reply_to, Some(id("wamid.yzxyzx=")));
    let message = only_message(&messages(
        r#"{"from":"16505551234","id":"wamid.R","timestamp":"1","type":"reaction","reaction":{"message_id":{"odd":true},"emoji":"👍"}}"#,
    ));
    assert_eq!(message.text, "👍");
    assert_eq!(message.in_reply_to, None);
    assert!(message.raw.is_some());
}

#[test]
fn orders_with_numeric_quantities_and_an_empty_note_read_as_an_order() {
    // pywa `message.json` "order".
    let message = only_message(&messages(
        r#"{"from":"16505551234","id":"wamid.O","timestamp":"1697044668","type":"order","order":{"catalog_id":"354160437058781","text":"",
            "product_items":[{"product_retailer_id":"HAMBURGER","quantity":3,"item_price":30,"currency":"ILS"},{"product_retailer_id":"SODA","quantity":2,"item_price":10,"currency":"ILS"}]}}"#,
    ));
    assert_eq!(message.text, "🛒 Order: 3 × HAMBURGER, 2 × SODA");
    assert_eq!(message.raw, None);
}

#[test]
fn shared_contacts_and_locations_from_pywa_read_as_before() {
    let message = only_message(&messages(
        r#"{"from":"16505551234","id":"wamid.C","timestamp":"1697044621","type":"contacts","contacts":[
            {"name":{"first_name":"Chandler","last_name":"Bing","formatted_name":"Chandler Bing"},"phones":[{"phone":"+1 555-555-5555","wa_id":"972987654321","type":"CELL"}]},
            "not a card"]}"#,
    ));
    assert_eq!(message.text, "👤 Chandler Bing (+1 555-555-5555)");
    assert!(message.raw.is_some(), "the odd card is remembered");
    let message = only_message(&messages(
        r#"{"context":{"forwarded":true},"from":"16505551234","id":"wamid.L","timestamp":"1697044557","location":{"latitude":12.25089,"longitude":43.90539},"type":"location"}"#,
    ));
    assert_eq!(message.text, "📍 (12.25089, 43.90539)");
    assert_eq!(message.raw, None);
}

#[test]
fn an_edit_replaces_the_original_message() {
    // pywa `edit_message.json` "edit_text" and "edit_caption".
    let part = only_part(&messages(
        r#"{"from":"16505551234","id":"wamid.yyyyyy","timestamp":"1697044968","type":"edit",
            "edit":{"original_message_id":"wamid.zzzzzz","message":{"type":"text","text":{"body":"Text was edited"}}}}"#,
    ));
    let InboundItem::Edited(edit) = part.item else {
        panic!("{part:?}")
    };
    assert_eq!(edit.platform_id, id("wamid.zzzzzz"));
    assert_eq!(edit.text, "Text was edited");
    assert_eq!(edit.thread_key, "whatsapp:16505551234");
    assert_eq!(edit.raw, None);
    let part = only_part(&messages(
        r#"{"from":"16505551234","id":"wamid.yyyyyy","timestamp":"1697044968","type":"edit",
            "edit":{"original_message_id":"wamid.zzzzzz","message":{"type":"image","image":{"caption":"caption","mime_type":"image/jpeg","sha256":"x","id":"65463453"}}}}"#,
    ));
    let InboundItem::Edited(edit) = part.item else {
        panic!("{part:?}")
    };
    assert_eq!(edit.text, "caption");
    assert_eq!(edit.attachments[0].media_id.as_deref(), Some("65463453"));
}

#[test]
fn an_edit_without_its_original_is_kept_as_a_new_message() {
    let message = only_message(&messages(
        r#"{"from":"16505551234","id":"wamid.yyyyyy","timestamp":"1697044968","type":"edit",
            "edit":{"message":{"type":"text","text":{"body":"Text was edited"}}}}"#,
    ));
    assert_eq!(message.platform_id, id("wamid.yyyyyy"));
    assert_eq!(message.text, "Text was edited");
    assert!(message.raw.is_some());
}

#[test]
fn a_revoke_removes_the_original_message() {
    // pywa `delete_message.json` "original_id".
    assert_eq!(
        only_part(&messages(
            r#"{"from":"16505551234","id":"wamid.yyyyyy","timestamp":"1697044968","type":"revoke","revoke":{"original_message_id":"wamid.zzzzzz"}}"#
        ))
        .item,
        InboundItem::Removed {
            account: id("106540352242922"),
            platform_id: id("wamid.zzzzzz"),
        }
    );
    assert!(matches!(
        only_part(&messages(
            r#"{"from":"16505551234","id":"wamid.yyyyyy","timestamp":"1697044968","type":"revoke","revoke":{}}"#
        ))
        .item,
        InboundItem::Unrecognized { .. }
    ));
}

#[test]
fn a_group_message_is_unrecognized_rather_than_put_in_a_private_chat() {
    let part = only_part(&messages(
        r#"{"from":"16505551234","group_id":"Y2FwaV9ncm91cDox","id":"wamid.G","timestamp":"1739321024","type":"text","text":{"body":"What do you all think?"}}"#,
    ));
    let InboundItem::Unrecognized { account, reason } = part.item else {
        panic!("{part:?}")
    };
    assert_eq!(account, Some(id("106540352242922")));
    assert!(
        reason.contains("group_id") && !reason.contains("think"),
        "{reason}"
    );
}

#[test]
fn one_odd_part_never_spoils_its_neighbours() {
    let body = change(
        "messages",
        r#"{"metadata":{"phone_number_id":"111"},"contacts":[{"profile":{"name":"A"},"wa_id":"1001"},"odd contact"],
            "messages":["not a message",
                {"from":"1001","id":"wamid.A","timestamp":"10","type":"text","text":{"body":"a"}},
                [1,2],
                {"from":"1001","id":"wamid.B","timestamp":"soon","type":"text","text":{"body":"b"}}],
            "statuses":[{"id":"wamid.OUT","status":"delivered","timestamp":12,"pricing":"free","conversation":7},
                {"id":"wamid.OUT","status":["read"],"timestamp":"12"}]}"#,
    );
    let outcomes: Vec<(String, &str)> = parts(&body)
        .into_iter()
        .map(|part| {
            let outcome = match &part.item {
                InboundItem::Message(message) if message.text == "a" => "message a",
                InboundItem::Status { .. } => "status",
                InboundItem::Unrecognized { reason, .. } => {
                    assert!(!reason.contains("soon"), "{reason}");
                    "unrecognized"
                }
                other => panic!("{other:?}"),
            };
            (part.path, outcome)
        })
        .collect();
    let expected = [
        ("entry[0].changes[0].value.messages[0]", "unrecognized"),
        ("entry[0].changes[0].value.messages[1]", "message a"),
        ("entry[0].changes[0].value.messages[2]", "unrecognized"),
        ("entry[0].changes[0].value.messages[3]", "unrecognized"),
        ("entry[0].changes[0].value.statuses[0]", "status"),
        ("entry[0].changes[0].value.statuses[1]", "unrecognized"),
    ];
    let outcomes: Vec<(&str, &str)> = outcomes
        .iter()
        .map(|(path, outcome)| (path.as_str(), *outcome))
        .collect();
    assert_eq!(outcomes, expected);
}

#[test]
fn odd_envelopes_are_unrecognized_at_their_own_path() {
    let body = r#"{"object":"whatsapp_business_account","entry":[
        "not an entry",
        {"id":"1","messaging":[{"sender":{"id":"1"}}]},
        {"id":"2","changes":[
            7,
            {"value":{"metadata":{"phone_number_id":"111"}}},
            {"field":"message_trust","value":{"metadata":{"phone_number_id":"111"}}},
            {"field":"messages"},
            {"field":"messages","value":{"metadata":{"phone_number_id":"111"},"messages":{"id":"wamid.X"}}},
            {"field":"messages","value":{"metadata":{"phone_number_id":"111"},"messages":[],"contacts":[]}}]},
        {"id":"3","changes":[]}]}"#;
    let found: Vec<(String, Option<ExternalIdText>, String)> = parts(body)
        .into_iter()
        .map(|part| match part.item {
            InboundItem::Unrecognized { account, reason } => (
                part.path,
                account.map(|account| account.as_str().to_owned()),
                reason,
            ),
            other => panic!("{other:?}"),
        })
        .collect();
    let expected: Vec<(String, Option<ExternalIdText>, String)> = [
        ("entry[0]", None, "an entry that is not a JSON object"),
        (
            "entry[1]",
            None,
            "an entry without a changes list (its fields: id, messaging)",
        ),
        (
            "entry[2].changes[0]",
            None,
            "a change that is not a JSON object",
        ),
        (
            "entry[2].changes[1]",
            Some("111"),
            "a change without a field name",
        ),
        (
            "entry[2].changes[2]",
            Some("111"),
            "a change of a field buzon does not know: message_trust",
        ),
        (
            "entry[2].changes[3]",
            None,
            "a messages change without a value object",
        ),
        (
            "entry[2].changes[4].value.messages",
            Some("111"),
            "value.messages is not a list",
        ),
        (
            "entry[2].changes[5]",
            Some("111"),
            "a messages change with no messages, statuses or errors",
        ),
    ]
    .into_iter()
    .map(|(path, account, reason)| {
        (
            path.to_owned(),
            account.map(str::to_owned),
            reason.to_owned(),
        )
    })
    .collect();
    assert_eq!(found, expected);
}

type ExternalIdText = String;

#[test]
fn statuses_keep_todays_mapping_whatever_their_pricing() {
    let body = change(
        "messages",
        r#"{"metadata":{"phone_number_id":"111"},"statuses":[
            {"id":"wamid.1","status":"sent","timestamp":"1","recipient_id":"1001","conversation":{"id":"c","expiration_timestamp":"2","origin":{"type":"service"}},"pricing":{"billable":true,"pricing_model":"CBP","category":"service"}},
            {"id":"wamid.1","status":"delivered","timestamp":"2","recipient_user_id":"US.1","pricing":{"billable":false,"pricing_model":"PMP","type":"free_customer_service","category":"service"}},
            {"id":"wamid.1","status":"read","timestamp":"3"},
            {"id":"wamid.2","status":"played","timestamp":"4"},
            {"id":"wamid.3","status":"failed","timestamp":"5","errors":[{"code":131047,"title":"Re-engagement message","error_data":{"details":"More than 24 hours have passed"}}]},
            {"id":"wamid.4","status":"failed","timestamp":"6"},
            {"id":"wamid.5","status":"warning","timestamp":"7"}]}"#,
    );
    let statuses: Vec<String> = parts(&body)
        .into_iter()
        .map(|part| match part.item {
            InboundItem::Status { status, error, .. } => format!("{status:?} {error:?}"),
            InboundItem::Unrecognized { reason, .. } => reason,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        statuses,
        [
            "Sent None",
            "Delivered None",
            "Read None",
            "Read None",
            "Failed Some(\"131047 Re-engagement message: More than 24 hours have passed\")",
            "Failed Some(\"the platform gave no reason\")",
            "a status buzon does not track: warning",
        ]
    );
}

#[test]
fn a_part_is_never_without_an_outcome() {
    // Every path names one part; no path appears twice.
    let body = change(
        "messages",
        r#"{"metadata":{"phone_number_id":"111"},"contacts":[{"wa_id":"1001"}],
            "messages":[{"from":"1001","id":"wamid.A","timestamp":"10","type":"text","text":{"body":"a"}}],
            "statuses":[{"id":"wamid.OUT","status":"read","timestamp":"12"}],
            "errors":[{"code":1}]}"#,
    );
    let parts: Vec<Part> = parts(&body);
    let mut paths: Vec<&str> = parts.iter().map(|part| part.path.as_str()).collect();
    paths.dedup();
    assert_eq!(paths.len(), 3);
}
