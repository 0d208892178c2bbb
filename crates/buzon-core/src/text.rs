//! Bounding and cleaning hostile text before it is stored.

/// The most bytes of message text buzon keeps; longer text is cut at a character boundary.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// The most bytes of a person's display name or handle buzon keeps.
pub const MAX_NAME_BYTES: usize = 512;

/// Replaces NUL characters (which PostgreSQL text cannot hold) with U+FFFD.
///
/// Everything else, including zero-width and right-to-left characters, is kept as written:
/// it is escaped when shown, never interpreted.
pub fn sanitize_text(text: &str) -> String {
    if text.contains('\0') {
        text.replace('\0', "\u{FFFD}")
    } else {
        text.to_owned()
    }
}

/// Sanitizes `text` and cuts it to at most `max_bytes` bytes, at a character boundary.
pub fn bound_text(text: &str, max_bytes: usize) -> String {
    let mut cleaned = sanitize_text(text);
    if cleaned.len() > max_bytes {
        let mut cut = max_bytes;
        while !cleaned.is_char_boundary(cut) {
            cut -= 1;
        }
        cleaned.truncate(cut);
    }
    cleaned
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_bytes_are_replaced() {
        assert_eq!(sanitize_text("a\0b"), "a\u{FFFD}b");
    }

    #[test]
    fn long_text_is_cut_at_a_character_boundary() {
        let text = "ñ".repeat(10);
        let bounded = bound_text(&text, 5);
        assert_eq!(bounded, "ññ");
    }

    #[test]
    fn short_text_is_unchanged() {
        assert_eq!(
            bound_text("hola \u{200B}\u{202E}", 100),
            "hola \u{200B}\u{202E}"
        );
    }
}
