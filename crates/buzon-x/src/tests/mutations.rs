//! Every field of every corpus part changed, one at a time: it changes type, disappears,
//! becomes empty, or the object gains an unknown sibling. Normalizing never panics, every part
//! keeps exactly one outcome at its path, and a customer's text survives any change that does
//! not touch the text itself, the part's id or type, or an object that holds them.

use super::{connector, id};
use buzon_connector::{Connector, InboundItem, Origin, Part};
use serde_json::{json, Value};
use std::path::PathBuf;

fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/corpus/x");
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .expect("the corpus is readable")
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json") && name != "manifest.json")
        .map(|name| {
            let bytes = std::fs::read(dir.join(&name)).expect("a corpus file is readable");
            (name, bytes)
        })
        .collect();
    files.sort();
    // The recorded polled pages too.
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/x");
    for name in [
        "mentions_page.json",
        "mentions_page_default_fields_real.json",
        "dm_events_page.json",
    ] {
        let bytes = std::fs::read(fixtures.join(name)).expect("a fixture is readable");
        files.push((name.to_owned(), bytes));
    }
    files
}

/// A JSON path in the connector's notation, and the value there.
fn walk<'a>(value: &'a Value, path: String, out: &mut Vec<(String, &'a Value)>) {
    match value {
        Value::Object(object) => {
            for (key, child) in object {
                let child_path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                out.push((child_path.clone(), child));
                walk(child, child_path, out);
            }
        }
        Value::Array(entries) => {
            for (index, child) in entries.iter().enumerate() {
                let child_path = format!("{path}[{index}]");
                out.push((child_path.clone(), child));
                walk(child, child_path, out);
            }
        }
        _ => {}
    }
}

/// The path's steps: keys and indexes.
enum Step {
    Key(String),
    Index(usize),
}

fn steps(path: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    for segment in path.split('.') {
        let (key, rest) = segment
            .split_once('[')
            .map_or((segment, ""), |(key, rest)| (key, rest));
        if !key.is_empty() {
            steps.push(Step::Key(key.to_owned()));
        }
        for index in rest.split('[') {
            if let Ok(index) = index.trim_end_matches(']').parse() {
                steps.push(Step::Index(index));
            }
        }
    }
    steps
}

/// Applies `change` to the value at `path` (None: remove it from its object).
fn mutate(body: &Value, path: &str, change: Option<&Value>) -> Value {
    let mut body = body.clone();
    let steps = steps(path);
    let (last, parents) = steps.split_last().expect("a path has a step");
    let mut parent = &mut body;
    for step in parents {
        parent = match step {
            Step::Key(key) => &mut parent[key.as_str()],
            Step::Index(index) => &mut parent[*index],
        };
    }
    match (last, change) {
        (Step::Key(key), None) => {
            if let Some(object) = parent.as_object_mut() {
                object.remove(key);
            }
        }
        (Step::Key(key), Some(change)) => parent[key.as_str()] = change.clone(),
        (Step::Index(index), None) => parent[*index] = Value::Null,
        (Step::Index(index), Some(change)) => parent[*index] = change.clone(),
    }
    body
}

fn normalize(body: &Value, account: &str) -> Result<Vec<Part>, String> {
    let bytes = serde_json::to_vec(body).expect("a value serializes");
    let account = id(account);
    let origin = if body.get("data").is_some() && body.get("for_user_id").is_none() {
        let dm = body["data"].as_array().is_some_and(|entries| {
            entries
                .iter()
                .any(|entry| entry.get("event_type").is_some())
        });
        Origin::Poll {
            endpoint: if dm { "dm_events" } else { "mentions" },
            account: &account,
        }
    } else {
        Origin::Webhook
    };
    connector("http://unused.invalid")
        .normalize(origin, &bytes)
        .map_err(|err| format!("{err:?}"))
}

fn is_within(path: &str, ancestor: &str) -> bool {
    path == ancestor
        || path
            .strip_prefix(ancestor)
            .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
}

#[test]
fn no_change_to_one_field_panics_drops_a_part_or_loses_a_text() {
    let changes = [
        None,
        Some(Value::Null),
        Some(json!("")),
        Some(json!("x")),
        Some(json!(7)),
        Some(json!(-1.5)),
        Some(json!(true)),
        Some(json!({})),
        Some(json!([])),
        Some(json!({"zz_unknown": [1, {"a": null}]})),
    ];
    let mut checked = 0;
    let mut failures = Vec::new();
    for (file, bytes) in corpus() {
        let body: Value = serde_json::from_slice(&bytes).expect("corpus files are JSON");
        let account = body
            .get("for_user_id")
            .and_then(Value::as_str)
            .unwrap_or("17200003")
            .to_owned();
        let original =
            normalize(&body, &account).unwrap_or_else(|err| panic!("{file} normalizes: {err}"));
        let mut nodes = Vec::new();
        walk(&body, String::new(), &mut nodes);
        for (path, _) in &nodes {
            // The envelope (the account and whole event arrays) decides what the body is.
            if !path.contains('[') && path != "user_event" {
                continue;
            }
            for change in &changes {
                let mutated = mutate(&body, path, change.as_ref());
                checked += 1;
                let parts = match normalize(&mutated, &account) {
                    Ok(parts) => parts,
                    // Without for_user_id, only a user_event or DMs make a delivery.
                    Err(_)
                        if mutated.get("for_user_id").is_none()
                            && mutated.get("user_event").is_none()
                            && mutated.get("direct_message_events").is_none() =>
                    {
                        continue
                    }
                    Err(err) => {
                        failures.push(format!("{file} {path} -> {change:?}: refused: {err}"));
                        continue;
                    }
                };
                let context = Context {
                    file: &file,
                    path,
                    change: change.as_ref(),
                    // Without for_user_id the DM's recipient is the account.
                    recipient_is_identity: body.get("for_user_id").is_none(),
                };
                check(&context, &original, &parts, &mut failures);
            }
        }
        // Unknown siblings added to every object inside a part change nothing but raw.
        for (path, value) in &nodes {
            if !path.contains('[') || !value.is_object() {
                continue;
            }
            let mut object = (*value).clone();
            object["zz_unknown_sibling"] = json!({"nested": [1, "two"]});
            let mutated = mutate(&body, path, Some(&object));
            checked += 1;
            let parts = normalize(&mutated, &account).expect("an extra field is fine");
            let strip = |parts: &[Part]| -> Vec<Part> {
                parts
                    .iter()
                    .cloned()
                    .map(|mut part| {
                        if let InboundItem::Message(message) = &mut part.item {
                            message.raw = None;
                        }
                        part
                    })
                    .collect()
            };
            if strip(&parts) != strip(&original) {
                failures.push(format!(
                    "{file} {path}: an unknown sibling changed the outcome"
                ));
            }
        }
    }
    assert!(checked > 1000, "{checked} changes checked");
    assert!(
        failures.is_empty(),
        "{} of {checked} changes failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// One change of one corpus file.
struct Context<'a> {
    file: &'a str,
    path: &'a str,
    change: Option<&'a Value>,
    recipient_is_identity: bool,
}

fn check(context: &Context<'_>, original: &[Part], parts: &[Part], failures: &mut Vec<String>) {
    let Context {
        file,
        path,
        change,
        recipient_is_identity,
    } = context;
    let path = *path;
    let mut fail = |what: String| failures.push(format!("{file} {path} -> {change:?}: {what}"));
    for (index, part) in parts.iter().enumerate() {
        if parts[..index].iter().any(|other| other.path == part.path) {
            fail(format!("two parts at {}", part.path));
        }
    }
    for before in original {
        let after = parts.iter().find(|part| part.path == before.path);
        let Some(after) = after else {
            // Only a change of the part itself, or of its array, may remove it.
            if !is_within(&before.path, path) && !path.ends_with(']') {
                fail(format!("the part {} is gone", before.path));
            }
            continue;
        };
        let InboundItem::Message(message) = &before.item else {
            continue;
        };
        if !is_within(path, &before.path) || path == before.path {
            continue;
        }
        let relative = &path[before.path.len() + 1..];
        let identity = [
            "id",
            "event_type",
            "author_id",
            "sender_id",
            "id_str",
            "type",
            "message_create",
            "message_create.message_data",
            "message_create.sender_id",
            "user",
            "user.id_str",
            "user.id",
            "retweeted_status",
        ];
        let carries_text = ["text", "full_text", "extended_tweet", "note_tweet"]
            .iter()
            .any(|field| is_within(relative, field))
            || is_within(relative, "message_create.message_data.text")
            || is_within(relative, "extended_tweet.full_text");
        let recipient = *recipient_is_identity && is_within(relative, "message_create.target");
        if identity.contains(&relative) || carries_text || recipient {
            continue;
        }
        match &after.item {
            InboundItem::Message(after) if after.text.contains(&message.text) => {}
            other => fail(format!(
                "the text {:?} at {} is lost: {other:?}",
                message.text, before.path
            )),
        }
    }
}
