//! The corpus of recorded platform deliveries (`tests/fixtures/corpus/`): its manifests, with
//! the facts of every part and the outcome buzon must give it (`expect`), and the platforms'
//! connectors built offline to read them in-process.
//!
//! `expect` is one of `message`, `edited`, `removed`, `hidden`, `unhidden`, `status:<status>`,
//! `known:<kind>` or `unrecognized`: the three outcomes of issue 17 (stored, a known event
//! with no message, unrecognized), with what was stored.

use buzon_connector::{Connector, HttpClient, InboundItem, Part};
use serde::Deserialize;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The platforms of the corpus, by folder name (also the webhook route's name).
pub const PLATFORMS: [&str; 3] = ["facebook", "whatsapp", "x"];

/// One recorded delivery: a whole webhook body and its listed parts.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub platform: &'static str,
    pub file: String,
    pub body: Vec<u8>,
    pub parts: Vec<ListedPart>,
}

/// A manifest's facts about one part of a delivery.
#[derive(Debug, Clone, Deserialize)]
pub struct ListedPart {
    /// Where it sits, as the connectors name it: `entry[0].messaging[0]`.
    pub path: String,
    /// What it is, as a fact (`customer_message`, `read_receipt`…).
    pub is: String,
    /// What buzon must make of it (see the module docs).
    pub expect: String,
    pub platform_id: Option<String>,
    pub author: Option<String>,
    pub account: Option<String>,
    /// The customer's words it carries.
    pub text: Option<String>,
}

#[derive(Deserialize)]
struct ManifestEntry {
    file: String,
    parts: Vec<ListedPart>,
}

/// The corpus folder.
pub fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/corpus")
}

/// Every delivery of `platform`, in manifest order.
pub fn deliveries(platform: &'static str) -> Vec<Delivery> {
    let folder = corpus_dir().join(platform);
    let manifest = std::fs::read(folder.join("manifest.json")).expect("the manifest is readable");
    let entries: Vec<ManifestEntry> =
        serde_json::from_slice(&manifest).expect("the manifest is well formed");
    entries
        .into_iter()
        .map(|entry| Delivery {
            platform,
            body: std::fs::read(folder.join(&entry.file))
                .unwrap_or_else(|err| panic!("{platform}/{}: {err}", entry.file)),
            file: entry.file,
            parts: entry.parts,
        })
        .collect()
}

/// The deliveries split into groups in which no two deliveries share a platform id: the
/// recordings of one SDK reuse ids, which one store would rightly take for duplicates.
pub fn batches(deliveries: &[Delivery]) -> Vec<Vec<Delivery>> {
    let mut batches: Vec<(HashSet<String>, Vec<Delivery>)> = Vec::new();
    for delivery in deliveries {
        let ids: HashSet<String> = delivery
            .parts
            .iter()
            .filter_map(|part| part.platform_id.clone())
            .collect();
        match batches
            .iter_mut()
            .find(|(taken, _)| taken.is_disjoint(&ids))
        {
            Some((taken, batch)) => {
                taken.extend(ids);
                batch.push(delivery.clone());
            }
            None => batches.push((ids, vec![delivery.clone()])),
        }
    }
    batches.into_iter().map(|(_, batch)| batch).collect()
}

/// The label of what a connector made of a part, in the manifest's `expect` vocabulary.
pub fn outcome(item: &InboundItem) -> String {
    match item {
        InboundItem::Message(_) => "message".into(),
        InboundItem::Edited(_) => "edited".into(),
        InboundItem::Removed { .. } => "removed".into(),
        InboundItem::Hidden { hidden: true, .. } => "hidden".into(),
        InboundItem::Hidden { hidden: false, .. } => "unhidden".into(),
        InboundItem::Status { status, .. } => format!("status:{}", status.as_str()),
        InboundItem::Fetch { .. } => "fetch".into(),
        InboundItem::Known { kind, .. } => format!("known:{kind}"),
        InboundItem::Unrecognized { .. } => "unrecognized".into(),
    }
}

/// The text a part's outcome carries, for messages and edits.
pub fn text_of(part: &Part) -> Option<&str> {
    match &part.item {
        InboundItem::Message(message) | InboundItem::Edited(message) => Some(&message.text),
        _ => None,
    }
}

/// The real connector of `platform`, built with the test secrets and an API base nobody
/// answers: for parsing only.
pub fn connector(platform: &str) -> Arc<dyn Connector> {
    let api_base = "http://127.0.0.1:9".to_owned();
    let timeout = Duration::from_secs(1);
    let http = HttpClient::new(timeout);
    match platform {
        "facebook" => Arc::new(buzon_facebook::FacebookConnector::new(
            buzon_facebook::FacebookSettings {
                api_base,
                app_secret: Some(crate::app::META_APP_SECRET.into()),
                request_timeout: timeout,
            },
            http,
        )),
        "whatsapp" => Arc::new(buzon_whatsapp::WhatsappConnector::new(
            buzon_whatsapp::WhatsappSettings {
                api_base,
                app_secret: Some(crate::app::META_APP_SECRET.into()),
                request_timeout: timeout,
            },
            http,
        )),
        "x" => Arc::new(buzon_x::XConnector::new(
            buzon_x::XSettings {
                api_base,
                consumer_secret: Some(crate::app::X_CONSUMER_SECRET.into()),
                request_timeout: timeout,
                oauth: None,
            },
            http,
        )),
        other => panic!("no connector for {other}"),
    }
}
