//! `{{name}}` placeholders in texts the team writes ahead (canned replies, auto-replies,
//! incident replies): found, checked and filled in one place.
//!
//! Filling is one pass over the text as written: a value is inserted as it is and never read
//! again, so a customer called `{{agent.first_name}}` is greeted by that name, not by the
//! agent's. A placeholder with no value is an error naming it: a text is never sent with a raw
//! `{{…}}` in it.

/// The placeholders of a canned reply (and of any reply typed in the reply box).
pub const REPLY_PLACEHOLDERS: [&str; 5] = [
    "customer.first_name",
    "customer.name",
    "agent.first_name",
    "back_at",
    "conversation.id",
];

/// The first `{{name}}` in `text` whose name is not among `known` (an unclosed `{{` is
/// named by what follows it).
pub fn unknown_placeholder<'t>(text: &'t str, known: &[&str]) -> Option<&'t str> {
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Some(bounded(after));
        };
        let name = after[..end].trim();
        if !known.contains(&name) {
            return Some(bounded(name));
        }
        rest = &after[end + 2..];
    }
    None
}

/// The placeholder names used in `text`, in order, each once.
pub fn placeholders_in(text: &str) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let name = after[..end].trim();
        if !names.contains(&name) {
            names.push(name);
        }
        rest = &after[end + 2..];
    }
    names
}

/// Fills every `{{name}}` of `text` with `value(name)`, in one pass. Errs with the first name
/// that has no value (or the text after an unclosed `{{`).
pub fn fill_placeholders(
    text: &str,
    value: impl Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let mut filled = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        filled.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err(bounded(after).to_owned());
        };
        let name = after[..end].trim();
        match value(name) {
            Some(value) => filled.push_str(&value),
            None => return Err(bounded(name).to_owned()),
        }
        rest = &after[end + 2..];
    }
    filled.push_str(rest);
    Ok(filled)
}

/// At most 32 characters of a name, for an error message.
fn bounded(name: &str) -> &str {
    match name.char_indices().nth(32) {
        Some((index, _)) => &name[..index],
        None => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(name: &str) -> Option<String> {
        match name {
            "customer.first_name" => Some("{{agent.first_name}}".to_owned()),
            "agent.first_name" => Some("Ana".to_owned()),
            _ => None,
        }
    }

    #[test]
    fn values_are_inserted_once_and_never_read_again() {
        assert_eq!(
            fill_placeholders(
                "Hola {{ customer.first_name }}, soy {{agent.first_name}}.",
                values
            )
            .unwrap(),
            "Hola {{agent.first_name}}, soy Ana."
        );
    }

    #[test]
    fn a_placeholder_without_a_value_is_named() {
        assert_eq!(
            fill_placeholders("Hola {{customer.nombre}}", values).unwrap_err(),
            "customer.nombre"
        );
        assert_eq!(
            fill_placeholders("Hola {{agent.first_name", values).unwrap_err(),
            "agent.first_name"
        );
        assert_eq!(
            fill_placeholders("Sin nada { } }}", values).unwrap(),
            "Sin nada { } }}"
        );
    }

    #[test]
    fn unknown_names_are_found_and_known_ones_listed() {
        assert_eq!(unknown_placeholder("back {{back_at}}", &["back_at"]), None);
        assert_eq!(
            unknown_placeholder("hi {{ customer.name }} {{back_at}}", &["back_at"]),
            Some("customer.name")
        );
        assert_eq!(unknown_placeholder("hi {{oops", &["back_at"]), Some("oops"));
        assert_eq!(placeholders_in("{{a}} {{b}} {{a}}"), vec!["a", "b"]);
    }
}
