//! The one translation catalog: Project Fluent files under `locales/<code>/*.ftl`, embedded
//! at build time and parsed once. Templates ask for keys (`{{t "inbox-title"}}`), Rust code
//! asks [`text`]; neither ever matches on the language. A request's language is the `lang`
//! cookie (the switch), else the first language of `Accept-Language` the catalog has, else
//! English.

use axum::http::{header, HeaderMap};
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use std::sync::OnceLock;
use unic_langid::LanguageIdentifier;

include!(concat!(env!("OUT_DIR"), "/locales.rs"));

/// The language every other falls back to for a missing key.
const FALLBACK: &str = "en";

/// A language of the interface: an index into the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Lang(usize);

/// Every language's bundle, in the order of their codes.
pub struct Catalog {
    languages: Vec<(&'static str, FluentBundle<FluentResource>)>,
    fallback: usize,
}

/// The catalog, parsed on first use. A file that does not parse is a bug the tests catch.
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(Catalog::load)
}

impl Catalog {
    fn load() -> Catalog {
        let mut languages = Vec::new();
        for (code, files) in LOCALES {
            let id: LanguageIdentifier = code
                .parse()
                .unwrap_or_else(|err| panic!("locales/{code} is a language code: {err:?}"));
            let mut bundle = FluentBundle::new_concurrent(vec![id]);
            // Values are HTML-escaped where they are shown; the bidi isolation marks Fluent
            // puts around arguments would only get in the way of plain-text uses.
            bundle.set_use_isolating(false);
            for (file, source) in *files {
                let resource =
                    FluentResource::try_new((*source).to_owned()).unwrap_or_else(|(_, errors)| {
                        panic!("locales/{code}/{file} parses: {errors:?}")
                    });
                bundle
                    .add_resource(resource)
                    .unwrap_or_else(|errors| panic!("locales/{code}/{file} adds: {errors:?}"));
            }
            languages.push((*code, bundle));
        }
        let fallback = languages
            .iter()
            .position(|(code, _)| *code == FALLBACK)
            .expect("the catalog has English");
        Catalog {
            languages,
            fallback,
        }
    }

    /// Every language, in order.
    pub fn languages(&self) -> impl Iterator<Item = Lang> + '_ {
        (0..self.languages.len()).map(Lang)
    }

    /// The language with this code, if the catalog has it.
    pub fn find(&self, code: &str) -> Option<Lang> {
        self.languages
            .iter()
            .position(|(known, _)| *known == code)
            .map(Lang)
    }

    /// Whether `lang` has a text for `key` (without falling back).
    pub fn has(&self, lang: Lang, key: &str) -> bool {
        self.languages[lang.0].1.has_message(key)
    }

    /// Every key of a language.
    pub fn keys(&self, lang: Lang) -> Vec<String> {
        let (code, _) = self.languages[lang.0];
        let mut keys = Vec::new();
        for (known, files) in LOCALES {
            if *known != code {
                continue;
            }
            for (_, source) in *files {
                for line in source.lines() {
                    let Some((key, _)) = line.split_once(" =") else {
                        continue;
                    };
                    if !key.is_empty()
                        && key
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                    {
                        keys.push(key.to_owned());
                    }
                }
            }
        }
        keys
    }

    /// The text of `key` in `lang` with `args`, falling back to English; `None` when no
    /// language has it.
    pub fn format(&self, lang: Lang, key: &str, args: Option<&FluentArgs<'_>>) -> Option<String> {
        [lang.0, self.fallback].into_iter().find_map(|index| {
            let bundle = &self.languages[index].1;
            let pattern = bundle.get_message(key)?.value()?;
            let mut errors = Vec::new();
            let text = bundle.format_pattern(pattern, args, &mut errors);
            if !errors.is_empty() {
                tracing::warn!(key, ?errors, "a translation did not format cleanly");
            }
            Some(text.into_owned())
        })
    }
}

impl Lang {
    /// English, the fallback.
    pub fn english() -> Lang {
        Lang(catalog().fallback)
    }

    /// The language code (`en`, `es`).
    pub fn code(self) -> &'static str {
        catalog().languages[self.0].0
    }

    /// The language of a request.
    pub fn of(headers: &HeaderMap) -> Lang {
        let catalog = catalog();
        if let Some(lang) = cookie(headers, "lang").and_then(|code| catalog.find(&code)) {
            return lang;
        }
        let accepted = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("");
        // The first language listed that we speak wins (quality values are in order in practice).
        for part in accepted.split(',') {
            let tag = part.split(';').next().unwrap_or("").trim().to_lowercase();
            let primary = tag.split('-').next().unwrap_or("");
            if let Some(lang) = catalog.find(primary) {
                return lang;
            }
        }
        Lang::english()
    }
}

/// The text of `key` in `lang` (English when the language lacks it); the key itself, marked,
/// when no language has it (a test checks none is missing).
pub fn text(lang: Lang, key: &str) -> String {
    catalog()
        .format(lang, key, None)
        .unwrap_or_else(|| format!("??{key}??"))
}

/// The text of `key` in `lang` with named arguments (`{ $name }` in the catalog).
pub fn text_with(lang: Lang, key: &str, args: &[(&str, FluentValue<'_>)]) -> String {
    let mut fluent = FluentArgs::new();
    for (name, value) in args {
        fluent.set(*name, value.clone());
    }
    catalog()
        .format(lang, key, Some(&fluent))
        .unwrap_or_else(|| format!("??{key}??"))
}

/// The value of cookie `name` in a request.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_person_is_singular_in_both_languages() {
        let spanish = catalog().find("es").unwrap();
        let cell = |lang: Lang, people: i64| {
            text_with(
                lang,
                "reports-staffing_cell",
                &[
                    ("hour", "lunes 09:00".into()),
                    ("people", people.into()),
                    ("rate", "1.50".into()),
                ],
            )
        };
        assert!(
            cell(spanish, 1).contains("1 persona ("),
            "{}",
            cell(spanish, 1)
        );
        assert!(cell(spanish, 3).contains("3 personas ("));
        assert!(cell(Lang::english(), 1).contains("1 person ("));
        assert!(cell(Lang::english(), 2).contains("2 people ("));
    }

    #[test]
    fn every_language_has_every_key_and_every_key_formats() {
        let catalog = catalog();
        let english = catalog.keys(Lang::english());
        assert!(
            english.len() > 250,
            "the catalog is loaded: {}",
            english.len()
        );
        let mut unique = english.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), english.len(), "keys are unique");
        for lang in catalog.languages() {
            for key in &english {
                assert!(catalog.has(lang, key), "{} lacks {key}", lang.code());
                assert!(
                    !text(lang, key).is_empty(),
                    "{} {key} is empty",
                    lang.code()
                );
            }
            assert_eq!(
                catalog.keys(lang).len(),
                english.len(),
                "{} has keys English lacks",
                lang.code()
            );
        }
    }

    #[test]
    fn accept_language_picks_a_language_of_the_catalog() {
        let spanish = catalog().find("es").unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            "accept-language",
            "es-MX,es;q=0.9,en;q=0.8".parse().unwrap(),
        );
        assert_eq!(Lang::of(&headers), spanish);
        headers.insert("accept-language", "fr-FR,en;q=0.5".parse().unwrap());
        assert_eq!(Lang::of(&headers), Lang::english());
        headers.insert("cookie", "lang=es".parse().unwrap());
        assert_eq!(Lang::of(&headers), spanish, "the switch wins");
        headers.insert("cookie", "lang=xx".parse().unwrap());
        assert_eq!(
            Lang::of(&headers),
            Lang::english(),
            "an unknown code is ignored"
        );
    }
}
