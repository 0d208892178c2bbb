//! Facebook's webhook parser and its two polled endpoints (a Page's feed, a post's comments)
//! on arbitrary bytes: they may refuse a body, never panic, and read the same body the same
//! way twice.
#![no_main]

#[path = "common.rs"]
mod common;

use buzon_connector::Origin;
use buzon_core::ExternalId;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let connector = &common::connectors().facebook;
    let account = ExternalId::parse("1234567890").unwrap();
    let (selector, body) = data.split_first().unwrap_or((&0, data));
    let origin = match selector % 3 {
        0 => Origin::Webhook,
        1 => Origin::Poll {
            endpoint: "feed",
            account: &account,
        },
        _ => Origin::Poll {
            endpoint: "comments:1234567890_111",
            account: &account,
        },
    };
    common::check_parser(connector, origin, body);
});
