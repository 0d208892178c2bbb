//! Every kind in `KNOWN_EVENTS`, each from a recorded or documented payload.

use super::{change, id, messages, only_part, parts};
use crate::inbound::KNOWN_EVENTS;
use buzon_connector::{InboundItem, Part};
use std::collections::BTreeSet;

fn known(account: Option<&str>, kind: &'static str) -> InboundItem {
    InboundItem::Known {
        account: account.map(id),
        kind,
    }
}

const NUMBER: Option<&str> = Some("106540352242922");

/// Messages sent from the WhatsApp Business app (coexistence), shaped like pywa
/// `outgoing_message.json` and `delete_message.json` `coexistence_delete_message`.
#[test]
fn echoes_of_the_business_apps_own_messages_are_known_echo() {
    for echo in [
        r#"{"from":"15550783881","to":"16505551234","id":"wamid.E1","timestamp":"1697043223","type":"text","text":{"body":"Test message"}}"#,
        r#"{"from":"15550783881","to":"16505551234","id":"wamid.E2","timestamp":"1697044968","type":"revoke","revoke":{"original_message_id":"wamid.E1"}}"#,
    ] {
        let body = change(
            "smb_message_echoes",
            &format!(
                r#"{{"messaging_product":"whatsapp","metadata":{{"display_phone_number":"15550783881","phone_number_id":"106540352242922"}},"message_echoes":[{echo}]}}"#
            ),
        );
        assert_eq!(
            only_part(&body),
            Part::new("entry[0].changes[0]", known(NUMBER, "echo"))
        );
    }
}

/// pywa `system.json`: number changed, user id changed (no `from`, no contacts), identity
/// changed.
#[test]
fn system_messages_are_known_system() {
    for system in [
        r#"{"from":"16505551234","id":"wamid.S1","timestamp":"1753851315","type":"system",
            "system":{"body":"User A changed from 16505551234 to 16505559999","wa_id":"16505559999","type":"user_changed_number"}}"#,
        r#"{"id":"wamid.S2","timestamp":"1753851315","type":"system",
            "system":{"body":"User changed from CO.1 to MX.2","user_id":"MX.2","previous_user_id":"CO.1","type":"user_changed_user_id"}}"#,
        r#"{"from":"16505551234","id":"wamid.S3","timestamp":"1697044706","type":"system",
            "identity":{"acknowledged":true,"created_timestamp":"1697044706","hash":"x"},
            "system":{"body":"User identity changed","type":"customer_identity_changed"}}"#,
    ] {
        assert_eq!(
            only_part(&messages(system)),
            Part::new(
                "entry[0].changes[0].value.messages[0]",
                known(NUMBER, "system")
            )
        );
    }
}

/// pywa `chat_opened.json`.
#[test]
fn a_chat_opened_for_the_first_time_is_known_request_welcome() {
    assert_eq!(
        only_part(&messages(
            r#"{"from":"16505551234","id":"wamid.W","timestamp":"1697043223","type":"request_welcome"}"#
        ))
        .item,
        known(NUMBER, "request_welcome")
    );
}

/// pywa `message.json` `interactive_message_with_err`: the message stays a message with a
/// placeholder, and the change's error is its own part.
#[test]
fn errors_beside_messages_are_known_error_parts_of_their_own() {
    let body = change(
        "messages",
        r#"{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
            "contacts":[{"profile":{"name":"Sheena Nelson"},"wa_id":"16505551234"}],
            "messages":[{"context":{"from":"15550783881","id":"wamid.gvwegfretge=="},"from":"16505551234","id":"wamid.wegrchytvwcggt=","timestamp":"1700505494","type":"interactive"}],
            "errors":[{"code":131000,"title":"Something went wrong","message":"Something went wrong","error_data":{"details":"Unsupported webhook payload"}}]}"#,
    );
    let parts = parts(&body);
    assert_eq!(parts.len(), 2, "{parts:?}");
    assert_eq!(parts[0].path, "entry[0].changes[0].value.messages[0]");
    let InboundItem::Message(message) = &parts[0].item else {
        panic!("{parts:?}")
    };
    assert_eq!(
        message.text,
        "[message of an unsupported kind: interactive]"
    );
    assert!(message.raw.is_some());
    assert_eq!(
        parts[1],
        Part::new(
            "entry[0].changes[0].value.errors[0]",
            known(NUMBER, "error")
        )
    );
    // An error of any shape is still an error.
    let body = change(
        "messages",
        r#"{"metadata":{"phone_number_id":"106540352242922"},"errors":["oops"]}"#,
    );
    assert_eq!(only_part(&body).item, known(NUMBER, "error"));
}

/// The Meta webhooks overview's account-level fields; values as in pywa
/// `template_status_update.json`, `template_quality_update.json`, `account_update.json`.
#[test]
fn account_template_and_number_updates_are_known_account_update() {
    for (field, value) in [
        (
            "message_template_status_update",
            r#"{"event":"APPROVED","message_template_id":12345,"message_template_name":"my_template","message_template_language":"en_US","reason":"NONE"}"#,
        ),
        (
            "message_template_quality_update",
            r#"{"previous_quality_score":"GREEN","new_quality_score":"YELLOW","message_template_id":12345,"message_template_name":"my_template","message_template_language":"pt_BR"}"#,
        ),
        (
            "message_template_components_update",
            r#"{"message_template_id":12345,"message_template_name":"my_template","message_template_language":"en_US","message_template_element":"body"}"#,
        ),
        (
            "template_category_update",
            r#"{"message_template_id":12345,"message_template_name":"my_template","message_template_language":"en_US","previous_category":"UTILITY","new_category":"MARKETING"}"#,
        ),
        (
            "account_update",
            r#"{"phone_number":"15550783881","event":"VERIFIED_ACCOUNT"}"#,
        ),
        ("account_review_update", r#"{"decision":"APPROVED"}"#),
        (
            "account_alerts",
            r#"{"entity_type":"PHONE_NUMBER","entity_id":"106540352242922","alert_severity":"INFORMATIONAL","alert_status":"NONE","alert_type":"OBA_APPROVED","alert_description":"x"}"#,
        ),
        (
            "business_capability_update",
            r#"{"max_daily_conversation_per_phone":1000,"max_phone_numbers_per_business":2}"#,
        ),
        (
            "phone_number_name_update",
            r#"{"display_phone_number":"15550783881","decision":"APPROVED","requested_verified_name":"Buzon"}"#,
        ),
        (
            "phone_number_quality_update",
            r#"{"display_phone_number":"15550783881","event":"UPGRADE","current_limit":"TIER_10K"}"#,
        ),
        (
            "security",
            r#"{"display_phone_number":"15550783881","event":"PIN_CHANGED"}"#,
        ),
        (
            "flows",
            r#"{"event":"FLOW_STATUS_CHANGE","flow_id":"1","old_status":"DRAFT","new_status":"PUBLISHED"}"#,
        ),
        (
            "partner_solutions",
            r#"{"event":"SOLUTION_CREATED","solution_id":"1"}"#,
        ),
        (
            "payment_configuration_update",
            r#"{"configuration_name":"x","provider_name":"razorpay","status":"Active"}"#,
        ),
        (
            "smb_app_state_sync",
            r#"{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"state_sync":[{"type":"contact","contact":{"full_name":"Pablo Morales","phone_number":"16505551234"},"action":"add","metadata":{"timestamp":"1739321024"}}]}"#,
        ),
    ] {
        let part = only_part(&change(field, value));
        assert_eq!(part.path, "entry[0].changes[0]", "{field}");
        assert!(
            matches!(
                part.item,
                InboundItem::Known {
                    kind: "account_update",
                    ..
                }
            ),
            "{field}: {part:?}"
        );
    }
}

/// pywa `user_marketing_preferences.json`.
#[test]
fn marketing_preferences_are_known_optin() {
    let body = change(
        "user_preferences",
        r#"{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
            "contacts":[{"wa_id":"16505551234"}],
            "user_preferences":[{"wa_id":"16505551234","detail":"User requested to stop marketing messages","category":"marketing_messages","value":"stop","timestamp":1731705721}]}"#,
    );
    assert_eq!(
        only_part(&body),
        Part::new("entry[0].changes[0]", known(NUMBER, "optin"))
    );
}

/// pywa `call_status.json`: a `calls` change carries `statuses` of calls, not of messages.
#[test]
fn calls_are_known_call_even_with_statuses() {
    let body = change(
        "calls",
        r#"{"messaging_product":"whatsapp","metadata":{"display_phone_number":"16315553601","phone_number_id":"5483758353"},
            "statuses":[{"id":"wacid.ABGGFjFVU2AfAgo6V","timestamp":"1671644824","type":"call","status":"RINGING","recipient_id":"163155536021"}]}"#,
    );
    assert_eq!(
        only_part(&body),
        Part::new("entry[0].changes[0]", known(Some("5483758353"), "call"))
    );
}

#[test]
fn the_business_apps_history_is_known_history() {
    let body = change(
        "history",
        r#"{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
            "history":[{"metadata":{"phase":0,"chunk_order":1,"progress":100},"threads":[{"id":"16505551234","messages":[{"from":"16505551234","id":"wamid.H","timestamp":"1739230955","type":"text","text":{"body":"old"},"history_context":{"status":"READ"}}]}]}]}"#,
    );
    assert_eq!(
        only_part(&body),
        Part::new("entry[0].changes[0]", known(NUMBER, "history"))
    );
}

#[test]
fn ad_purchase_and_lead_events_are_known_automatic_event() {
    let body = change(
        "automatic_events",
        r#"{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
            "automatic_events":[{"id":"wamid.A","event_name":"Purchase","timestamp":1739321024,"ctwa_clid":"x","custom_data":{"currency":"USD","value":10}}]}"#,
    );
    assert_eq!(
        only_part(&body),
        Part::new("entry[0].changes[0]", known(NUMBER, "automatic_event"))
    );
}

/// Every listed kind is tested above, and nothing outside the list is ever reported.
#[test]
fn the_list_of_known_events_is_exactly_what_the_connector_reports() {
    let listed: BTreeSet<&str> = KNOWN_EVENTS.iter().copied().collect();
    assert_eq!(listed.len(), KNOWN_EVENTS.len(), "no kind listed twice");
    let tested: BTreeSet<&str> = [
        "echo",
        "system",
        "request_welcome",
        "error",
        "account_update",
        "optin",
        "call",
        "history",
        "automatic_event",
    ]
    .into_iter()
    .collect();
    assert_eq!(listed, tested);
    let connector = crate::WhatsappConnector::new(
        crate::WhatsappSettings::default(),
        buzon_connector::HttpClient::new(std::time::Duration::from_secs(1)),
    );
    assert_eq!(
        buzon_connector::Connector::known_events(&connector),
        KNOWN_EVENTS
    );
}
