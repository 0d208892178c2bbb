//! Listening: what buzon hears that was not addressed to the account — X posts matching a
//! saved search, Facebook Page mentions elsewhere, Page reviews — and the pure decisions about
//! it: whether a find goes straight into the answer queue, how a saved search's query is
//! checked, and how often each search may ask X within the tier's budget.

use crate::DomainError;
#[allow(unused_imports)]
use serde::{Deserialize as _, Serialize as _};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The longest saved-search query X's self-serve tiers accept (PLATFORMS.md C.3b).
pub const MAX_SEARCH_QUERY_CHARS: usize = 512;

/// X's rate-limit window for recent search.
pub const SEARCH_WINDOW: Duration = Duration::from_secs(15 * 60);

/// Recent-search requests per window assumed until X's headers say otherwise: the Basic tier's
/// 60 per 15 minutes (docs.x.com, "Comparing X API's Search Posts endpoints").
pub const DEFAULT_SEARCH_LIMIT: u32 = 60;

/// The share of the window's requests the saved searches plan to spend; the rest is headroom
/// for pagination pages and clock drift.
const PLANNED_SHARE: f64 = 0.9;

/// What found a message or a conversation that nobody addressed to the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "detail")]
pub enum FoundBy {
    /// An X post matching the saved search with this id.
    Search(i64),
    /// A Facebook post or comment elsewhere that tags the Page.
    Mention,
    /// A review (recommendation) of the Page: recommends it or not.
    Review(Recommendation),
}

crate::model::text_enum! {
    /// Whether a Page review recommends the Page (Facebook's `recommendation_type`).
    Recommendation, UnknownRecommendation, {
        /// Recommends the Page.
        Positive = "positive",
        /// Does not recommend it.
        Negative = "negative",
    }
}

impl FoundBy {
    /// The stored name: `search`, `mention` or `review`.
    pub const fn as_str(self) -> &'static str {
        match self {
            FoundBy::Search(_) => "search",
            FoundBy::Mention => "mention",
            FoundBy::Review(_) => "review",
        }
    }

    /// A review's recommendation.
    pub const fn recommendation(self) -> Option<Recommendation> {
        match self {
            FoundBy::Review(recommendation) => Some(recommendation),
            _ => None,
        }
    }

    /// The saved search, for a search find.
    pub const fn search_id(self) -> Option<i64> {
        match self {
            FoundBy::Search(id) => Some(id),
            _ => None,
        }
    }

    /// Reads the stored name, search id and recommendation back.
    pub fn from_stored(
        name: &str,
        search_id: Option<i64>,
        recommendation: Option<&str>,
    ) -> Option<FoundBy> {
        match (name, search_id) {
            ("search", Some(id)) => Some(FoundBy::Search(id)),
            ("mention", _) => Some(FoundBy::Mention),
            ("review", _) => Some(FoundBy::Review(
                recommendation
                    .and_then(|text| Recommendation::parse(text).ok())
                    .unwrap_or(Recommendation::Positive),
            )),
            _ => None,
        }
    }
}

crate::model::text_enum! {
    /// Which finds of a saved search go straight into the answer queue; the rest wait in the
    /// monitoring view. Authors tagged VIP, influencer or press, and finds an alert rule
    /// matches, are promoted whatever the setting.
    Promote, UnknownPromote, {
        /// None: everything waits for an agent.
        None = "none",
        /// Posts that ask something (a question mark, or a question word first).
        Questions = "questions",
        /// Posts with negative words in their language (English and Spanish lists).
        Negative = "negative",
        /// Everything the search finds.
        All = "all",
    }
}

/// Author labels that always promote a find.
pub const PROMOTING_LABELS: &[&str] = &["vip", "influencer", "press"];

/// Whether a find with `text` (in `language`, when detected) goes into the queue under `mode`.
pub fn promotes(mode: Promote, text: &str, language: Option<&str>) -> bool {
    match mode {
        Promote::None => false,
        Promote::All => true,
        Promote::Questions => is_question(text),
        Promote::Negative => has_negative_words(text, language),
    }
}

/// Whether the text asks something: a question mark (`?`, `¿`), or a question word first.
pub fn is_question(text: &str) -> bool {
    const OPENERS: &[&str] = &[
        "how", "why", "when", "where", "what", "who", "which", "can", "could", "does", "do", "is",
        "are", "will", "cómo", "como", "por qué", "porque", "cuándo", "cuando", "dónde", "donde",
        "qué", "quién", "cuál", "puedo", "podéis", "pueden",
    ];
    if text.contains('?') || text.contains('¿') {
        return true;
    }
    let lower = text.trim_start().to_lowercase();
    OPENERS.iter().any(|opener| {
        lower
            .strip_prefix(opener)
            .is_some_and(|rest| rest.starts_with(|c: char| !c.is_alphanumeric()))
    })
}

/// Whether the text carries a negative word of its language (English and Spanish; both when
/// the language is unknown). Words are matched whole, case-insensitively.
pub fn has_negative_words(text: &str, language: Option<&str>) -> bool {
    const ENGLISH: &[&str] = &[
        "bad",
        "worst",
        "terrible",
        "awful",
        "broken",
        "scam",
        "fraud",
        "refund",
        "never",
        "nobody",
        "angry",
        "disappointed",
        "complaint",
        "charged",
        "late",
        "missing",
        "wrong",
        "useless",
        "horrible",
        "down",
        "fails",
        "failed",
        "error",
        "stolen",
        "rude",
        "hate",
    ];
    const SPANISH: &[&str] = &[
        "mal",
        "malo",
        "mala",
        "peor",
        "fatal",
        "horrible",
        "timo",
        "estafa",
        "fraude",
        "reembolso",
        "nunca",
        "nadie",
        "enfadado",
        "enfadada",
        "decepcionado",
        "decepcionada",
        "queja",
        "cobrado",
        "cobraron",
        "tarde",
        "roto",
        "rota",
        "error",
        "caída",
        "caida",
        "vergüenza",
        "pésimo",
        "pesimo",
        "odio",
        "falla",
        "devolución",
    ];
    let lists: &[&[&str]] = match language {
        Some("en") => &[ENGLISH],
        Some("es") => &[SPANISH],
        _ => &[ENGLISH, SPANISH],
    };
    let lower = text.to_lowercase();
    lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .any(|word| lists.iter().any(|list| list.contains(&word)))
}

/// Checks a saved search's query: not empty, at most [`MAX_SEARCH_QUERY_CHARS`] characters,
/// no control characters. The query is X's own syntax and is passed to X unchanged; X says
/// whether it is valid (and buzon shows X's error on the channel's health).
pub fn check_search_query(query: &str) -> Result<String, DomainError> {
    let query = query.trim();
    if query.is_empty() {
        return Err(DomainError::InvalidSearch("the query is empty".into()));
    }
    if query.chars().count() > MAX_SEARCH_QUERY_CHARS {
        return Err(DomainError::InvalidSearch(format!(
            "the query is longer than {MAX_SEARCH_QUERY_CHARS} characters"
        )));
    }
    if query.chars().any(char::is_control) {
        return Err(DomainError::InvalidSearch(
            "the query has a control character".into(),
        ));
    }
    Ok(query.to_owned())
}

/// What X's rate-limit headers said of recent search after the last request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchBudget {
    /// `x-rate-limit-limit`: requests per window.
    pub limit: u32,
    /// `x-rate-limit-remaining`.
    pub remaining: u32,
    /// Seconds until `x-rate-limit-reset`.
    pub resets_in: Duration,
}

/// How long one saved search waits before its next request, so that `searches` searches
/// sharing one budget spread what remains of X's window evenly until its reset, keeping
/// a tenth of the window in hand for drift and other clients of the same app: right after a
/// window opens on the Basic tier (60 per 15 minutes, 59 left) three searches each ask every
/// 51 s, and a whole window spends at most 54 requests.
/// Spreading what remains over the time left needs no knowledge of the window's length, and
/// never spends a budget before its reset. When nothing remains, the search waits for the
/// reset; without X's headers yet, the Basic tier is assumed.
pub fn search_interval(budget: Option<SearchBudget>, searches: usize) -> Duration {
    let searches = searches.max(1) as f64;
    let Some(budget) = budget else {
        let planned = f64::from(DEFAULT_SEARCH_LIMIT) * PLANNED_SHARE;
        return Duration::from_secs_f64(SEARCH_WINDOW.as_secs_f64() * searches / planned);
    };
    // A tenth of the window's requests (at least one) is kept in hand.
    let reserve = (f64::from(budget.limit) * (1.0 - PLANNED_SHARE))
        .ceil()
        .max(1.0);
    let usable = f64::from(budget.remaining) - reserve;
    if usable < 1.0 {
        return budget.resets_in.max(Duration::from_secs(1));
    }
    let wait = budget.resets_in.as_secs_f64() * searches / usable;
    Duration::from_secs_f64(wait.max(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_and_negative_words_are_recognised_in_both_languages() {
        assert!(is_question("¿Alguien sabe si tiendabuzon envía a Canarias"));
        assert!(is_question("does tiendabuzon ship to Mexico"));
        assert!(is_question("Cómo devuelvo un pedido de tiendabuzon"));
        assert!(!is_question("tiendabuzon is great"));
        assert!(!is_question("Isabel loves tiendabuzon"));
        assert!(has_negative_words(
            "tiendabuzon charged me twice and nobody answers",
            Some("en")
        ));
        assert!(has_negative_words(
            "Pésimo servicio de Tienda Buzón",
            Some("es")
        ));
        assert!(!has_negative_words(
            "Encantada con Tienda Buzón",
            Some("es")
        ));
        // A word of the other language does not count when the language is known...
        assert!(!has_negative_words("mal", Some("en")));
        // ...and both lists apply when it is not.
        assert!(has_negative_words("mal", None));
        // Whole words only.
        assert!(!has_negative_words("badminton at tiendabuzon", Some("en")));
    }

    #[test]
    fn promotion_follows_the_mode() {
        let text = "¿Por qué tiendabuzon no contesta? Fatal";
        assert!(!promotes(Promote::None, text, Some("es")));
        assert!(promotes(Promote::All, "hola", Some("es")));
        assert!(promotes(Promote::Questions, text, Some("es")));
        assert!(promotes(Promote::Negative, text, Some("es")));
        assert!(!promotes(Promote::Negative, "me encanta", Some("es")));
    }

    #[test]
    fn queries_are_bounded_but_passed_as_written() {
        let query = "(tiendabuzon OR \"tienda buzón\") -is:retweet lang:es";
        assert_eq!(check_search_query(&format!("  {query} ")).unwrap(), query);
        assert!(check_search_query("   ").is_err());
        assert!(check_search_query(&"a".repeat(513)).is_err());
        assert!(check_search_query(&"á".repeat(512)).is_ok());
        assert!(check_search_query("a\u{0}b").is_err());
    }

    #[test]
    fn three_searches_share_the_basic_tier_budget() {
        // No headers yet: the Basic tier is assumed; 3 searches × 18 = 54 of 60 per window.
        assert_eq!(search_interval(None, 3), Duration::from_secs(50));
        // A window just opened on the Basic tier: 59 left for 15 minutes.
        let fresh = SearchBudget {
            limit: 60,
            remaining: 59,
            resets_in: Duration::from_secs(900),
        };
        let wait = search_interval(Some(fresh), 3);
        assert!(
            wait > Duration::from_secs(50) && wait < Duration::from_secs(52),
            "{wait:?}"
        );
        // Followed through a whole window, the three searches spend at most 90% of it.
        let mut remaining = 60u32;
        let mut elapsed = 0.0f64;
        let mut spent = 0u32;
        while elapsed < 900.0 && remaining > 0 {
            remaining -= 1;
            spent += 1;
            let left = Duration::from_secs_f64(900.0 - elapsed);
            let per_search = search_interval(
                Some(SearchBudget {
                    limit: 60,
                    remaining,
                    resets_in: left,
                }),
                3,
            );
            // Three searches take turns: the next request of any of them comes a third of
            // a search's interval later.
            elapsed += per_search.as_secs_f64() / 3.0;
        }
        assert!(spent <= 54, "{spent} requests in one window");
        assert!(remaining >= 6, "a tenth is kept in hand: {remaining} left");
        // A larger tier's headers shorten the wait.
        let pro = SearchBudget {
            limit: 450,
            remaining: 449,
            resets_in: Duration::from_secs(900),
        };
        assert!(search_interval(Some(pro), 3) < Duration::from_secs(8));
        // Nothing left: wait for the reset.
        let spent = SearchBudget {
            limit: 60,
            remaining: 0,
            resets_in: Duration::from_secs(321),
        };
        assert_eq!(search_interval(Some(spent), 3), Duration::from_secs(321));
    }

    #[test]
    fn found_by_round_trips_through_storage() {
        for found in [
            FoundBy::Search(7),
            FoundBy::Mention,
            FoundBy::Review(Recommendation::Negative),
            FoundBy::Review(Recommendation::Positive),
        ] {
            assert_eq!(
                FoundBy::from_stored(
                    found.as_str(),
                    found.search_id(),
                    found.recommendation().map(Recommendation::as_str)
                ),
                Some(found)
            );
        }
        assert_eq!(FoundBy::from_stored("search", None, None), None);
    }
}
