//! X's Account Activity parser and its two polled endpoints (mentions, DM events) on arbitrary
//! bytes: they may refuse a body, never panic, and read the same body the same way twice.
#![no_main]

#[path = "common.rs"]
mod common;

use buzon_connector::Origin;
use buzon_core::ExternalId;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let connector = &common::connectors().x;
    let account = ExternalId::parse("2244994945").unwrap();
    let (selector, body) = data.split_first().unwrap_or((&0, data));
    let origin = match selector % 3 {
        0 => Origin::Webhook,
        1 => Origin::Poll {
            endpoint: "mentions",
            account: &account,
        },
        _ => Origin::Poll {
            endpoint: "dm_events",
            account: &account,
        },
    };
    common::check_parser(connector, origin, body);
});
