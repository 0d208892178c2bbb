//! The placeholder renderer on arbitrary texts: it never panics; a text it fills has no
//! placeholder the checker calls unknown, and the checker passes exactly the texts it fills;
//! each value is inserted once and never read again (a value that looks like a placeholder
//! stays as written); a text without `{{` comes back unchanged.
#![no_main]

use buzon_core::{fill_placeholders, placeholders_in, unknown_placeholder, REPLY_PLACEHOLDERS};
use libfuzzer_sys::fuzz_target;

fn value(name: &str) -> Option<String> {
    match name {
        // Hostile values: placeholders, braces, markup.
        "customer.first_name" => Some("{{agent.first_name}}".to_owned()),
        "customer.name" => Some("}}{{ <b>x</b>".to_owned()),
        "agent.first_name" => Some("Ana".to_owned()),
        "back_at" => Some("{{".to_owned()),
        "conversation.id" => Some("42".to_owned()),
        _ => None,
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let filled = fill_placeholders(&text, value);
    let unknown = unknown_placeholder(&text, &REPLY_PLACEHOLDERS);
    assert_eq!(filled.is_ok(), unknown.is_none(), "{text:?}");
    if !text.contains("{{") {
        assert_eq!(filled.as_deref(), Ok(&*text));
    }
    if let Ok(filled) = &filled {
        // Every value was inserted as written: the output is at least as long as the text
        // without its placeholders, and each used name's value appears in it.
        for name in placeholders_in(&text) {
            let inserted = value(name).unwrap();
            assert!(filled.contains(&inserted), "{name} in {filled:?}");
        }
        // Filling again what was filled is not what happens: the output is not re-read, so
        // "{{agent.first_name}}" from a customer's name survives.
        if text.contains("customer.first_name") && placeholders_in(&text).contains(&"customer.first_name") {
            assert!(filled.contains("{{agent.first_name}}"));
        }
    } else if let Err(name) = &filled {
        assert!(name.chars().count() <= 32);
    }
});
