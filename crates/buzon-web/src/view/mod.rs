//! What pages show: the template registry, the base view every page template receives
//! ([`Page`]), and the small formatting rules views share. Feature modules build their own
//! `Serialize` view structs and hand them to [`render`]; they never build JSON by hand.

mod templates;

pub use templates::{Templates, APP_CSS, APP_JS, TEMPLATES};

use crate::i18n::{catalog, text, Lang};
use crate::AppState;
use axum::response::Html;
use buzon_app::Session;
use buzon_core::{ChannelKind, Contact, ConversationKind, Timestamp};
use serde::Serialize;

/// Whoever a page is for: their language and, when signed in, their session. The web's
/// extractors implement it; views need nothing else of a request.
pub trait Reader {
    /// The reader's language.
    fn lang(&self) -> Lang;
    /// The reader's session, when signed in to the pages.
    fn session(&self) -> Option<&Session>;
}

/// A template that failed to render: a bug, shown as a 500 and logged.
#[derive(Debug)]
pub struct RenderFailure(pub String);

/// The base of every page: language, title, who is signed in, the navigation, and the
/// page's own view flattened beside them.
#[derive(Serialize)]
pub struct Page<T: Serialize> {
    /// The page's language code.
    pub lang: &'static str,
    /// The other languages, for the switch.
    pub languages: Vec<LanguageChoice>,
    /// The title, before "· buzon".
    pub title: String,
    /// Which page (a `data-page` attribute scripts and styles key on).
    pub page: &'static str,
    /// The signed-in user, if any.
    pub user: Option<UserView>,
    /// The session's CSRF token, for every form.
    pub csrf: String,
    /// Whether the admin link shows.
    pub is_admin: bool,
    /// Whether the inbox link is the current page.
    pub nav_inbox: bool,
    /// Whether the trolls link is the current page.
    pub nav_trolls: bool,
    /// Whether the escalated link is the current page.
    pub nav_escalated: bool,
    /// The monitoring view (listening) is the current page.
    pub nav_monitoring: bool,
    /// The page's own view.
    #[serde(flatten)]
    pub body: T,
}

/// A language the switch offers, named in itself.
#[derive(Serialize)]
pub struct LanguageChoice {
    /// Its code.
    pub code: &'static str,
    /// Its own name for itself.
    pub name: String,
}

/// The signed-in user, as the layout shows them.
#[derive(Serialize)]
pub struct UserView {
    /// Their name.
    pub name: String,
    /// Their role.
    pub role: &'static str,
}

impl<T: Serialize> Page<T> {
    /// A page for `reader` titled by the catalog key `title_key`.
    pub fn new(reader: &impl Reader, title_key: &str, page: &'static str, body: T) -> Page<T> {
        Page::titled(reader, text(reader.lang(), title_key), page, body)
    }

    /// A page for `reader` with a title of its own (a customer's name).
    pub fn titled(reader: &impl Reader, title: String, page: &'static str, body: T) -> Page<T> {
        let lang = reader.lang();
        let (user, csrf, is_admin) = match reader.session() {
            Some(session) => (
                Some(UserView {
                    name: session.user.name.clone(),
                    role: session.user.role.as_str(),
                }),
                session.csrf_token.clone(),
                session.user.role.can_admin(),
            ),
            None => (None, String::new(), false),
        };
        Page {
            lang: lang.code(),
            languages: other_languages(lang),
            title,
            page,
            user,
            csrf,
            is_admin,
            nav_inbox: false,
            nav_trolls: false,
            nav_escalated: false,
            nav_monitoring: false,
            body,
        }
    }

    /// A page for someone who is not signed in (the sign-in page, public pages).
    pub fn anonymous(
        lang: Lang,
        title: String,
        page: &'static str,
        csrf: String,
        body: T,
    ) -> Page<T> {
        Page {
            lang: lang.code(),
            languages: other_languages(lang),
            title,
            page,
            user: None,
            csrf,
            is_admin: false,
            nav_inbox: false,
            nav_trolls: false,
            nav_escalated: false,
            nav_monitoring: false,
            body,
        }
    }
}

/// Every language but `lang`, each named in itself.
fn other_languages(lang: Lang) -> Vec<LanguageChoice> {
    catalog()
        .languages()
        .filter(|other| *other != lang)
        .map(|other| LanguageChoice {
            code: other.code(),
            name: text(other, "language-name"),
        })
        .collect()
}

/// Renders a template with a view; a failure is a bug, shown as a 500 and logged.
pub fn render<T: Serialize>(
    state: &AppState,
    name: &str,
    view: &T,
) -> Result<Html<String>, RenderFailure> {
    state
        .templates()
        .render(name, view)
        .map(Html)
        .map_err(|err| RenderFailure(format!("rendering {name}: {err}")))
}

/// "3 h 12 min", "45 min", "2 d 3 h".
pub fn human_duration(millis: i64) -> String {
    let minutes = (millis.max(0) / 60_000) as u64;
    let (days, hours, mins) = (minutes / 1440, (minutes % 1440) / 60, minutes % 60);
    if days > 0 {
        format!("{days} d {hours} h")
    } else if hours > 0 {
        format!("{hours} h {mins} min")
    } else {
        format!("{mins} min")
    }
}

/// A time for people: `2026-11-23 17:05 UTC`.
pub fn when(at: Option<Timestamp>) -> Option<String> {
    at.map(|at| format!("{} UTC", minute(at)))
}

/// A time to the minute: `2026-11-23 17:05`.
pub fn minute(at: Timestamp) -> String {
    at.to_rfc3339().replace('T', " ").chars().take(16).collect()
}

/// How a contact is named: their name, else their handle, else — while the platform has not
/// told buzon their name — a readable label such as "Messenger user ·4f2a" (`platform` is
/// one of [`platform_of_conversation`] or [`platform_of_channel`]).
pub fn display_name(contact: &Contact, lang: Lang, platform: &str) -> String {
    if let Some(name) = contact.name.clone().or(contact.handle.clone()) {
        return name;
    }
    let id = contact.platform_id.as_str();
    let tail: String = id
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    crate::i18n::text_with(
        lang,
        "contact-unnamed",
        &[
            (
                "platform",
                text(lang, &format!("platform-{platform}")).into(),
            ),
            ("tail", tail.into()),
        ],
    )
}

/// The platform a conversation's people are named after.
pub fn platform_of_conversation(kind: ConversationKind) -> &'static str {
    match kind {
        ConversationKind::Comment
        | ConversationKind::PageMention
        | ConversationKind::PageReview => "facebook",
        ConversationKind::Messenger => "messenger",
        ConversationKind::Whatsapp => "whatsapp",
        ConversationKind::XMention | ConversationKind::XDm => "x",
    }
}

/// The platform a channel's people are named after.
pub fn platform_of_channel(kind: ChannelKind) -> &'static str {
    match kind {
        ChannelKind::Facebook => "facebook",
        ChannelKind::Whatsapp => "whatsapp",
        ChannelKind::X => "x",
    }
}

/// Percent-encodes a query value.
pub fn url_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}
