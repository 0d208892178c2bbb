//! Templates: handlebars in strict mode, embedded in the binary, every value HTML-escaped.

use crate::i18n::{self, catalog, Lang};
use fluent_bundle::FluentValue;
use handlebars::{
    Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderErrorReason,
};
use serde_json::Value;

/// The templates of the pages every feature shares (layout, sign-in, errors, the inbox).
pub const TEMPLATES: &[(&str, &str)] = &[
    ("layout", include_str!("../../templates/layout.hbs")),
    ("login", include_str!("../../templates/login.hbs")),
    ("error", include_str!("../../templates/error.hbs")),
    ("inbox", include_str!("../../templates/inbox.hbs")),
    ("incidents", include_str!("../../templates/incidents.hbs")),
    ("canned", include_str!("../../templates/canned.hbs")),
    ("api_reference", include_str!("../../templates/api_reference.hbs")),
    ("banners", include_str!("../../templates/partials/banners.hbs")),
    ("conversation", include_str!("../../templates/conversation.hbs")),
    ("conversation_row", include_str!("../../templates/partials/conversation_row.hbs")),
    ("thread", include_str!("../../templates/partials/thread.hbs")),
    (
        "inbox_rows",
        "{{#each rows}}{{> conversation_row}}{{else}}<li class=\"empty\">{{t \"inbox-empty\"}}</li>{{/each}}",
    ),
];

/// The embedded stylesheet.
pub const APP_CSS: &str = include_str!("../../static/app.css");
/// The embedded script.
pub const APP_JS: &str = include_str!("../../static/app.js");

/// The template registry.
pub struct Templates {
    registry: Handlebars<'static>,
}

impl Templates {
    /// Registers every template of every set; a template that does not compile is a bug
    /// caught by tests.
    pub fn new(sets: &[&[(&'static str, &'static str)]]) -> Templates {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        for (name, source) in sets.iter().flat_map(|set| set.iter()) {
            registry
                .register_template_string(name, *source)
                .unwrap_or_else(|err| panic!("template {name} compiles: {err}"));
        }
        registry.register_helper("t", Box::new(translate));
        Templates { registry }
    }

    /// Renders `name` with `data` (a view struct that carries `lang`).
    pub fn render<T: serde::Serialize>(
        &self,
        name: &str,
        data: &T,
    ) -> Result<String, handlebars::RenderError> {
        self.registry.render(name, data)
    }
}

/// `{{t "key"}}` or `{{t "key" name=value}}`: the text of `key` in the page's language
/// (`@root.lang`), with named arguments; escaped like every value.
fn translate(
    helper: &Helper<'_>,
    _registry: &Handlebars<'_>,
    context: &Context,
    _render: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let key = helper
        .param(0)
        .and_then(|param| param.value().as_str())
        .ok_or(RenderErrorReason::ParamNotFoundForIndex("t", 0))?;
    let lang = context
        .data()
        .get("lang")
        .and_then(Value::as_str)
        .and_then(|code| catalog().find(code))
        .unwrap_or_else(Lang::english);
    let args: Vec<(&str, FluentValue<'_>)> = helper
        .hash()
        .iter()
        .map(|(name, value)| {
            let value = match value.value() {
                Value::Number(number) => FluentValue::from(number.as_f64().unwrap_or_default()),
                Value::String(text) => FluentValue::from(text.clone()),
                other => FluentValue::from(other.to_string()),
            };
            (*name, value)
        })
        .collect();
    if catalog().format(lang, key, None).is_none() {
        return Err(RenderErrorReason::Other(format!("no text for {key}")).into());
    }
    let text = i18n::text_with(lang, key, &args);
    out.write(&handlebars::html_escape(&text))?;
    Ok(())
}
