//! WhatsApp's webhook parser on arbitrary bytes: it may refuse a body, never panic, and reads
//! the same body the same way twice.
#![no_main]

#[path = "common.rs"]
mod common;

use buzon_connector::Origin;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let connector = &common::connectors().whatsapp;
    common::check_parser(connector, Origin::Webhook, data);
});
