use crate::{connector, fixture};
use buzon_connector::{
    Connector, ConnectorError, InboundItem, MessageKind, Origin, Part, PlatformMessage,
};
use buzon_core::{Attachment, ConversationKind, DeliveryStatus, ExternalId, NewContact, Timestamp};
use buzon_whatsapp::REACTION_REMOVED;

fn id(raw: &str) -> ExternalId {
    ExternalId::parse(raw).expect("a valid id")
}

fn normalize_parts(body: &[u8]) -> Result<Vec<Part>, ConnectorError> {
    connector("http://127.0.0.1:9/v21.0").normalize(Origin::Webhook, body)
}

fn normalize(body: &[u8]) -> Result<Vec<InboundItem>, ConnectorError> {
    normalize_parts(body).map(|parts| parts.into_iter().map(|part| part.item).collect())
}

fn items_of(name: &str) -> Vec<InboundItem> {
    normalize(&fixture(name)).unwrap_or_else(|err| panic!("{name} normalizes: {err}"))
}

fn only_message(items: Vec<InboundItem>) -> PlatformMessage {
    match <[InboundItem; 1]>::try_from(items) {
        Ok([InboundItem::Message(message)]) => message,
        other => panic!("expected one message, got {other:?}"),
    }
}

/// The pywa fixtures' user: phone 972987654321, named "Test Name", on number 1122334455667.
fn pywa_message(text: &str, at: i64) -> PlatformMessage {
    PlatformMessage {
        account: id("1122334455667"),
        platform_id: id("wamid.xyzxyz"),
        thread_key: "whatsapp:972987654321".into(),
        conversation: ConversationKind::Whatsapp,
        kind: MessageKind::Direct,
        author: NewContact {
            platform_id: id("972987654321"),
            name: Some("Test Name".into()),
            handle: Some("+972987654321".into()),
        },
        text: text.into(),
        attachments: Vec::new(),
        created_at: Timestamp::from_secs(at),
        in_reply_to: None,
        raw: None,
        found_by: None,
    }
}

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

/// A one-message `messages` change from 16505551234 on number 106540352242922, around
/// `message` (the JSON of `messages[0]`) and `contacts`.
fn delivery(contacts: &str, message: &str) -> Vec<u8> {
    format!(
        r#"{{"object":"whatsapp_business_account","entry":[{{"id":"102290129340398","changes":[{{"field":"messages",
        "value":{{"messaging_product":"whatsapp","metadata":{{"display_phone_number":"15550783881","phone_number_id":"106540352242922"}},
        "contacts":{contacts},"messages":[{message}]}}}}]}}]}}"#
    )
    .into_bytes()
}

const SHEENA: &str = r#"[{"profile":{"name":"Sheena Nelson"},"wa_id":"16505551234"}]"#;

fn message_from_sheena(body: &str) -> PlatformMessage {
    only_message(normalize(&delivery(SHEENA, body)).expect("the delivery normalizes"))
}

#[test]
fn a_text_message_becomes_a_direct_message_in_the_users_chat() {
    assert_eq!(
        only_message(items_of("text_message.json")),
        PlatformMessage {
            account: id("106540352242922"),
            platform_id: id("wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="),
            thread_key: "whatsapp:16505551234".into(),
            conversation: ConversationKind::Whatsapp,
            kind: MessageKind::Direct,
            author: NewContact {
                platform_id: id("16505551234"),
                name: Some("Sheena Nelson".into()),
                handle: Some("+16505551234".into()),
            },
            text: "Does it come in another color?".into(),
            attachments: Vec::new(),
            created_at: Timestamp::from_secs(1_749_416_383),
            in_reply_to: None,
            raw: None,
            found_by: None,
        }
    );
}

#[test]
fn a_reaction_reads_as_its_decoded_emoji_and_answers_the_reacted_message() {
    let message = only_message(items_of("reaction_escaped_emoji.json"));
    assert_eq!(message.text, "\u{1F62E}");
    assert_eq!(message.text.chars().collect::<Vec<_>>(), vec!['😮']);
    assert_eq!(
        message,
        PlatformMessage {
            in_reply_to: Some(id("wamid.yzxyzx=")),
            ..pywa_message("😮", 1_697_044_456)
        }
    );
}

#[test]
fn a_removed_reaction_is_kept_with_a_marker_text() {
    assert_eq!(REACTION_REMOVED, "(reaction removed)");
    assert_eq!(
        only_message(items_of("reaction_removed_no_emoji.json")),
        PlatformMessage {
            in_reply_to: Some(id("wamid.yzxyzx=")),
            ..pywa_message(REACTION_REMOVED, 1_697_044_456)
        }
    );
}

#[test]
fn an_image_without_caption_has_empty_text_and_the_media_id() {
    assert_eq!(
        only_message(items_of("image_message.json")),
        PlatformMessage {
            attachments: vec![Attachment {
                mime_type: Some("image/jpeg".into()),
                media_id: Some("65463453".into()),
                ..attachment("image")
            }],
            ..pywa_message("", 1_697_043_379)
        }
    );
}

#[test]
fn a_button_reply_reads_as_its_title_and_answers_the_context_message() {
    assert_eq!(
        only_message(items_of("interactive_button_reply_bsuid.json")),
        PlatformMessage {
            in_reply_to: Some(id("wamid.xyzxyz")),
            ..pywa_message("title", 1_698_266_730)
        }
    );
}

#[test]
fn an_unsupported_message_is_kept_with_a_placeholder_and_the_platform_error() {
    let message = only_message(items_of("unsupported_message_type.json"));
    assert!(
        message
            .raw
            .as_deref()
            .is_some_and(|raw| raw.contains("131051")),
        "the part is kept as it arrived: {:?}",
        message.raw
    );
    assert_eq!(
        PlatformMessage {
            raw: None,
            ..message
        },
        pywa_message(
            "[message of an unsupported kind: unsupported] (131051 Message type unknown: Message type is currently not supported.)",
            1_697_044_706
        )
    );
}

#[test]
fn a_sent_status_is_reported_for_the_wamid() {
    assert_eq!(
        items_of("status_sent.json"),
        vec![InboundItem::Status {
            account: id("1122334455667"),
            platform_id: id("wamid.xyzxyz"),
            status: DeliveryStatus::Sent,
            error: None,
            at: Timestamp::from_secs(1_698_266_945),
            reference: None,
        }]
    );
}

#[test]
fn a_status_echoes_the_reference_the_send_carried() {
    // `biz_opaque_callback_data` of the send, echoed by the Cloud API in its statuses.
    let body = br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{
        "messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"1122334455667"},
        "statuses":[{"id":"wamid.ref","status":"delivered","timestamp":"1698266945","recipient_id":"16505551234",
                     "biz_opaque_callback_data":"user:3:reply-7"}]}}]}]}"#;
    assert_eq!(
        normalize(body).unwrap(),
        vec![InboundItem::Status {
            account: id("1122334455667"),
            platform_id: id("wamid.ref"),
            status: DeliveryStatus::Delivered,
            error: None,
            at: Timestamp::from_secs(1_698_266_945),
            reference: Some("user:3:reply-7".into()),
        }]
    );
}

#[test]
fn a_failed_status_carries_code_title_and_details() {
    assert_eq!(
        items_of("status_failed.json"),
        vec![InboundItem::Status {
            account: id("1122334455667"),
            platform_id: id("wamid.xyzxyz"),
            status: DeliveryStatus::Failed,
            error: Some(
                "130472 User's number is part of an experiment: Failed to send message because this user's phone number is part of an experiment".into()
            ),
            at: Timestamp::from_secs(1_689_380_458),
            reference: None,
        }]
    );
}

#[test]
fn a_status_for_a_username_user_without_recipient_id_is_accepted() {
    assert_eq!(
        items_of("status_delivered_bsuid_only.json"),
        vec![InboundItem::Status {
            account: id("106540352242922"),
            platform_id: id("wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA="),
            status: DeliveryStatus::Delivered,
            error: None,
            at: Timestamp::from_secs(1_750_030_073),
            reference: None,
        }]
    );
}

#[test]
fn a_message_from_a_username_user_is_threaded_by_bsuid() {
    let contacts = r#"[{"profile":{"name":"Pablo M.","username":"@pablomorales"},
        "user_id":"US.13491208655302741918","parent_user_id":"US.11815799212886844830"}]"#;
    let body = delivery(
        contacts,
        r#"{"from_user_id":"US.13491208655302741918","id":"wamid.B1","timestamp":"1750030000","type":"text","text":{"body":"hola"}}"#,
    );
    let message = only_message(normalize(&body).unwrap());
    assert_eq!(message.thread_key, "whatsapp:bsuid:US.13491208655302741918");
    assert_eq!(
        message.author,
        NewContact {
            platform_id: id("US.13491208655302741918"),
            name: Some("Pablo M.".into()),
            handle: Some("@pablomorales".into()),
        }
    );
    assert_eq!(message.text, "hola");

    // Without from_user_id, the contact's user_id names the user.
    let body = delivery(
        contacts,
        r#"{"id":"wamid.B2","timestamp":"1750030001","type":"text","text":{"body":"hola"}}"#,
    );
    let message = only_message(normalize(&body).unwrap());
    assert_eq!(message.thread_key, "whatsapp:bsuid:US.13491208655302741918");
}

#[test]
fn a_message_naming_no_user_is_unrecognized_without_quoting_it() {
    let body = delivery(
        "[]",
        r#"{"id":"wamid.B3","timestamp":"1750030001","type":"text","text":{"body":"hola"}}"#,
    );
    let parts = normalize_parts(&body).unwrap();
    assert_eq!(parts.len(), 1, "{parts:?}");
    assert_eq!(parts[0].path, "entry[0].changes[0].value.messages[0]");
    assert!(
        matches!(&parts[0].item, InboundItem::Unrecognized { account: Some(account), reason }
            if account.as_str() == "106540352242922" && !reason.contains("hola")),
        "{parts:?}"
    );
}

#[test]
fn media_messages_keep_caption_filename_and_mime_type() {
    let message = message_from_sheena(
        r#"{"from":"16505551234","id":"wamid.D1","timestamp":"1749416400","type":"document",
            "document":{"caption":"the invoice","filename":"invoice.pdf","mime_type":"application/pdf","sha256":"abc","id":"1003383421387256"}}"#,
    );
    assert_eq!(message.text, "the invoice");
    assert_eq!(
        message.attachments,
        vec![Attachment {
            mime_type: Some("application/pdf".into()),
            media_id: Some("1003383421387256".into()),
            filename: Some("invoice.pdf".into()),
            caption: Some("the invoice".into()),
            ..attachment("document")
        }]
    );
    for kind in ["audio", "video", "sticker"] {
        let message = message_from_sheena(&format!(
            r#"{{"from":"16505551234","id":"wamid.{kind}","timestamp":"1749416400","type":"{kind}",
                "{kind}":{{"mime_type":"x/y","sha256":"abc","id":"42"}}}}"#
        ));
        assert_eq!(message.text, "");
        assert_eq!(
            message.attachments,
            vec![Attachment {
                mime_type: Some("x/y".into()),
                media_id: Some("42".into()),
                ..attachment(kind)
            }],
            "{kind}"
        );
    }
}

#[test]
fn a_location_reads_as_name_address_and_coordinates() {
    let message = message_from_sheena(
        r#"{"from":"16505551234","id":"wamid.L1","timestamp":"1749416400","type":"location",
            "location":{"address":"1 Hacker Way, Menlo Park, CA 94025","latitude":37.483307,"longitude":-122.148981,"name":"Meta Headquarters"}}"#,
    );
    assert_eq!(
        message.text,
        "📍 Meta Headquarters 1 Hacker Way, Menlo Park, CA 94025 (37.483307, -122.148981)"
    );
    assert_eq!(
        message.attachments,
        vec![Attachment {
            url: Some("geo:37.483307,-122.148981".into()),
            ..attachment("location")
        }]
    );
    let pin = message_from_sheena(
        r#"{"from":"16505551234","id":"wamid.L2","timestamp":"1749416400","type":"location",
            "location":{"latitude":1.5,"longitude":2}}"#,
    );
    assert_eq!(pin.text, "📍 (1.5, 2)");
}

#[test]
fn shared_contacts_list_their_names_and_phones() {
    let message = message_from_sheena(
        r#"{"from":"16505551234","id":"wamid.C1","timestamp":"1749416400","type":"contacts",
            "contacts":[{"name":{"formatted_name":"Barbara J. Johnson","first_name":"Barbara"},"phones":[{"phone":"+1 (940) 555-1234","type":"HOME","wa_id":"19405551234"}]},
                        {"name":{"first_name":"Ana","last_name":"Ruiz"}}]}"#,
    );
    assert_eq!(
        message.text,
        "👤 Barbara J. Johnson (+1 (940) 555-1234), Ana Ruiz"
    );
    assert_eq!(message.attachments, vec![attachment("contacts")]);
}

#[test]
fn quick_reply_buttons_and_list_rows_read_as_their_titles() {
    let button = message_from_sheena(
        r#"{"context":{"from":"15550783881","id":"wamid.T1"},"from":"16505551234","id":"wamid.Q1","timestamp":"1749416400",
            "type":"button","button":{"payload":"STOP","text":"Stop promotions"}}"#,
    );
    assert_eq!(button.text, "Stop promotions");
    assert_eq!(button.in_reply_to, Some(id("wamid.T1")));
    let row = message_from_sheena(
        r#"{"from":"16505551234","id":"wamid.Q2","timestamp":"1749416400","type":"interactive",
            "interactive":{"type":"list_reply","list_reply":{"id":"priority_express","title":"Express","description":"Next day"}}}"#,
    );
    assert_eq!(row.text, "Express — Next day");
    let flow = message_from_sheena(
        r#"{"from":"16505551234","id":"wamid.Q3","timestamp":"1749416400","type":"interactive",
            "interactive":{"type":"nfm_reply","nfm_reply":{"name":"flow","body":"Sent","response_json":"{\"flow_token\":\"t\"}"}}}"#,
    );
    assert_eq!(flow.text, "Sent\n{\"flow_token\":\"t\"}");
}

#[test]
fn replies_and_quotes_answer_the_context_message() {
    let message = message_from_sheena(
        r#"{"context":{"from":"15550783881","id":"wamid.ORIGINAL"},"from":"16505551234","id":"wamid.R1",
            "timestamp":"1749416400","type":"text","text":{"body":"yes please"}}"#,
    );
    assert_eq!(message.in_reply_to, Some(id("wamid.ORIGINAL")));
    assert_eq!(message.text, "yes please");
}

#[test]
fn unknown_types_are_kept_with_a_placeholder() {
    let message = message_from_sheena(
        r#"{"from":"16505551234","id":"wamid.U1","timestamp":"1749416400","type":"hologram","hologram":{"id":"1"}}"#,
    );
    assert_eq!(message.text, "[message of an unsupported kind: hologram]");
    assert_eq!(message.platform_id, id("wamid.U1"));
    assert!(message.raw.is_some());
    let order = message_from_sheena(
        r#"{"from":"16505551234","id":"wamid.O1","timestamp":"1749416400","type":"order",
            "order":{"catalog_id":"1","text":"gift wrap","product_items":[{"product_retailer_id":"SKU-1","quantity":"2","item_price":"10","currency":"USD"}]}}"#,
    );
    assert_eq!(order.text, "🛒 Order: 2 × SKU-1\ngift wrap");
}

#[test]
fn every_entry_change_message_and_status_of_a_batch_is_read() {
    let body = br#"{"object":"whatsapp_business_account","entry":[
        {"id":"1","changes":[
            {"field":"messages","value":{"metadata":{"phone_number_id":"111"},
                "contacts":[{"profile":{"name":"A"},"wa_id":"1001"},{"profile":{"name":"B"},"wa_id":"1002"}],
                "messages":[
                    {"from":"1001","id":"wamid.A","timestamp":"10","type":"text","text":{"body":"a"}},
                    {"from":"1002","id":"wamid.B","timestamp":"11","type":"text","text":{"body":"b"}}]}},
            {"field":"messages","value":{"metadata":{"phone_number_id":"111"},
                "statuses":[{"id":"wamid.OUT","status":"played","timestamp":"12","recipient_id":"1001"}]}}]},
        {"id":"2","changes":[
            {"field":"messages","value":{"metadata":{"phone_number_id":"222"},
                "statuses":[{"id":"wamid.OUT2","status":"read","timestamp":"13"}]}}]}]}"#;
    let items = normalize(body).unwrap();
    assert_eq!(items.len(), 4);
    let InboundItem::Message(first) = &items[0] else {
        panic!("{items:?}")
    };
    let InboundItem::Message(second) = &items[1] else {
        panic!("{items:?}")
    };
    assert_eq!(
        (first.author.name.as_deref(), first.thread_key.as_str()),
        (Some("A"), "whatsapp:1001")
    );
    assert_eq!(
        (second.author.name.as_deref(), second.thread_key.as_str()),
        (Some("B"), "whatsapp:1002")
    );
    assert_eq!(
        items[2],
        InboundItem::Status {
            account: id("111"),
            platform_id: id("wamid.OUT"),
            status: DeliveryStatus::Read,
            error: None,
            at: Timestamp::from_secs(12),
            reference: None,
        }
    );
    assert!(
        matches!(&items[3], InboundItem::Status { account, status: DeliveryStatus::Read, .. } if account.as_str() == "222")
    );
}

#[test]
fn other_fields_untracked_statuses_and_errors_are_known_or_unrecognized_not_rejected() {
    let body = br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[
        {"field":"message_template_status_update","value":{"event":"APPROVED","message_template_id":12345}},
        {"field":"messages","value":{"metadata":{"phone_number_id":"111"},
            "statuses":[{"id":"wamid.OUT","status":"deleted","timestamp":"12"}],
            "errors":[{"code":131000,"title":"Something went wrong","error_data":{"details":"retry"}}]}}]}]}"#;
    let parts = normalize_parts(body).unwrap();
    let paths: Vec<&str> = parts.iter().map(|part| part.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "entry[0].changes[0]",
            "entry[0].changes[1].value.statuses[0]",
            "entry[0].changes[1].value.errors[0]",
        ]
    );
    assert_eq!(
        parts[0].item,
        InboundItem::Known {
            account: None,
            kind: "account_update"
        }
    );
    assert_eq!(
        parts[1].item,
        InboundItem::Unrecognized {
            account: Some(id("111")),
            reason: "a status buzon does not track: deleted".into()
        }
    );
    assert_eq!(
        parts[2].item,
        InboundItem::Known {
            account: Some(id("111")),
            kind: "error"
        }
    );
}

#[test]
fn bodies_that_are_not_whatsapp_notifications_are_payload_errors() {
    for body in [
        &b"not json"[..],
        b"",
        b"[]",
        br#"{"object":"page","entry":[]}"#,
        br#"{"entry":[]}"#,
        br#"{"object":"whatsapp_business_account"}"#,
        br#"{"object":"whatsapp_business_account","entry":{}}"#,
    ] {
        let result = normalize(body);
        assert!(
            matches!(result, Err(ConnectorError::Payload(_))),
            "{}: {result:?}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn parts_that_cannot_be_stored_are_unrecognized_with_their_path() {
    for (body, reason) in [
        (
            &br#"{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[{"from":"1","id":"w","timestamp":"1","type":"text","text":{"body":"x"}}]}}]}]}"#[..],
            "a message without a readable metadata.phone_number_id",
        ),
        (
            br#"{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"1"},"messages":[{"from":"1","id":"w","timestamp":"yesterday","type":"text"}]}}]}]}"#,
            "a message without a readable timestamp",
        ),
        (
            br#"{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"1"},"messages":[{"from":"1","timestamp":"1","type":"text"}]}}]}]}"#,
            "a message without a readable id",
        ),
    ] {
        let parts = normalize_parts(body).unwrap();
        assert_eq!(parts.len(), 1, "{parts:?}");
        assert_eq!(parts[0].path, "entry[0].changes[0].value.messages[0]");
        assert!(
            matches!(&parts[0].item, InboundItem::Unrecognized { reason: found, .. } if found == reason),
            "{parts:?}"
        );
    }
}

#[test]
fn polled_pages_are_refused_because_whatsapp_is_never_polled() {
    let account = id("106540352242922");
    let origin = Origin::Poll {
        endpoint: "messages",
        account: &account,
    };
    let result =
        connector("http://127.0.0.1:9/v21.0").normalize(origin, &fixture("text_message.json"));
    assert!(
        matches!(result, Err(ConnectorError::Payload(_))),
        "{result:?}"
    );
}
