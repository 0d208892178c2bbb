//! The language a customer wrote in, detected from the text (`whatlang`, trigram statistics
//! compiled in). Used to pick the auto-reply's and canned replies' language and as an inbox
//! filter; a text too short or too mixed to tell has none, and the channel's default applies.

use whatlang::{Detector, Lang};

/// The languages buzon tells apart: the shops it serves write and are written to in these.
/// A short allowlist makes short texts far more reliable than choosing among 69 languages.
const LANGUAGES: [(Lang, &str); 7] = [
    (Lang::Spa, "es"),
    (Lang::Eng, "en"),
    (Lang::Por, "pt"),
    (Lang::Fra, "fr"),
    (Lang::Deu, "de"),
    (Lang::Ita, "it"),
    (Lang::Nld, "nl"),
];

/// How sure the trigram detector must be, from 0 to 1, to name a language on its own.
const SURE: f64 = 0.5;

/// Short function words by language: short customer messages are where trigram statistics
/// hesitate (Spanish against Portuguese above all), and where these words settle it.
const COMMON_WORDS: [(&str, &[&str]); 7] = [
    (
        "es",
        &[
            "el", "la", "los", "las", "de", "del", "que", "y", "en", "un", "una", "es", "no",
            "por", "para", "con", "mi", "mis", "su", "está", "estoy", "hola", "gracias", "pero",
            "todavía", "dónde", "cuándo", "qué", "hay", "muy", "ya", "me", "lo", "se",
        ],
    ),
    (
        "en",
        &[
            "the", "and", "is", "are", "my", "to", "of", "it", "not", "have", "has", "i", "you",
            "where", "when", "what", "hi", "hello", "thanks", "thank", "yet", "still", "but",
            "with", "for", "this", "that", "was", "please",
        ],
    ),
    (
        "pt",
        &[
            "o", "os", "as", "de", "do", "da", "que", "e", "em", "um", "uma", "não", "é", "meu",
            "minha", "obrigado", "obrigada", "olá", "você", "ainda", "onde", "quando", "mas",
            "com", "para", "está",
        ],
    ),
    (
        "fr",
        &[
            "le", "la", "les", "de", "des", "du", "et", "est", "pas", "je", "vous", "ma", "mon",
            "mes", "bonjour", "merci", "toujours", "où", "quand", "mais", "avec", "pour", "une",
            "un", "chez", "n'est",
        ],
    ),
    (
        "de",
        &[
            "der", "die", "das", "und", "ist", "nicht", "ich", "mein", "meine", "hallo", "danke",
            "noch", "wo", "wann", "aber", "mit", "für", "ein", "eine", "sie", "bitte",
        ],
    ),
    (
        "it",
        &[
            "il", "lo", "la", "di", "che", "e", "non", "è", "mio", "mia", "ciao", "grazie", "sono",
            "ancora", "dove", "quando", "ma", "con", "per", "un", "una",
        ],
    ),
    (
        "nl",
        &[
            "de", "het", "een", "en", "is", "niet", "ik", "mijn", "hallo", "bedankt", "nog",
            "waar", "wanneer", "maar", "met", "voor", "dank",
        ],
    ),
];

/// The ISO 639-1 code of the language `text` is written in, when it can be told: the trigram
/// detector when it is sure, else its guess when the common words agree, else the common
/// words when they clearly point one way.
pub fn detect_language(text: &str) -> Option<&'static str> {
    // Links, mentions and hashtags say nothing of the language; a few words do.
    let words: String = text
        .split_whitespace()
        .filter(|word| !(word.starts_with('@') || word.starts_with('#') || word.contains("://")))
        .take(200)
        .collect::<Vec<_>>()
        .join(" ");
    if words.chars().filter(|c| c.is_alphabetic()).count() < 8 {
        return None;
    }
    let detector = Detector::with_allowlist(LANGUAGES.iter().map(|(lang, _)| *lang).collect());
    let guess = detector.detect(&words).and_then(|info| {
        LANGUAGES
            .iter()
            .find(|(lang, _)| *lang == info.lang())
            .map(|(_, code)| (*code, info.confidence()))
    });
    if let Some((code, confidence)) = guess {
        if confidence >= SURE {
            return Some(code);
        }
    }
    let lowered = words.to_lowercase();
    let tokens: Vec<&str> = lowered
        .split(|c: char| !(c.is_alphabetic() || c == '\''))
        .filter(|token| !token.is_empty())
        .collect();
    let mut hits: Vec<(&'static str, usize)> = COMMON_WORDS
        .iter()
        .map(|(code, common)| {
            (
                *code,
                tokens.iter().filter(|token| common.contains(token)).count(),
            )
        })
        .collect();
    hits.sort_by_key(|(_, count)| std::cmp::Reverse(*count));
    let (best, best_hits) = hits[0];
    let runner_up = hits[1].1;
    match guess {
        Some((code, _)) if code == best && best_hits >= 2 && best_hits > runner_up => Some(code),
        _ if best_hits >= 3 && best_hits >= 2 * runner_up => Some(best),
        _ => None,
    }
}

/// Whether `code` is a language code buzon knows (for filters and settings).
pub fn is_known_language(code: &str) -> bool {
    LANGUAGES.iter().any(|(_, known)| *known == code)
}

/// The codes of the languages buzon tells apart.
pub fn known_languages() -> impl Iterator<Item = &'static str> {
    LANGUAGES.iter().map(|(_, code)| *code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customers_messages_are_told_apart() {
        for (text, expected) in [
            (
                "Hola, ¿dónde está mi pedido? Lo compré hace una semana",
                Some("es"),
            ),
            ("Hi, where is my order? I bought it a week ago", Some("en")),
            ("@tiendabuzon el envío no ha llegado todavía", Some("es")),
            ("@tiendabuzon my parcel still has not arrived", Some("en")),
            (
                "Olá, a minha encomenda ainda não chegou e já passaram duas semanas",
                Some("pt"),
            ),
            (
                "Bonjour, ma commande n'est toujours pas arrivée chez moi",
                Some("fr"),
            ),
            (
                "Hola, mi pedido no ha llegado todavía y necesito saber dónde está",
                Some("es"),
            ),
            ("ok", None),
            ("👍👍", None),
            ("", None),
        ] {
            assert_eq!(detect_language(text), expected, "{text}");
        }
    }
}
