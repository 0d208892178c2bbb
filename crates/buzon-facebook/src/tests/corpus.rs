//! The recorded corpus (`tests/fixtures/corpus/facebook/`): every delivery is normalized and
//! every part its `manifest.json` lists is checked against what it must become. The parts
//! normalize finds and the parts the manifest lists must be the same, path for path.
//!
//! Parts the manifest calls `other` are decided here, in [`OTHER`], from their notes.

use super::offline_connector;
use buzon_connector::{Connector, InboundItem, Origin, Part, PlatformMessage};
use buzon_core::ExternalId;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// What the manifest's `other` parts must become, by file and path, with why.
const OTHER: &[(&str, &str, Expected)] = &[
    // "policy-enforcement (hyphenated key!) block notice from Meta about the Page/app": a known
    // no-message event of its own.
    (
        "messenger_policy_enforcement_no_sender.json",
        "entry[0].messaging[0]",
        Expected::Known("policy_enforcement"),
    ),
    // "verb unhide: a hidden comment was made visible again": shown again.
    (
        "feed_comment_unhide.json",
        "entry[0].changes[0]",
        Expected::Hidden(false),
    ),
    // "verb hide on a visitor POST (not a comment): the Page hid a visitor post": hidden, as
    // the stored post must be.
    (
        "feed_post_hide.json",
        "entry[0].changes[0]",
        Expected::Hidden(true),
    ),
    // "verb block with video_flag_reason 1 (Facebook blocked the Page's video)": `block`.
    (
        "feed_video_block.json",
        "entry[0].changes[0]",
        Expected::Known("block"),
    ),
    // "field 'mention': the Page was tagged … outside its own feed; no author in the value":
    // buzon does not read mentions yet, so they stay unparsed until it does.
    (
        "feed_mention_post.json",
        "entry[0].changes[0]",
        Expected::Fetch,
    ),
    (
        "feed_mention_comment.json",
        "entry[0].changes[0]",
        Expected::Fetch,
    ),
];

/// What a part must become.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expected {
    /// A customer's message, with the manifest's id, author, account and text.
    Message,
    /// A customer's message with a placeholder for what cannot be shown, and its raw JSON.
    Unsupported,
    Edited,
    Removed,
    Hidden(bool),
    Known(&'static str),
    /// A message when the part carries the customer's text, else this known kind.
    MessageOrKnown(&'static str),
    /// A message when the part carries a customer's message, else any known kind.
    MessageOrAnyKnown,
    /// An object to fetch (a Page mention), named by the part's `platform_id`.
    Fetch,
}

fn expected(is: &str, file: &str, path: &str) -> Result<Expected, String> {
    Ok(match is {
        "customer_message" => Expected::Message,
        "unsupported_message" => Expected::Unsupported,
        "customer_message_edit" => Expected::Edited,
        "customer_message_delete" => Expected::Removed,
        "comment_hidden" => Expected::Hidden(true),
        "echo_of_our_send" => Expected::Known("echo"),
        "read_receipt" => Expected::Known("read"),
        "delivery_receipt" => Expected::Known("delivery"),
        "typing" => Expected::Known("typing"),
        "own_post" => Expected::Known("own_post"),
        "reaction" => Expected::Known("reaction"),
        "postback" => Expected::MessageOrKnown("postback"),
        "optin" => Expected::Known("optin"),
        "referral" => Expected::MessageOrKnown("referral"),
        "handover" => Expected::Known("handover"),
        "standby" => Expected::MessageOrAnyKnown,
        "page_like_or_follow" => Expected::Known("like"),
        "share" => Expected::Known("share"),
        // A review with its text is a message; a comment on or a like of a review is known.
        "rating" => Expected::MessageOrKnown("rating"),
        "other" => OTHER
            .iter()
            .find(|(other_file, other_path, _)| *other_file == file && *other_path == path)
            .map(|(_, _, expected)| *expected)
            .ok_or_else(|| format!("{file} {path}: an `other` part with no decision in OTHER"))?,
        unknown => return Err(format!("{file} {path}: unknown `is` {unknown:?}")),
    })
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/corpus/facebook")
}

/// A label per outcome, for the counts.
fn label(item: &InboundItem) -> String {
    match item {
        InboundItem::Message(_) => "message".to_owned(),
        InboundItem::Edited(_) => "edited".to_owned(),
        InboundItem::Removed { .. } => "removed".to_owned(),
        InboundItem::Hidden { hidden: true, .. } => "hidden".to_owned(),
        InboundItem::Hidden { hidden: false, .. } => "unhidden".to_owned(),
        InboundItem::Status { .. } => "status".to_owned(),
        InboundItem::Fetch { .. } => "fetch".to_owned(),
        InboundItem::Known { kind, .. } => format!("known:{kind}"),
        InboundItem::Unrecognized { .. } => "unrecognized".to_owned(),
    }
}

fn text_of(entry: &Value, key: &str) -> Option<String> {
    match entry.get(key)? {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

fn account_of(item: &InboundItem) -> Option<&ExternalId> {
    match item {
        InboundItem::Message(message) | InboundItem::Edited(message) => Some(&message.account),
        InboundItem::Removed { account, .. }
        | InboundItem::Hidden { account, .. }
        | InboundItem::Status { account, .. }
        | InboundItem::Fetch { account, .. } => Some(account),
        InboundItem::Known { account, .. } | InboundItem::Unrecognized { account, .. } => {
            account.as_ref()
        }
    }
}

/// Whether the message shows each attachment the manifest names (by the platform's type),
/// as an attachment or as a placeholder, and nothing more.
fn shows_attachments(message: &PlatformMessage, names: &[String]) -> bool {
    let mut shown: Vec<String> = message
        .attachments
        .iter()
        .map(|attachment| attachment.kind.clone())
        .collect();
    let mut rest = message.text.as_str();
    while let Some(start) = rest.find("[attachment of an unsupported kind: ") {
        let after = &rest[start + "[attachment of an unsupported kind: ".len()..];
        let Some(end) = after.find(']') else {
            break;
        };
        shown.push(after[..end].to_owned());
        rest = &after[end..];
    }
    if shown.len() != names.len() {
        return false;
    }
    names.iter().all(|name| {
        let same = |kind: &String| {
            kind == name
                || (name == "photo" && kind == "image")
                || (name == "image" && kind == "sticker")
        };
        match shown.iter().position(same) {
            Some(index) => {
                shown.remove(index);
                true
            }
            None => false,
        }
    })
}

/// Checks one part against its manifest entry; a mismatch is described.
fn check_part(file: &str, entry: &Value, part: &Part) -> Result<(), String> {
    let path = part.path.as_str();
    let is = entry["is"].as_str().unwrap_or_default();
    let want = expected(is, file, path)?;
    let item = &part.item;
    let wrong = || format!("{file} {path}: expected {is} ({want:?}), got {item:?}");
    if let Some(account) = text_of(entry, "account") {
        if account_of(item).map(ExternalId::as_str) != Some(account.as_str()) {
            return Err(format!("{file} {path}: account {account}, got {item:?}"));
        }
    }
    let message = match (want, item) {
        (Expected::Message | Expected::Unsupported, InboundItem::Message(message))
        | (Expected::Edited, InboundItem::Edited(message))
        | (
            Expected::MessageOrKnown(_) | Expected::MessageOrAnyKnown,
            InboundItem::Message(message),
        ) => message,
        (Expected::Removed, InboundItem::Removed { platform_id, .. }) => {
            return match text_of(entry, "platform_id") {
                Some(id) if id != platform_id.as_str() => Err(wrong()),
                _ => Ok(()),
            };
        }
        (
            Expected::Hidden(want_hidden),
            InboundItem::Hidden {
                platform_id,
                hidden,
                ..
            },
        ) => {
            return match text_of(entry, "platform_id") {
                Some(id) if id != platform_id.as_str() => Err(wrong()),
                _ if *hidden != want_hidden => Err(wrong()),
                _ => Ok(()),
            };
        }
        (
            Expected::Known(kind) | Expected::MessageOrKnown(kind),
            InboundItem::Known { kind: got, .. },
        ) if kind == *got => return Ok(()),
        (Expected::Fetch, InboundItem::Fetch { object_id, .. }) => {
            return match text_of(entry, "platform_id") {
                Some(id) if id != object_id.as_str() => Err(wrong()),
                _ => Ok(()),
            };
        }
        (Expected::MessageOrAnyKnown, InboundItem::Known { .. }) => return Ok(()),
        _ => return Err(wrong()),
    };
    if let Some(id) = text_of(entry, "platform_id") {
        if message.platform_id.as_str() != id {
            return Err(format!("{file} {path}: platform_id {id}, got {message:?}"));
        }
    }
    if let Some(author) = text_of(entry, "author") {
        if message.author.platform_id.as_str() != author {
            return Err(format!("{file} {path}: author {author}, got {message:?}"));
        }
    }
    if let Some(text) = entry["text"].as_str() {
        if !message.text.contains(text) {
            return Err(format!(
                "{file} {path}: the text {text:?} is not in {:?}",
                message.text
            ));
        }
    }
    if want == Expected::Unsupported
        && (!message.text.contains("of an unsupported kind: ") || message.raw.is_none())
    {
        return Err(format!(
            "{file} {path}: no placeholder or no raw part in {message:?}"
        ));
    }
    let names: Vec<String> = entry["attachments"]
        .as_array()
        .map(|names| {
            names
                .iter()
                .filter_map(|name| name.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if !shows_attachments(message, &names) {
        return Err(format!(
            "{file} {path}: attachments {names:?}, got {:?} with text {:?}",
            message.attachments, message.text
        ));
    }
    Ok(())
}

#[test]
fn every_corpus_part_has_its_expected_outcome() {
    let dir = corpus_dir();
    let manifest_path = dir.join("manifest.json");
    let manifest: Vec<Value> = serde_json::from_slice(
        &std::fs::read(&manifest_path)
            .unwrap_or_else(|err| panic!("{} is readable: {err}", manifest_path.display())),
    )
    .expect("the manifest is JSON");
    let connector = offline_connector();
    let mut problems = Vec::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut listed_files = BTreeSet::new();
    for delivery in &manifest {
        let file = delivery["file"]
            .as_str()
            .expect("each entry names its file");
        listed_files.insert(file.to_owned());
        let body = std::fs::read(dir.join(file))
            .unwrap_or_else(|err| panic!("corpus file {file} is readable: {err}"));
        let parts = match connector.normalize(Origin::Webhook, &body) {
            Ok(parts) => parts,
            Err(err) => {
                problems.push(format!("{file}: the delivery was refused: {err:?}"));
                continue;
            }
        };
        let expected_parts: Vec<&Value> = delivery["parts"]
            .as_array()
            .map(|parts| parts.iter().collect())
            .unwrap_or_default();
        let found: Vec<&str> = parts.iter().map(|part| part.path.as_str()).collect();
        let listed: Vec<&str> = expected_parts
            .iter()
            .filter_map(|part| part["path"].as_str())
            .collect();
        let found_set: BTreeSet<&str> = found.iter().copied().collect();
        if found_set.len() != found.len() {
            problems.push(format!("{file}: two parts share a path: {found:?}"));
        }
        if found_set != listed.iter().copied().collect() {
            problems.push(format!(
                "{file}: normalize found the parts {found:?}, the manifest lists {listed:?}"
            ));
        }
        for entry in expected_parts {
            let path = entry["path"].as_str().unwrap_or_default();
            let Some(part) = parts.iter().find(|part| part.path == path) else {
                continue;
            };
            *counts.entry(label(&part.item)).or_default() += 1;
            if let Err(problem) = check_part(file, entry, part) {
                problems.push(problem);
            }
        }
    }
    let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
        .expect("the corpus folder is readable")
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json") && name != "manifest.json")
        .collect();
    for file in on_disk.difference(&listed_files) {
        problems.push(format!("{file}: not in the manifest"));
    }
    println!(
        "facebook corpus: {} deliveries, {} parts",
        manifest.len(),
        counts.values().sum::<usize>()
    );
    for (outcome, count) in &counts {
        println!("  {outcome}: {count}");
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// Values a field can turn into.
fn odd_values() -> Vec<Value> {
    vec![
        Value::Null,
        Value::String(String::new()),
        Value::String("x".into()),
        Value::from(0),
        Value::from(1.5),
        Value::Bool(true),
        Value::Array(vec![]),
        serde_json::json!({"unknown": [1, {"a": null}]}),
    ]
}

/// Every JSON pointer under `value`, the root excluded.
fn pointers(value: &Value, prefix: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let pointer = format!("{prefix}/{}", key.replace('~', "~0").replace('/', "~1"));
                out.push(pointer.clone());
                pointers(child, pointer, out);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                let pointer = format!("{prefix}/{index}");
                out.push(pointer.clone());
                pointers(child, pointer, out);
            }
        }
        _ => {}
    }
}

fn corpus_bodies() -> Vec<(String, Value)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("the corpus folder is readable")
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "json")
                && path.file_name().is_some_and(|name| name != "manifest.json")
        })
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let body = std::fs::read(&path).expect("corpus files are readable");
            let name = path
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default();
            let value = serde_json::from_slice(&body).expect("corpus files are JSON");
            (name, value)
        })
        .collect()
}

#[test]
fn any_field_of_the_corpus_can_change_shape_or_vanish_without_a_panic_or_a_lost_part() {
    let connector = offline_connector();
    let mut runs = 0;
    for (file, original) in corpus_bodies() {
        let mut all = Vec::new();
        pointers(&original, String::new(), &mut all);
        for pointer in all {
            let (parent, key) = pointer.rsplit_once('/').expect("a pointer has a slash");
            let mut variants: Vec<Value> = odd_values()
                .into_iter()
                .map(|odd| {
                    let mut body = original.clone();
                    *body.pointer_mut(&pointer).expect("the pointer exists") = odd;
                    body
                })
                .collect();
            let mut removed = original.clone();
            match removed.pointer_mut(parent) {
                Some(Value::Object(map)) => {
                    map.remove(&key.replace("~1", "/").replace("~0", "~"));
                }
                Some(Value::Array(items)) => {
                    items.remove(key.parse::<usize>().expect("an index"));
                }
                _ => {}
            }
            variants.push(removed);
            for body in variants {
                runs += 1;
                let bytes = serde_json::to_vec(&body).expect("JSON serializes");
                let Ok(parts) = connector.normalize(Origin::Webhook, &bytes) else {
                    continue;
                };
                let paths: BTreeSet<&str> = parts.iter().map(|part| part.path.as_str()).collect();
                assert_eq!(
                    paths.len(),
                    parts.len(),
                    "{file} {pointer}: one outcome per path"
                );
            }
        }
    }
    println!("{runs} mutated deliveries");
}

#[test]
fn a_customers_text_survives_any_odd_neighbour_in_its_message() {
    let connector = offline_connector();
    // Fields a message cannot do without (its id, text, sender…) are not neighbours.
    let essential = ["mid", "text", "is_echo", "is_deleted"];
    let mut checked = 0;
    for (file, original) in corpus_bodies() {
        let Some(entries) = original["entry"].as_array() else {
            continue;
        };
        for (entry_index, entry) in entries.iter().enumerate() {
            for list in ["messaging", "standby"] {
                let Some(events) = entry[list].as_array() else {
                    continue;
                };
                for (event_index, event) in events.iter().enumerate() {
                    let Some(text) = event["message"]["text"].as_str() else {
                        continue;
                    };
                    let path = format!("entry[{entry_index}].{list}[{event_index}]");
                    let base = format!("/entry/{entry_index}/{list}/{event_index}/message");
                    let mut neighbours = Vec::new();
                    pointers(&event["message"], base.clone(), &mut neighbours);
                    neighbours.retain(|pointer| {
                        let first = pointer[base.len() + 1..].split('/').next().unwrap_or("");
                        !essential.contains(&first)
                    });
                    for pointer in neighbours {
                        for odd in odd_values() {
                            let mut body = original.clone();
                            *body.pointer_mut(&pointer).expect("the pointer exists") = odd;
                            let bytes = serde_json::to_vec(&body).expect("JSON serializes");
                            let parts = connector
                                .normalize(Origin::Webhook, &bytes)
                                .expect("the delivery still parses");
                            let part = parts
                                .iter()
                                .find(|part| part.path == path)
                                .expect("the part is still there");
                            match &part.item {
                                InboundItem::Message(message) => {
                                    assert!(
                                        message.text.contains(text),
                                        "{file} {pointer}: {text:?} lost in {:?}",
                                        message.text
                                    );
                                    checked += 1;
                                }
                                // An echo stays an echo.
                                InboundItem::Known { kind: "echo", .. } => {}
                                other => panic!("{file} {pointer}: {other:?}"),
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(checked > 0);
    println!("{checked} odd neighbours checked");
}
