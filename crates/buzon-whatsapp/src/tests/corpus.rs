//! The recorded corpus (`tests/fixtures/corpus/whatsapp/`): every file normalizes, and every
//! part its manifest lists is at its path with the outcome its `is` calls for.
//!
//! | `is` | outcome |
//! |---|---|
//! | `customer_message`, `referral` | `Message`: platform id, author and account as listed, the listed text inside its text, the listed media among its attachments, no placeholder |
//! | `unsupported_message` | `Message` with a placeholder |
//! | `reaction` | `Message` (WhatsApp reactions are kept as messages: the emoji, answering the message reacted to) |
//! | `customer_message_edit` | `Edited` (of `edit.original_message_id`, so the listed id, the edit's own, is not compared) |
//! | `customer_message_delete` | `Removed` (of `revoke.original_message_id`) |
//! | `status_sent` / `_delivered` / `_read` / `_failed` | `Status` with that status |
//! | `system_message` | `Known` `system` |
//! | `echo_of_our_send` | `Known` `echo` |
//! | `optin` | `Known` `optin` |
//! | `other` | by its note, in [`OTHER`] |
//!
//! Every part the connector returns must be listed, so a part that the manifest forgot fails
//! too. Run with `--nocapture` to see the count per outcome.

use crate::inbound::normalize_webhook;
use buzon_connector::{InboundItem, Part};
use buzon_core::DeliveryStatus;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The `other` parts, by file and path, and what each is (from its note).
const OTHER: &[(&str, &str, Expected)] = &[
    (
        // "value-level error 131000 'Something went wrong'"
        "whatsapp_interactive_missing_body_value_errors.json",
        "entry[0].changes[0].value.errors[0]",
        Expected::Known("error"),
    ),
    (
        // "request_welcome: the user opened the chat for the first time; no content"
        "whatsapp_request_welcome.json",
        "entry[0].changes[0].value.messages[0]",
        Expected::Known("request_welcome"),
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expected {
    Message { placeholder: bool },
    Edited,
    Removed,
    Status(DeliveryStatus),
    Known(&'static str),
}

#[derive(Debug, Deserialize)]
pub(super) struct Entry {
    pub file: String,
    #[allow(dead_code)]
    source: String,
    pub parts: Vec<ListedPart>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ListedPart {
    pub path: String,
    is: String,
    platform_id: Option<String>,
    author: Option<String>,
    account: Option<String>,
    pub text: Option<String>,
    #[serde(default)]
    attachments: Vec<String>,
}

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/corpus/whatsapp"
);

/// Every corpus file's manifest entry and bytes.
pub(super) fn corpus() -> Vec<(Entry, Vec<u8>)> {
    let manifest = std::fs::read(format!("{DIR}/manifest.json"))
        .unwrap_or_else(|err| panic!("{DIR}/manifest.json is readable: {err}"));
    let manifest: Vec<Entry> = serde_json::from_slice(&manifest).expect("the manifest reads");
    assert!(!manifest.is_empty(), "the corpus lists files");
    manifest
        .into_iter()
        .map(|entry| {
            let body = std::fs::read(format!("{DIR}/{}", entry.file))
                .unwrap_or_else(|err| panic!("{} is readable: {err}", entry.file));
            (entry, body)
        })
        .collect()
}

/// Attachment kinds the connector makes an attachment of (an order is read as text).
const MEDIA: &[&str] = &[
    "image", "audio", "video", "document", "sticker", "location", "contacts",
];

fn expected(file: &str, part: &ListedPart) -> Result<Expected, String> {
    Ok(match part.is.as_str() {
        "customer_message" | "referral" | "reaction" => Expected::Message { placeholder: false },
        "unsupported_message" => Expected::Message { placeholder: true },
        "customer_message_edit" => Expected::Edited,
        "customer_message_delete" => Expected::Removed,
        "status_sent" => Expected::Status(DeliveryStatus::Sent),
        "status_delivered" => Expected::Status(DeliveryStatus::Delivered),
        "status_read" => Expected::Status(DeliveryStatus::Read),
        "status_failed" => Expected::Status(DeliveryStatus::Failed),
        "system_message" => Expected::Known("system"),
        "echo_of_our_send" => Expected::Known("echo"),
        "optin" => Expected::Known("optin"),
        "other" => OTHER
            .iter()
            .find(|(other_file, path, _)| *other_file == file && *path == part.path)
            .map(|(_, _, expected)| *expected)
            .ok_or_else(|| "an `other` part missing from the OTHER table".to_owned())?,
        is => return Err(format!("no WhatsApp outcome for `is: {is}`")),
    })
}

/// What is wrong with `item` for a part listed as `part`, if anything.
fn check(expected: Expected, part: &ListedPart, item: &InboundItem) -> Result<(), String> {
    let same = |what: &str, listed: &Option<String>, found: &str| match listed {
        Some(listed) if listed != found => Err(format!("{what} {found:?}, listed {listed:?}")),
        _ => Ok(()),
    };
    match (expected, item) {
        (Expected::Message { placeholder }, InboundItem::Message(message)) => {
            same("account", &part.account, message.account.as_str())?;
            same(
                "platform id",
                &part.platform_id,
                message.platform_id.as_str(),
            )?;
            same("author", &part.author, message.author.platform_id.as_str())?;
            if let Some(text) = &part.text {
                if !message.text.contains(text.as_str()) {
                    return Err(format!("text {:?} lacks {text:?}", message.text));
                }
            }
            let has_placeholder = message.text.contains("of an unsupported kind");
            if has_placeholder != placeholder {
                return Err(format!(
                    "text {:?}: placeholder expected: {placeholder}",
                    message.text
                ));
            }
            if placeholder && message.raw.is_none() {
                return Err("a placeholder without the raw part".into());
            }
            for kind in part
                .attachments
                .iter()
                .filter(|kind| MEDIA.contains(&kind.as_str()))
            {
                if !message
                    .attachments
                    .iter()
                    .any(|attachment| &attachment.kind == kind)
                {
                    return Err(format!("no {kind} attachment in {:?}", message.attachments));
                }
            }
            Ok(())
        }
        (Expected::Edited, InboundItem::Edited(message)) => {
            same("account", &part.account, message.account.as_str())?;
            same("author", &part.author, message.author.platform_id.as_str())?;
            match &part.text {
                Some(text) if !message.text.contains(text.as_str()) => {
                    Err(format!("text {:?} lacks {text:?}", message.text))
                }
                _ => Ok(()),
            }
        }
        (Expected::Removed, InboundItem::Removed { account, .. }) => {
            same("account", &part.account, account.as_str())
        }
        (
            Expected::Status(status),
            InboundItem::Status {
                account,
                platform_id,
                status: found,
                ..
            },
        ) => {
            same("account", &part.account, account.as_str())?;
            same("platform id", &part.platform_id, platform_id.as_str())?;
            if *found == status {
                Ok(())
            } else {
                Err(format!("status {found:?}"))
            }
        }
        (
            Expected::Known(kind),
            InboundItem::Known {
                account,
                kind: found,
            },
        ) => {
            if *found != kind {
                return Err(format!("known {found}"));
            }
            match account {
                Some(account) => same("account", &part.account, account.as_str()),
                None if part.account.is_some() => Err("known without its account".into()),
                None => Ok(()),
            }
        }
        (expected, item) => {
            Err(format!("expected {expected:?}")).map_err(|err| format!("{err}, got {item:?}"))
        }
    }
}

fn outcome_name(item: &InboundItem) -> String {
    match item {
        InboundItem::Message(_) => "Message".into(),
        InboundItem::Edited(_) => "Edited".into(),
        InboundItem::Removed { .. } => "Removed".into(),
        InboundItem::Hidden { .. } => "Hidden".into(),
        InboundItem::Status { status, .. } => format!("Status {status:?}"),
        InboundItem::Fetch { .. } => "Fetch".into(),
        InboundItem::Known { kind, .. } => format!("Known {kind}"),
        InboundItem::Unrecognized { .. } => "Unrecognized".into(),
    }
}

#[test]
fn every_corpus_part_has_the_outcome_its_manifest_calls_for() {
    let corpus = corpus();
    let mut mismatches: Vec<String> = Vec::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut files = 0;
    for (entry, body) in &corpus {
        files += 1;
        let parts: Vec<Part> = match normalize_webhook(body) {
            Ok(parts) => parts,
            Err(err) => {
                mismatches.push(format!("{}: not a delivery: {err}", entry.file));
                continue;
            }
        };
        for listed in &entry.parts {
            let found: Vec<&Part> = parts
                .iter()
                .filter(|part| part.path == listed.path)
                .collect();
            let result = match (expected(&entry.file, listed), found.as_slice()) {
                (Err(err), _) => Err(err),
                (Ok(_), []) => Err("no part at this path".to_owned()),
                (Ok(expected), [part]) => check(expected, listed, &part.item),
                (Ok(_), _) => Err(format!("{} parts at this path", found.len())),
            };
            if let Err(err) = result {
                mismatches.push(format!(
                    "{} {} ({}): {err}",
                    entry.file, listed.path, listed.is
                ));
            }
        }
        for part in &parts {
            *counts.entry(outcome_name(&part.item)).or_default() += 1;
            if !entry.parts.iter().any(|listed| listed.path == part.path) {
                mismatches.push(format!(
                    "{} {}: a part the manifest does not list: {:?}",
                    entry.file, part.path, part.item
                ));
            }
        }
    }
    println!("whatsapp corpus: {files} deliveries");
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
