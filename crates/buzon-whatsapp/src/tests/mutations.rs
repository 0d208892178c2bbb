//! Every corpus delivery, with each field inside its changes' values changed in turn: removed,
//! replaced by a value of another type or an empty one, or given an unknown sibling. No
//! change panics or fails the delivery; every part keeps exactly one outcome at its path; a
//! customer's text that is still in the part is still in the message; and a message or a
//! status becomes unrecognized only when a field it cannot be stored without was changed.
//! (A deterministic stand-in, in this crate, for the workspace's property test.)

use super::corpus::corpus;
use crate::inbound::normalize_webhook;
use buzon_connector::InboundItem;
use serde_json::{json, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

fn describe(path: &[Step]) -> String {
    let mut text = String::new();
    for step in path {
        match step {
            Step::Key(key) => {
                if !text.is_empty() {
                    text.push('.');
                }
                text.push_str(key);
            }
            Step::Index(index) => text.push_str(&format!("[{index}]")),
        }
    }
    text
}

fn at<'a>(doc: &'a Value, path: &[Step]) -> Option<&'a Value> {
    path.iter().try_fold(doc, |node, step| match step {
        Step::Key(key) => node.get(key),
        Step::Index(index) => node.get(*index),
    })
}

fn at_mut<'a>(doc: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    path.iter().try_fold(doc, |node, step| match step {
        Step::Key(key) => node.get_mut(key),
        Step::Index(index) => node.get_mut(*index),
    })
}

/// Every member and element beneath `node`, as paths from the document's root.
fn beneath(node: &Value, path: &mut Vec<Step>, into: &mut Vec<Vec<Step>>) {
    let children: Vec<(Step, &Value)> = match node {
        Value::Object(map) => map
            .iter()
            .map(|(key, value)| (Step::Key(key.clone()), value))
            .collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(index, value)| (Step::Index(index), value))
            .collect(),
        _ => Vec::new(),
    };
    for (step, child) in children {
        path.push(step);
        into.push(path.clone());
        beneath(child, path, into);
        path.pop();
    }
}

/// What to change: everything inside each change's `value`, except the three lists of parts
/// themselves (changing those changes which parts there are).
fn targets(doc: &Value) -> Vec<Vec<Step>> {
    let mut targets = Vec::new();
    let entries = doc["entry"].as_array().cloned().unwrap_or_default();
    for (entry_index, entry) in entries.iter().enumerate() {
        let changes = entry["changes"].as_array().cloned().unwrap_or_default();
        for (change_index, change) in changes.iter().enumerate() {
            let Some(value) = change["value"].as_object() else {
                continue;
            };
            for (key, member) in value {
                let mut path = vec![
                    Step::Key("entry".into()),
                    Step::Index(entry_index),
                    Step::Key("changes".into()),
                    Step::Index(change_index),
                    Step::Key("value".into()),
                    Step::Key(key.clone()),
                ];
                if ["messages", "statuses", "errors"].contains(&key.as_str()) {
                    let mut all = Vec::new();
                    beneath(member, &mut path, &mut all);
                    // The list's elements are the parts: change inside them, not them.
                    targets.extend(
                        all.into_iter()
                            .filter(|target| target.len() > path.len() + 1),
                    );
                } else {
                    targets.push(path.clone());
                    beneath(member, &mut path, &mut targets);
                }
            }
        }
    }
    targets
}

enum Mutation {
    Remove,
    Replace(Value),
    AddSibling,
}

fn mutations() -> Vec<Mutation> {
    let mut all = vec![Mutation::Remove, Mutation::AddSibling];
    all.extend(
        [
            Value::Null,
            json!(""),
            json!(" "),
            json!(0),
            json!(-1),
            json!(1.5),
            json!(18_446_744_073_709_551_615_u64),
            json!(true),
            json!("odd"),
            json!([]),
            json!({}),
            json!({"zz": [1]}),
        ]
        .into_iter()
        .map(Mutation::Replace),
    );
    all
}

/// Applies `mutation` at `path`; false when it does not apply there.
fn apply(doc: &mut Value, path: &[Step], mutation: &Mutation) -> bool {
    let Some((last, parent_path)) = path.split_last() else {
        return false;
    };
    match mutation {
        Mutation::AddSibling => match at_mut(doc, parent_path) {
            Some(Value::Object(parent)) => {
                parent.insert("zz_unknown_field".into(), json!({"nested": [1, "x"]}));
                true
            }
            _ => false,
        },
        Mutation::Remove => match (at_mut(doc, parent_path), last) {
            (Some(Value::Object(parent)), Step::Key(key)) => parent.remove(key).is_some(),
            (Some(Value::Array(parent)), Step::Index(index)) if *index < parent.len() => {
                parent.remove(*index);
                true
            }
            _ => false,
        },
        Mutation::Replace(value) => match at_mut(doc, path) {
            Some(node) => {
                *node = value.clone();
                true
            }
            None => false,
        },
    }
}

fn strings(node: &Value, into: &mut Vec<String>) {
    match node {
        Value::String(text) => into.push(text.clone()),
        Value::Array(items) => items.iter().for_each(|item| strings(item, into)),
        Value::Object(map) => map.values().for_each(|item| strings(item, into)),
        _ => {}
    }
}

/// A field a message or status cannot be stored without (or that says which account it is).
fn essential(path: &[Step]) -> bool {
    path.iter().any(|step| {
        matches!(step, Step::Key(key) if [
            "id", "timestamp", "from", "status", "metadata", "phone_number_id",
            "original_message_id", "revoke",
        ].contains(&key.as_str()))
    })
}

/// Parses a part path such as `entry[0].changes[0].value.messages[1]` into steps.
fn steps(path: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    for segment in path.split('.') {
        let (key, indexes) = segment.split_once('[').unwrap_or((segment, ""));
        steps.push(Step::Key(key.to_owned()));
        for index in indexes.split('[').filter(|index| !index.is_empty()) {
            steps.push(Step::Index(
                index.trim_end_matches(']').parse().expect("an index"),
            ));
        }
    }
    steps
}

#[test]
fn no_changed_field_loses_a_part_or_a_customers_words() {
    let mut failures: Vec<String> = Vec::new();
    let mut tried = 0;
    for (entry, body) in corpus() {
        let doc: Value = serde_json::from_slice(&body).expect("corpus files are JSON");
        let baseline: BTreeMap<String, InboundItem> = normalize_webhook(&body)
            .expect("corpus files are deliveries")
            .into_iter()
            .map(|part| (part.path, part.item))
            .collect();
        for target in targets(&doc) {
            for mutation in mutations() {
                let mut changed = doc.clone();
                if !apply(&mut changed, &target, &mutation) {
                    continue;
                }
                tried += 1;
                let what = format!("{} {}", entry.file, describe(&target));
                let bytes = serde_json::to_vec(&changed).expect("serializes");
                let parts = match normalize_webhook(&bytes) {
                    Ok(parts) => parts,
                    Err(err) => {
                        failures.push(format!("{what}: the delivery failed: {err}"));
                        continue;
                    }
                };
                let found: BTreeMap<String, InboundItem> = parts
                    .into_iter()
                    .map(|part| (part.path, part.item))
                    .collect();
                if found.keys().ne(baseline.keys()) {
                    failures.push(format!(
                        "{what}: parts {:?}, were {:?}",
                        found.keys(),
                        baseline.keys()
                    ));
                    continue;
                }
                for listed in &entry.parts {
                    let (Some(before), Some(after)) =
                        (baseline.get(&listed.path), found.get(&listed.path))
                    else {
                        continue;
                    };
                    let inside = target.len() > steps(&listed.path).len()
                        && describe(&target).starts_with(&listed.path);
                    let essential_change = essential(&target) && (inside || !target
                        .iter()
                        .any(|step| matches!(step, Step::Key(key) if key == "messages" || key == "statuses" || key == "errors")));
                    match (before, after) {
                        (
                            InboundItem::Message(_) | InboundItem::Edited(_),
                            InboundItem::Message(message) | InboundItem::Edited(message),
                        ) => {
                            let Some(text) = listed.text.as_deref().filter(|text| !text.is_empty())
                            else {
                                continue;
                            };
                            let mut still = Vec::new();
                            if let Some(part) = at(&changed, &steps(&listed.path)) {
                                strings(part, &mut still);
                            }
                            if still.iter().any(|value| value == text)
                                && !message.text.contains(text)
                            {
                                failures.push(format!(
                                    "{what} {:?}: {} lost {text:?}: {:?}",
                                    mutation_name(&mutation),
                                    listed.path,
                                    message.text
                                ));
                            }
                        }
                        (
                            InboundItem::Message(_)
                            | InboundItem::Edited(_)
                            | InboundItem::Status { .. },
                            InboundItem::Unrecognized { .. },
                        ) if !essential_change => failures.push(format!(
                            "{what} {:?}: {} became unrecognized: {after:?}",
                            mutation_name(&mutation),
                            listed.path
                        )),
                        (InboundItem::Status { .. }, InboundItem::Status { .. }) => {}
                        (InboundItem::Status { .. }, other)
                            if !matches!(other, InboundItem::Unrecognized { .. }) =>
                        {
                            failures.push(format!("{what}: a status became {other:?}"));
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    println!("whatsapp corpus: {tried} changed deliveries");
    assert!(tried > 1000, "only {tried} changes tried");
    assert!(
        failures.is_empty(),
        "{} failures, e.g.:\n{}",
        failures.len(),
        failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

fn mutation_name(mutation: &Mutation) -> String {
    match mutation {
        Mutation::Remove => "removed".into(),
        Mutation::AddSibling => "with an unknown sibling".into(),
        Mutation::Replace(value) => format!("= {value}"),
    }
}
