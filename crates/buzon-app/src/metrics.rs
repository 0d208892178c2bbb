//! Counters kept in memory per node (requests, webhooks, retries, poll errors), shared by the
//! web layer and the workers, and their Prometheus text with the queue depths.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

/// Counters shared by the web layer and the workers.
#[derive(Clone, Default)]
pub struct Metrics {
    counters: Arc<Mutex<BTreeMap<(&'static str, String), u64>>>,
}

impl Metrics {
    /// Adds `by` to the counter `name` with the given label set (already formatted, e.g.
    /// `platform="x",outcome="accepted"`).
    pub fn add(&self, name: &'static str, labels: String, by: u64) {
        let mut counters = self
            .counters
            .lock()
            .expect("metrics lock is never poisoned");
        *counters.entry((name, labels)).or_default() += by;
    }

    /// Counts one request.
    pub fn count_request(&self, route: &str, status: u16) {
        self.add(
            "buzon_http_requests_total",
            format!("route=\"{}\",status=\"{status}\"", escape(route)),
            1,
        );
    }

    /// Counts one webhook delivery by outcome (accepted, duplicate, rejected, too_large…).
    pub fn count_webhook(&self, platform: &str, outcome: &str) {
        self.add(
            "buzon_webhooks_total",
            format!("platform=\"{platform}\",outcome=\"{outcome}\""),
            1,
        );
    }

    /// Counts one request cut by the request timeout.
    pub fn count_timeout(&self) {
        self.add("buzon_request_timeouts_total", "cut=\"timeout\"".into(), 1);
    }

    /// Counts one outbox retry.
    pub fn count_outbox_retry(&self, channel_id: i64) {
        self.add(
            "buzon_outbox_retries_total",
            format!("channel=\"{channel_id}\""),
            1,
        );
    }

    /// Counts automatic out-of-hours replies queued.
    pub fn count_auto_replies(&self, count: u64) {
        self.add("buzon_auto_replies_total", String::new(), count);
    }

    /// Counts one failed poll.
    pub fn count_poll_error(&self, channel_id: i64, kind: &str) {
        self.add(
            "buzon_poll_errors_total",
            format!("channel=\"{channel_id}\",kind=\"{}\"", escape(kind)),
            1,
        );
    }

    /// Counts parts of deliveries that buzon did not recognise, by platform and channel (empty
    /// when the channel is not known).
    pub fn count_unparsed(&self, platform: &str, channel: &str, parts: u64) {
        self.add(
            "buzon_events_unparsed_total",
            format!(
                "platform=\"{}\",channel=\"{}\"",
                escape(platform),
                escape(channel)
            ),
            parts,
        );
    }

    /// The value of a counter, for tests and the admin pages.
    pub fn value(&self, name: &str, labels: &str) -> u64 {
        let counters = self
            .counters
            .lock()
            .expect("metrics lock is never poisoned");
        counters
            .iter()
            .filter(|((counter, counter_labels), _)| *counter == name && counter_labels == labels)
            .map(|(_, value)| *value)
            .sum()
    }

    fn render(&self, out: &mut String) {
        let counters = self
            .counters
            .lock()
            .expect("metrics lock is never poisoned");
        let mut last_name = "";
        for ((name, labels), value) in counters.iter() {
            if *name != last_name {
                let _ = writeln!(out, "# TYPE {name} counter");
                last_name = name;
            }
            let _ = writeln!(out, "{name}{{{labels}}} {value}");
        }
    }
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    /// The Prometheus text: every counter, then the queue depths (or `buzon_database_up 0`
    /// when the database does not answer).
    pub fn prometheus_text(&self, depths: Option<buzon_core::QueueDepths>) -> String {
        let mut out = String::new();
        self.render(&mut out);
        match depths {
            Some(depths) => {
                let _ = writeln!(out, "# TYPE buzon_queue_depth gauge");
                for (queue, depth) in [
                    ("inbound_pending", depths.inbound_pending),
                    ("inbound_failed", depths.inbound_failed),
                    ("inbound_unparsed", depths.inbound_unparsed),
                    ("outbox_pending", depths.outbox_pending),
                    ("outbox_unknown", depths.outbox_unknown),
                    ("outbox_failed", depths.outbox_failed),
                ] {
                    let _ = writeln!(out, "buzon_queue_depth{{queue=\"{queue}\"}} {depth}");
                }
                let _ = writeln!(out, "# TYPE buzon_database_up gauge\nbuzon_database_up 1");
            }
            None => {
                let _ = writeln!(out, "# TYPE buzon_database_up gauge\nbuzon_database_up 0");
            }
        }
        out
    }
}
