//! Reading X's JSON loosely, one part at a time.
//!
//! Every field of an inbound part is a [`Loose`]: absent (or `null`), read in the shape buzon
//! expects, or present in another shape and kept as it came. An odd field never fails its
//! part: the part's reader decides what it can still make of it, and notes the oddity in
//! [`Notes`], so that a message made from an odd part keeps the part's raw JSON and shows a
//! placeholder for what it cannot show.
//!
//! Ids ([`XId`]) are JSON strings or JSON integers (X's v1.1 objects carry both `id` and
//! `id_str`; serde_json keeps integers that fit in `u64` exact, so no id ever goes through a
//! float). Times ([`XTime`]) are milliseconds or seconds since the epoch, as a JSON number or a
//! string of digits: X documents `created_timestamp` and `timestamp_ms` as millisecond strings,
//! and `favorite_events[].timestamp_ms` arrives as a number.

use buzon_core::{ExternalId, Timestamp};
use serde::de::{DeserializeOwned, Deserializer, Error as _};
use serde::Deserialize;
use serde_json::value::RawValue;

/// A field read leniently.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) enum Loose<T> {
    /// The field is not there, or is `null`.
    #[default]
    Absent,
    /// The field in the expected shape.
    Read(T),
    /// The field in another shape, as it came.
    Odd(serde_json::Value),
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Loose<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Loose<T>, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        if value.is_null() {
            return Ok(Loose::Absent);
        }
        Ok(match T::deserialize(&value) {
            Ok(read) => Loose::Read(read),
            Err(_) => Loose::Odd(value),
        })
    }
}

impl<T> Loose<T> {
    /// The field when it has the expected shape. A field in another shape is noted in `notes`
    /// as `field`, and reads as absent.
    pub(crate) fn read(&self, field: &'static str, notes: &mut Notes) -> Option<&T> {
        match self {
            Loose::Absent => None,
            Loose::Read(read) => Some(read),
            Loose::Odd(_) => {
                notes.odd(field);
                None
            }
        }
    }

    /// The field when it has the expected shape, without noting anything.
    pub(crate) fn get(&self) -> Option<&T> {
        match self {
            Loose::Read(read) => Some(read),
            Loose::Absent | Loose::Odd(_) => None,
        }
    }

    /// Whether the field is there in another shape.
    #[cfg(test)]
    pub(crate) fn is_odd(&self) -> bool {
        matches!(self, Loose::Odd(_))
    }

    /// Whether the field is there at all (in any shape).
    pub(crate) fn is_present(&self) -> bool {
        !matches!(self, Loose::Absent)
    }
}

/// A list whose entries are each read leniently.
pub(crate) type LooseList<T> = Loose<Vec<Loose<T>>>;

/// An X id: a JSON string or integer that makes a valid [`ExternalId`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct XId(pub ExternalId);

impl<'de> Deserialize<'de> for XId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<XId, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum RawId {
            Text(String),
            Number(u64),
        }
        let text = match RawId::deserialize(deserializer)? {
            RawId::Text(text) => text,
            RawId::Number(number) => number.to_string(),
        };
        ExternalId::parse(text)
            .map(XId)
            .map_err(|_| D::Error::custom("not a valid id"))
    }
}

impl XId {
    /// The id as text.
    pub(crate) fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// Below this a number is taken for seconds, above it for milliseconds: 10^11 seconds is the
/// year 5138, 10^11 milliseconds is March 1973, before any X event.
const SECONDS_BELOW: f64 = 1e11;

/// A time since the epoch in milliseconds or seconds, as a JSON number or a string of digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct XTime(pub Timestamp);

impl<'de> Deserialize<'de> for XTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<XTime, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum RawTime {
            Whole(i64),
            Fraction(f64),
            Text(String),
        }
        let number = match RawTime::deserialize(deserializer)? {
            RawTime::Whole(whole) => whole as f64,
            RawTime::Fraction(fraction) => fraction,
            RawTime::Text(text) => text
                .trim()
                .parse::<f64>()
                .map_err(|_| D::Error::custom("not a time"))?,
        };
        if !number.is_finite() || number < 0.0 {
            return Err(D::Error::custom("not a time"));
        }
        let millis = if number < SECONDS_BELOW {
            number * 1000.0
        } else {
            number
        };
        if millis > i64::MAX as f64 / 2.0 {
            return Err(D::Error::custom("not a time"));
        }
        Ok(XTime(Timestamp::from_millis(millis.round() as i64)))
    }
}

/// What a reader noticed in one part: fields in an odd shape, and placeholders for things the
/// inbox cannot show.
#[derive(Debug, Default)]
pub(crate) struct Notes {
    odd: Vec<&'static str>,
    placeholders: Vec<String>,
}

impl Notes {
    /// A field came in an odd shape.
    pub(crate) fn odd(&mut self, field: &'static str) {
        if !self.odd.contains(&field) {
            self.odd.push(field);
        }
    }

    /// Something the inbox cannot show: `what` (`attachment`, `message`) of kind `kind`.
    pub(crate) fn unsupported(&mut self, what: &str, kind: &str) {
        self.placeholders
            .push(buzon_connector::unsupported_placeholder(
                what,
                &reason_word(kind),
            ));
    }

    /// Whether anything was noticed.
    pub(crate) fn is_clean(&self) -> bool {
        self.odd.is_empty() && self.placeholders.is_empty()
    }

    /// The text with the placeholders after it, each joined with a space.
    pub(crate) fn text(&self, text: &str) -> String {
        std::iter::once(text)
            .filter(|text| !text.is_empty())
            .chain(self.placeholders.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The part's JSON as it arrived, when anything was noticed.
    pub(crate) fn raw(&self, part: &RawValue) -> Option<String> {
        (!self.is_clean()).then(|| part.get().to_owned())
    }
}

/// A word from a payload (a type, a key) made safe to quote in a reason or a placeholder: at
/// most 64 of its letters, digits, `_`, `-` and `.`; `unknown` when none is left.
pub(crate) fn reason_word(word: &str) -> String {
    let safe: String = word
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        .take(64)
        .collect();
    if safe.is_empty() {
        "unknown".to_owned()
    } else {
        safe
    }
}

/// The keys of a JSON object, made safe to quote, in order, for a reason.
pub(crate) fn object_keys(value: &serde_json::Value) -> String {
    value
        .as_object()
        .map(|object| {
            object
                .keys()
                .take(8)
                .map(|key| reason_word(key))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .filter(|keys| !keys.is_empty())
        .unwrap_or_else(|| "none".to_owned())
}

/// The kind of JSON value, for a reason.
pub(crate) fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// A JSON object's members in the order they arrived, each value as its raw text. (serde_json's
/// own map sorts its keys; the parts of a delivery keep the delivery's order.)
#[derive(Debug)]
pub(crate) struct OrderedObject<'a>(pub Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for OrderedObject<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<OrderedObject<'a>, D::Error> {
        struct Visitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visitor<'a> {
            type Value = OrderedObject<'a>;
            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("a JSON object")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut map: M,
            ) -> Result<OrderedObject<'a>, M::Error> {
                let mut members = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, &'a RawValue>()? {
                    members.push((key, value));
                }
                Ok(OrderedObject(members))
            }
        }
        deserializer.deserialize_map(Visitor(std::marker::PhantomData))
    }
}

impl<'a> OrderedObject<'a> {
    /// The first member named `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&'a RawValue> {
        self.0
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| *value)
    }
}

/// The entries of a raw JSON array, each as its raw text; `None` when it is not an array.
pub(crate) fn raw_array(raw: &RawValue) -> Option<Vec<&RawValue>> {
    serde_json::from_str(raw.get()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Sample {
        #[serde(default)]
        id: Loose<XId>,
        #[serde(default)]
        at: Loose<XTime>,
        #[serde(default)]
        text: Loose<String>,
    }

    fn sample(json: &str) -> Sample {
        serde_json::from_str(json).expect("any object reads")
    }

    #[test]
    fn ids_read_as_strings_or_integers_and_anything_else_is_odd() {
        assert_eq!(
            sample(r#"{"id": 1578516295611748353}"#)
                .id
                .get()
                .map(XId::as_str),
            Some("1578516295611748353")
        );
        assert_eq!(
            sample(r#"{"id": "42"}"#).id.get().map(XId::as_str),
            Some("42")
        );
        assert!(sample(r#"{"id": 1.5e18}"#).id.is_odd());
        assert!(sample(r#"{"id": ""}"#).id.is_odd());
        assert!(sample(r#"{"id": {"a": 1}}"#).id.is_odd());
        assert!(!sample(r#"{"id": null}"#).id.is_present());
        assert!(!sample("{}").id.is_present());
    }

    #[test]
    fn times_read_in_milliseconds_or_seconds() {
        let millis = Timestamp::from_millis(1_516_403_560_557);
        for json in [
            r#"{"at": "1516403560557"}"#,
            r#"{"at": 1516403560557}"#,
            r#"{"at": 1516403560.557}"#,
            r#"{"at": "1516403560.557"}"#,
        ] {
            assert_eq!(sample(json).at.get(), Some(&XTime(millis)), "{json}");
        }
        assert_eq!(
            sample(r#"{"at": 1516403560}"#).at.get(),
            Some(&XTime(Timestamp::from_millis(1_516_403_560_000)))
        );
        assert!(sample(r#"{"at": "yesterday"}"#).at.is_odd());
        assert!(sample(r#"{"at": -5}"#).at.is_odd());
    }

    #[test]
    fn notes_put_placeholders_after_the_text_and_keep_the_raw_part() {
        let raw: Box<RawValue> = serde_json::from_str(r#"{"text" : 7}"#).expect("json");
        let mut notes = Notes::default();
        assert_eq!(sample(r#"{"text": 7}"#).text.read("text", &mut notes), None);
        assert!(!notes.is_clean());
        assert_eq!(notes.raw(&raw).as_deref(), Some(r#"{"text" : 7}"#));
        notes.unsupported("attachment", "sticker");
        notes.unsupported("attachment", "<b>x</b>");
        assert_eq!(
            notes.text("hi"),
            "hi [attachment of an unsupported kind: sticker] [attachment of an unsupported kind: bxb]"
        );
        assert_eq!(
            notes.text(""),
            "[attachment of an unsupported kind: sticker] [attachment of an unsupported kind: bxb]"
        );
        assert_eq!(Notes::default().raw(&raw), None);
        assert_eq!(Notes::default().text("hi"), "hi");
    }

    #[test]
    fn objects_keep_their_order_and_duplicate_keys() {
        let object: OrderedObject<'_> =
            serde_json::from_str(r#"{"b": 1, "a": [2], "b": {"c": 3}}"#).expect("an object");
        let keys: Vec<&str> = object.0.iter().map(|(key, _)| key.as_str()).collect();
        assert_eq!(keys, ["b", "a", "b"]);
        assert_eq!(object.get("a").map(RawValue::get), Some("[2]"));
        assert!(serde_json::from_str::<OrderedObject<'_>>("[1]").is_err());
        assert_eq!(
            raw_array(object.get("a").expect("a")).map(|entries| entries.len()),
            Some(1)
        );
        assert!(raw_array(object.get("b").expect("b")).is_none());
    }
}
