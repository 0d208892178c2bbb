//! Templates: handlebars in strict mode, embedded in the binary, every value HTML-escaped.

use crate::i18n::{self, Lang};
use handlebars::{
    Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderErrorReason,
};
use serde_json::Value;

const TEMPLATES: &[(&str, &str)] = &[
    ("layout", include_str!("../../../templates/layout.hbs")),
    ("login", include_str!("../../../templates/login.hbs")),
    ("error", include_str!("../../../templates/error.hbs")),
    ("inbox", include_str!("../../../templates/inbox.hbs")),
    ("conversation", include_str!("../../../templates/conversation.hbs")),
    ("conversation_row", include_str!("../../../templates/partials/conversation_row.hbs")),
    ("thread", include_str!("../../../templates/partials/thread.hbs")),
    (
        "inbox_rows",
        "{{#each rows}}{{> conversation_row}}{{else}}<li class=\"empty\">{{t \"inbox.empty\"}}</li>{{/each}}",
    ),
];

/// The embedded stylesheet.
pub const APP_CSS: &str = include_str!("../../../static/app.css");
/// The embedded script.
pub const APP_JS: &str = include_str!("../../../static/app.js");

/// The template registry.
pub struct Templates {
    registry: Handlebars<'static>,
}

impl Templates {
    /// Registers every template; a template that does not compile is a bug caught by tests.
    pub fn new() -> Templates {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        let all = TEMPLATES
            .iter()
            .chain(crate::admin::TEMPLATES)
            .chain(crate::reports::TEMPLATES);
        for (name, source) in all {
            registry
                .register_template_string(name, *source)
                .unwrap_or_else(|err| panic!("template {name} compiles: {err}"));
        }
        registry.register_helper("t", Box::new(translate));
        Templates { registry }
    }

    /// Renders `name` with `data` (which must carry `lang`).
    pub fn render(&self, name: &str, data: &Value) -> Result<String, handlebars::RenderError> {
        self.registry.render(name, data)
    }
}

impl Default for Templates {
    fn default() -> Templates {
        Templates::new()
    }
}

/// `{{t "key"}}`: the text of `key` in the page's language (`@root.lang`).
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
    let lang = match context.data().get("lang").and_then(Value::as_str) {
        Some("es") => Lang::Es,
        _ => Lang::En,
    };
    let text = i18n::text(lang, key);
    if text == "??" {
        return Err(RenderErrorReason::Other(format!("no text for {key}")).into());
    }
    out.write(&handlebars::html_escape(text))?;
    Ok(())
}
