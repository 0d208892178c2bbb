//! Load for the durability tests: signed WhatsApp deliveries posted as fast as a connection
//! allows, counting only those acknowledged.

use crate::app::{TestApp, META_APP_SECRET};
use crate::platform::meta_signature;
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// A signed WhatsApp delivery of one text message with id `wamid` for `phone_number_id`.
pub fn whatsapp_delivery(phone_number_id: &str, wamid: &str, from: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": phone_number_id},
            "contacts": [{"profile": {"name": "Cliente de carga"}, "wa_id": from}],
            "messages": [{"from": from, "id": wamid, "timestamp": "1764979200",
                          "type": "text", "text": {"body": format!("mensaje {wamid}")}}]
        }}]}]
    }))
    .expect("JSON")
}

/// Posts deliveries to `base_url` as fast as one connection allows until `stop`, adding the
/// id of each answered 200 to `acknowledged` once its answer arrived. A request that fails
/// (the server is gone) ends the loader.
pub async fn load(
    http: reqwest::Client,
    base_url: String,
    phone_number_id: String,
    prefix: String,
    stop: Arc<AtomicBool>,
    acknowledged: Arc<Mutex<Vec<String>>>,
) {
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let wamid = format!("wamid.{prefix}-{n}");
        let body = whatsapp_delivery(&phone_number_id, &wamid, &format!("3460{:07}", n % 50));
        let answer = http
            .post(format!("{base_url}/webhooks/whatsapp"))
            .header(
                "X-Hub-Signature-256",
                meta_signature(META_APP_SECRET, &body),
            )
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await;
        match answer {
            Ok(response) if response.status() == 200 => acknowledged.lock().unwrap().push(wamid),
            Ok(response) => panic!("a delivery answered {}", response.status()),
            Err(_) => break,
        }
    }
}

pub fn count(acknowledged: &Mutex<Vec<String>>) -> usize {
    acknowledged.lock().unwrap().len()
}

fn literal_list(ids: &[String]) -> String {
    ids.iter()
        .map(|id| format!("'{}'", id.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How many of `ids` are stored as messages.
pub async fn stored(app: &TestApp, ids: &[String]) -> i64 {
    let mut total = 0;
    for chunk in ids.chunks(500) {
        total += app
            .db
            .scalar(&format!(
                "SELECT COUNT(*) FROM messages WHERE platform_id IN ({})",
                literal_list(chunk)
            ))
            .await;
    }
    total
}
