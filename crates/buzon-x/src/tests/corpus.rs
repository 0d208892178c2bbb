//! The recorded X corpus (`tests/fixtures/corpus/x/`): every file normalized, every part the
//! manifest lists found at its path with exactly the outcome the manifest expects, and no part
//! the manifest does not list.
//!
//! The manifest says what a part `is`; the outcome each maps to is in [`expected`]. Parts marked
//! `other` are decided one by one in [`OTHER`], from their note.

use super::{connector, id};
use crate::KNOWN_EVENTS;
use buzon_connector::{Connector, InboundItem, Origin, Part};
use buzon_core::DeliveryStatus;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The outcome a manifest part should have.
#[derive(Debug, Clone, PartialEq)]
enum Expected {
    /// A message; `placeholder` when the text must carry one.
    Message {
        placeholder: bool,
    },
    Edited,
    Removed,
    Hidden,
    Status(DeliveryStatus),
    Known(&'static str),
    Unrecognized,
}

/// Parts the manifest marks `other`, by file and path, with the outcome decided for each.
const OTHER: &[(&str, &str, Expected)] = &[
    // The account deleted its own tweet: the tweet is removed (a reply buzon sent is marked
    // removed; a tweet buzon never stored changes nothing).
    (
        "x_tweet_delete.json",
        "tweet_delete_events[0]",
        Expected::Removed,
    ),
    // The account revoked the app's access.
    (
        "x_user_event_revoke_no_for_user_id.json",
        "user_event",
        Expected::Known("revoke"),
    ),
];

fn expected(is: &str, file: &str, path: &str) -> Expected {
    let known = |kind: &'static str| Expected::Known(kind);
    match is {
        "customer_message" | "quick_reply" => Expected::Message { placeholder: false },
        "unsupported_message" => Expected::Message { placeholder: true },
        "customer_message_edit" => Expected::Edited,
        "customer_message_delete" => Expected::Removed,
        "comment_hidden" => Expected::Hidden,
        "status_sent" => Expected::Status(DeliveryStatus::Sent),
        "status_delivered" => Expected::Status(DeliveryStatus::Delivered),
        "status_read" => Expected::Status(DeliveryStatus::Read),
        "status_failed" => Expected::Status(DeliveryStatus::Failed),
        "echo_of_our_send" => known("echo"),
        "read_receipt" => known("read"),
        "delivery_receipt" => known("delivery"),
        "typing" => known("typing"),
        "own_post" => known("own_post"),
        "reaction" => known("reaction"),
        "postback" => known("postback"),
        "optin" => known("optin"),
        "referral" => known("referral"),
        "handover" => known("handover"),
        "standby" => known("standby"),
        "page_like_or_follow" => known("like"),
        "share" => known("share"),
        "rating" => known("rating"),
        "system_message" => known("system"),
        "favorite" => known("favorite"),
        "follow" => known("follow"),
        "block" => known("block"),
        "mute" => known("mute"),
        "retweet_of_own" => known("retweet"),
        "unrecognized" => Expected::Unrecognized,
        "other" => OTHER
            .iter()
            .find(|(other_file, other_path, _)| *other_file == file && *other_path == path)
            .map(|(_, _, outcome)| outcome.clone())
            .unwrap_or_else(|| panic!("{file} {path}: an `other` part without a decision")),
        unknown => panic!("{file} {path}: the manifest says {unknown:?}"),
    }
}

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/corpus/x")
}

/// How a corpus body arrives: an Account Activity delivery, or a polled page of the endpoint
/// its entries belong to (DM events carry `event_type` or `dm_conversation_id`).
fn origin_of(body: &Value, file: &str) -> Option<&'static str> {
    if body.get("for_user_id").is_some()
        || body.get("user_event").is_some()
        || body.get("data").is_none()
    {
        return None;
    }
    let dm = file.contains("dm")
        || body["data"].as_array().is_some_and(|entries| {
            entries.iter().any(|entry| {
                entry.get("event_type").is_some() || entry.get("dm_conversation_id").is_some()
            })
        });
    Some(if dm { "dm_events" } else { "mentions" })
}

fn outcome_name(item: &InboundItem) -> String {
    match item {
        InboundItem::Message(message) if message.raw.is_some() => "message (salvaged)".into(),
        InboundItem::Message(_) => "message".into(),
        InboundItem::Edited(_) => "edited".into(),
        InboundItem::Removed { .. } => "removed".into(),
        InboundItem::Hidden { .. } => "hidden".into(),
        InboundItem::Status { status, .. } => format!("status {status:?}"),
        InboundItem::Fetch { .. } => "fetch".into(),
        InboundItem::Known { kind, .. } => format!("known {kind}"),
        InboundItem::Unrecognized { .. } => "unrecognized".into(),
    }
}

/// The mismatches between a manifest part and what normalize made of it.
fn check_part(file: &str, spec: &Value, part: &Part, mismatches: &mut Vec<String>) {
    let path = &part.path;
    let is = spec["is"].as_str().unwrap_or("");
    let expected = expected(is, file, path);
    let mut fail = |what: String| mismatches.push(format!("{file} {path} ({is}): {what}"));
    let text_of = |field: &str| spec.get(field).and_then(Value::as_str);
    match (&expected, &part.item) {
        (Expected::Message { placeholder }, InboundItem::Message(message)) => {
            if let Some(platform_id) = text_of("platform_id") {
                if message.platform_id.as_str() != platform_id {
                    fail(format!("platform id {}", message.platform_id));
                }
            }
            if let Some(author) = text_of("author") {
                if message.author.platform_id.as_str() != author {
                    fail(format!("author {}", message.author.platform_id));
                }
            }
            if let Some(account) = text_of("account") {
                if message.account.as_str() != account {
                    fail(format!("account {}", message.account));
                }
            }
            if let Some(text) = text_of("text") {
                if !message.text.contains(text) {
                    fail(format!("text {:?} does not contain {text:?}", message.text));
                }
            }
            let has_placeholder = message.text.contains("of an unsupported kind: ");
            if *placeholder && !(has_placeholder && message.raw.is_some()) {
                fail(format!(
                    "no placeholder and raw part: {:?} raw {}",
                    message.text,
                    message.raw.is_some()
                ));
            }
            // Each attachment the part carries is shown, or stands as a placeholder.
            let listed = spec
                .get("attachments")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            let placeholders = message.text.matches("of an unsupported kind: ").count();
            if message.attachments.len() + placeholders < listed {
                fail(format!(
                    "{listed} attachments listed, {} kept and {placeholders} placeholders",
                    message.attachments.len()
                ));
            }
        }
        (Expected::Edited, InboundItem::Edited(_))
        | (Expected::Removed, InboundItem::Removed { .. })
        | (Expected::Hidden, InboundItem::Hidden { .. })
        | (Expected::Unrecognized, InboundItem::Unrecognized { .. }) => {}
        (Expected::Status(status), InboundItem::Status { status: got, .. }) if status == got => {}
        (Expected::Known(kind), InboundItem::Known { kind: got, .. }) if kind == got => {}
        (expected, got) => fail(format!("expected {expected:?}, got {}", outcome_name(got))),
    }
    if let (Some(account), Some(got)) = (text_of("account"), account_of(&part.item)) {
        if got != account {
            fail(format!("account {got}"));
        }
    }
}

fn account_of(item: &InboundItem) -> Option<&str> {
    match item {
        InboundItem::Message(message) | InboundItem::Edited(message) => {
            Some(message.account.as_str())
        }
        InboundItem::Removed { account, .. }
        | InboundItem::Hidden { account, .. }
        | InboundItem::Status { account, .. }
        | InboundItem::Fetch { account, .. } => Some(account.as_str()),
        InboundItem::Known { account, .. } | InboundItem::Unrecognized { account, .. } => {
            account.as_ref().map(|account| account.as_str())
        }
    }
}

#[test]
fn every_corpus_part_has_its_expected_outcome() {
    let dir = corpus_dir();
    let manifest_path = dir.join("manifest.json");
    let Ok(manifest) = std::fs::read(&manifest_path) else {
        panic!(
            "the corpus manifest {} is readable",
            manifest_path.display()
        );
    };
    let manifest: Vec<Value> = serde_json::from_slice(&manifest).expect("the manifest is JSON");
    let x = connector("http://unused.invalid");
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut mismatches = Vec::new();
    let mut deliveries = 0;
    for entry in &manifest {
        let file = entry["file"].as_str().expect("every entry names its file");
        let bytes = std::fs::read(dir.join(file))
            .unwrap_or_else(|err| panic!("corpus file {file} is readable: {err}"));
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let specs = entry["parts"].as_array().cloned().unwrap_or_default();
        let account = specs
            .iter()
            .find_map(|spec| spec.get("account").and_then(Value::as_str))
            .unwrap_or("1");
        let account = id(account);
        let origin = match origin_of(&body, file) {
            None => Origin::Webhook,
            Some(endpoint) => Origin::Poll {
                endpoint,
                account: &account,
            },
        };
        deliveries += 1;
        let parts = match x.normalize(origin, &bytes) {
            Ok(parts) => parts,
            Err(err) => {
                let whole = specs.iter().any(|spec| spec["path"] == "$");
                if !whole {
                    mismatches.push(format!("{file}: the body is refused: {err:?}"));
                }
                *counts.entry("refused as a whole ($)".into()).or_default() += 1;
                continue;
            }
        };
        for part in &parts {
            if let InboundItem::Known { kind, .. } = &part.item {
                assert!(KNOWN_EVENTS.contains(kind), "{file}: {kind} is listed");
            }
            *counts.entry(outcome_name(&part.item)).or_default() += 1;
        }
        for spec in &specs {
            let path = spec["path"].as_str().unwrap_or("");
            let found: Vec<&Part> = parts.iter().filter(|part| part.path == path).collect();
            match found.as_slice() {
                [part] => check_part(file, spec, part, &mut mismatches),
                [] => mismatches.push(format!("{file} {path}: no part at this path")),
                more => mismatches.push(format!("{file} {path}: {} parts", more.len())),
            }
        }
        for part in &parts {
            if !specs.iter().any(|spec| spec["path"] == part.path.as_str()) {
                mismatches.push(format!(
                    "{file} {}: a part the manifest does not list ({})",
                    part.path,
                    outcome_name(&part.item)
                ));
            }
        }
    }
    println!("x corpus: {deliveries} deliveries");
    for (outcome, count) in &counts {
        println!("  {outcome}: {count}");
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
