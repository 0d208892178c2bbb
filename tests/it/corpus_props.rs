//! A property test over the corpus (issue 17): take any recorded delivery, pick fields inside
//! one of its parts, and change their type, remove them, empty them or give them unknown
//! siblings. The real connector must never panic, must give every part of the delivery exactly
//! one outcome, and must never lose the text the part carried: a customer's message stays a
//! message with its words (unless the words themselves were changed), or is kept unrecognized
//! (its whole delivery in the event log, replayable), never a known event or nothing.

use buzon_connector::{Connector, InboundItem, Origin};
use buzon_tests::corpus::{self, Delivery, PLATFORMS};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// One step of a path inside a JSON value.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Item(usize),
}

/// `entry[0].changes[0].value.messages[1]` as steps.
fn parse_path(path: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    for segment in path.split('.') {
        let (name, mut rest) = match segment.find('[') {
            Some(at) => (&segment[..at], &segment[at..]),
            None => (segment, ""),
        };
        if !name.is_empty() {
            steps.push(Step::Key(name.to_owned()));
        }
        while let Some(close) = rest.find(']') {
            steps.push(Step::Item(rest[1..close].parse().expect("an index")));
            rest = &rest[close + 1..];
        }
    }
    steps
}

fn get<'a>(value: &'a Value, steps: &[Step]) -> Option<&'a Value> {
    steps.iter().try_fold(value, |value, step| match step {
        Step::Key(key) => value.get(key),
        Step::Item(index) => value.get(index),
    })
}

fn get_mut<'a>(value: &'a mut Value, steps: &[Step]) -> Option<&'a mut Value> {
    steps.iter().try_fold(value, |value, step| match step {
        Step::Key(key) => value.get_mut(key),
        Step::Item(index) => value.get_mut(index),
    })
}

/// Every node below `value`, as paths relative to it (not `value` itself).
fn nodes(value: &Value, prefix: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match value {
        Value::Object(object) => {
            for (key, child) in object {
                prefix.push(Step::Key(key.clone()));
                out.push(prefix.clone());
                nodes(child, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                prefix.push(Step::Item(index));
                out.push(prefix.clone());
                nodes(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

/// What is done to one field.
#[derive(Debug, Clone)]
enum Mutation {
    /// Replaced by a value of another type.
    Retype(Value),
    Remove,
    /// Replaced by the empty value of its own kind ("" , [], {}, 0).
    Empty,
    /// An unknown field (or item) added beside it.
    Sibling(Value),
}

fn other_values() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        "[a-z0-9 ]{0,12}".prop_map(Value::from),
        Just(json!([])),
        Just(json!({})),
        Just(json!([{"type": "zz", "payload": "zz"}])),
        Just(json!({"zz_unknown": [1, "two", null]})),
        (0.0f64..1e6).prop_map(Value::from),
    ]
}

fn mutations() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        other_values().prop_map(Mutation::Retype),
        Just(Mutation::Remove),
        Just(Mutation::Empty),
        other_values().prop_map(Mutation::Sibling),
    ]
}

/// Applies `mutation` to the node at `steps` (relative to the document root).
fn apply(document: &mut Value, steps: &[Step], mutation: &Mutation) {
    let (last, parent_steps) = steps.split_last().expect("never the root");
    let Some(parent) = get_mut(document, parent_steps) else {
        return;
    };
    match (mutation, parent, last) {
        (Mutation::Retype(value), parent, _) => {
            if let Some(node) = get_mut(parent, std::slice::from_ref(last)) {
                *node = value.clone();
            }
        }
        (Mutation::Empty, parent, _) => {
            if let Some(node) = get_mut(parent, std::slice::from_ref(last)) {
                *node = match node {
                    Value::String(_) => json!(""),
                    Value::Array(_) => json!([]),
                    Value::Object(_) => json!({}),
                    Value::Number(_) => json!(0),
                    Value::Bool(_) => json!(false),
                    Value::Null => Value::Null,
                };
            }
        }
        (Mutation::Remove, Value::Object(object), Step::Key(key)) => {
            object.remove(key);
        }
        (Mutation::Remove, Value::Array(items), Step::Item(index)) if *index < items.len() => {
            items.remove(*index);
        }
        (Mutation::Sibling(value), Value::Object(object), _) => {
            object.insert("zz_unknown_field".into(), value.clone());
        }
        (Mutation::Sibling(value), Value::Array(items), _) => items.push(value.clone()),
        _ => {}
    }
}

/// A corpus part with what is needed to check it.
struct Target {
    delivery: Delivery,
    part_path: String,
    /// The customer's words in the part, when it is a message that carries some.
    text: Option<String>,
    /// Where those words sit, relative to the root (changing them may change the words).
    text_at: Vec<Vec<Step>>,
    /// Every node inside the part, relative to the root.
    fields: Vec<Vec<Step>>,
}

fn targets() -> Vec<Target> {
    let mut targets = Vec::new();
    for platform in PLATFORMS {
        for delivery in corpus::deliveries(platform) {
            let document: Value =
                serde_json::from_slice(&delivery.body).expect("corpus files are JSON");
            for listed in &delivery.parts {
                let part = parse_path(&listed.path);
                let node = get(&document, &part).expect("the manifest path resolves");
                let mut relative = Vec::new();
                nodes(node, &mut Vec::new(), &mut relative);
                let absolute = |steps: &Vec<Step>| -> Vec<Step> {
                    part.iter().cloned().chain(steps.iter().cloned()).collect()
                };
                let text = listed
                    .text
                    .clone()
                    .filter(|text| !text.is_empty() && listed.expect == "message");
                let text_at = relative
                    .iter()
                    .filter(|steps| {
                        text.as_deref().is_some_and(|text| {
                            get(node, steps).and_then(Value::as_str) == Some(text)
                        })
                    })
                    .map(absolute)
                    .collect();
                let fields = relative.iter().map(absolute).collect();
                targets.push(Target {
                    delivery: delivery.clone(),
                    part_path: listed.path.clone(),
                    text,
                    text_at,
                    fields,
                });
            }
        }
    }
    targets
}

/// Checks the properties for one mutated delivery.
fn check(
    connector: &Arc<dyn Connector>,
    target: &Target,
    changes: &[(Vec<Step>, Mutation)],
) -> Result<(), TestCaseError> {
    let mut document: Value = serde_json::from_slice(&target.delivery.body).unwrap();
    for (steps, mutation) in changes {
        apply(&mut document, steps, mutation);
    }
    let body = serde_json::to_vec(&document).unwrap();
    let parts = connector
        .normalize(Origin::Webhook, &body)
        .map_err(|err| TestCaseError::fail(format!("the whole body was refused: {err}")))?;
    // One outcome per part, for every part of the delivery.
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for part in &parts {
        *seen.entry(part.path.as_str()).or_default() += 1;
    }
    for listed in &target.delivery.parts {
        let count = seen.get(listed.path.as_str()).copied().unwrap_or(0);
        prop_assert_eq!(
            count,
            1,
            "{} {}: {} outcomes; parts {:?}",
            target.delivery.file,
            listed.path,
            count,
            parts
        );
    }
    let Some(text) = &target.text else {
        return Ok(());
    };
    let words_touched = changes
        .iter()
        .any(|(steps, _)| target.text_at.iter().any(|at| at.starts_with(steps)));
    let part = parts
        .iter()
        .find(|part| part.path == target.part_path)
        .expect("checked above");
    match &part.item {
        InboundItem::Message(message) | InboundItem::Edited(message) => {
            prop_assert!(
                words_touched || message.text.contains(text.as_str()),
                "{} {}: text {:?} lost {:?}",
                target.delivery.file,
                target.part_path,
                message.text,
                text
            );
        }
        // Kept with its whole delivery in the event log, replayable.
        InboundItem::Unrecognized { .. } => {}
        other => prop_assert!(
            words_touched,
            "{} {}: a customer's message became {:?}",
            target.delivery.file,
            target.part_path,
            other
        ),
    }
    Ok(())
}

#[test]
fn no_change_to_a_field_panics_drops_a_part_or_loses_the_customers_words() {
    let targets = targets();
    assert!(targets.len() > 150, "the corpus is there");
    let connectors: HashMap<&str, Arc<dyn Connector>> = PLATFORMS
        .iter()
        .map(|platform| (*platform, corpus::connector(platform)))
        .collect();
    // Every part gets its own run, so that rare shapes are not left to chance.
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(120);
    let changes = prop::collection::vec((any::<Index>(), mutations()), 1..4);
    for target in &targets {
        if target.fields.is_empty() {
            continue;
        }
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&changes, |changes| {
                let changes: Vec<(Vec<Step>, Mutation)> = changes
                    .into_iter()
                    .map(|(field, mutation)| (field.get(&target.fields).clone(), mutation))
                    .collect();
                check(&connectors[target.delivery.platform], target, &changes)
            })
            .unwrap_or_else(|err| panic!("{err}"));
    }
}

#[test]
fn the_unchanged_corpus_keeps_every_customers_words() {
    // The baseline of the property: with no change, every message part is a message with its
    // words (so the property above is not passing on parts that never had any).
    let mut messages = 0;
    for target in targets() {
        let connector = corpus::connector(target.delivery.platform);
        check(&connector, &target, &[]).unwrap_or_else(|err| panic!("{err}"));
        if target.text.is_some() {
            messages += 1;
            let parts = connector
                .normalize(Origin::Webhook, &target.delivery.body)
                .unwrap();
            let part = parts
                .iter()
                .find(|part| part.path == target.part_path)
                .unwrap();
            assert!(
                matches!(part.item, InboundItem::Message(_)),
                "{} {}: {:?}",
                target.delivery.file,
                target.part_path,
                part.item
            );
        }
    }
    assert!(messages > 30, "{messages} message parts with text");
}
