//! The JSON API's routes and their OpenAPI 3.1 document, made from the same declarations:
//! each handler carries its `#[utoipa::path]` (method, path, parameters, body, answers, the
//! role it needs), and [`api_routes`] registers exactly the handlers it documents, so a route
//! cannot exist without its documentation. The errors every route may answer (the shape of
//! ../shared/INTERFACE.md) are added to every operation here, in one place. The document is
//! served at `/api/v1/openapi.json`; `/api/docs` is a reference page made from it, served by
//! buzon itself (no CDN, no script).

use crate::i18n::{text, Lang};
use crate::reports;
use crate::view::Page;
use crate::AppState;
use crate::{api, api_admin, api_listening, api_service, api_team, api_working};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{Html, IntoResponse, Response};
use axum::Router;
use serde::Serialize;
use std::sync::OnceLock;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, RefOr, ResponseBuilder};
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "buzon API",
        description = "The JSON API of buzon, a self-hosted social inbox. Every route but this \
document takes `Authorization: Bearer <token>` (tokens: `buzon token create`, or \
`POST /api/v1/tokens`); the role each operation needs is the name in its security requirement \
(viewer < agent < admin: each role may do what the roles below it may). Errors answer \
`{\"error\": {\"code\": …, \"message\": …}}` with a stable `code`. Lists that may be long are \
paged by a cursor: pass the `next_cursor` of a page as `cursor` to get the next one. Times are \
RFC 3339 strings, or integers of milliseconds since the Unix epoch where a field says so.",
        license(name = "AGPL-3.0-or-later")
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    tags(
        (name = "conversations", description = "The queue: list, read, reply, label, status, moderation"),
        (name = "team", description = "Notes, assignment, person links; users and tokens (admins)"),
        (name = "canned replies", description = "Texts written ahead, with placeholders"),
        (name = "escalation", description = "Escalating to supervisors, by hand and by rules"),
        (name = "listening", description = "Saved X searches, and promoting or dismissing what listening found (the monitoring view)"),
        (name = "channels", description = "Connected accounts, their health and reply settings"),
        (name = "service", description = "Business hours and out-of-hours auto-replies"),
        (name = "alerts", description = "Urgent alerts and the on-call rota"),
        (name = "incidents", description = "Incidents and bulk replies"),
        (name = "events", description = "Inbound deliveries that failed: the event log and replay"),
        (name = "events out", description = "Outgoing webhooks: buzon's events, signed, to your systems"),
        (name = "reports", description = "Response-time figures")
    )
)]
struct ApiDoc;

/// An error answer: `{"error": {"code", "message", …}}`.
#[derive(Serialize, ToSchema)]
pub(crate) struct ErrorBody {
    error: ErrorDetail,
}

/// What went wrong.
#[derive(Serialize, ToSchema)]
pub(crate) struct ErrorDetail {
    /// Stable, for programs: `bad_request`, `unauthorized`, `forbidden`, `not_found`,
    /// `conflict`, `window_closed`, `unknown_placeholder`, `throttled`, `request_timeout`…
    code: String,
    /// For people, in English.
    message: String,
    /// With `window_closed`: the approved templates that may be sent instead.
    #[schema(value_type = Option<Vec<Object>>)]
    templates: Option<Vec<serde_json::Value>>,
}

/// The errors any API operation may answer, with what each means.
const ERRORS: &[(&str, &str)] = &[
    (
        "400",
        "The request cannot be read or is invalid; `message` says why",
    ),
    ("401", "No token, or a revoked or unknown one"),
    ("403", "The token's role may not do this"),
    ("404", "No such thing"),
    ("408", "The request took too long (body included)"),
    (
        "409",
        "It conflicts with the current state (a closed reply window, a duplicate)",
    ),
    ("413", "The body is too large"),
    ("415", "The body is not `application/json`"),
    (
        "422",
        "Well-formed but unprocessable (an unknown field or placeholder, a wrong type)",
    ),
    ("429", "Too many requests"),
    ("503", "A part buzon needs is unavailable (the database)"),
];

/// The API's router and its document.
fn api_routes() -> (Router<AppState>, Document) {
    let (router, mut document) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(api::list_conversations))
        .routes(routes!(api::show_conversation))
        .routes(routes!(api::post_reply))
        .routes(routes!(api::post_conversation_tags))
        .routes(routes!(api::post_status))
        .routes(routes!(api::message_action))
        .routes(routes!(api::post_contact_tags))
        .routes(routes!(api::list_channels, api_admin::connect_channel))
        .routes(routes!(api_admin::replace_token))
        .routes(routes!(api_admin::test_channel))
        .routes(routes!(api_admin::put_paused))
        .routes(routes!(api_admin::put_published))
        .routes(routes!(api_admin::put_auto_hide))
        .routes(routes!(api_admin::put_password))
        .routes(routes!(api_admin::audit_log))
        .routes(routes!(api_admin::alert_deliveries))
        .routes(routes!(api_admin::retry_alert_delivery))
        .routes(routes!(api_admin::list_templates, api_admin::add_template))
        .routes(routes!(api_admin::delete_template))
        .routes(routes!(api::channel_health))
        .routes(routes!(api::list_failed_events))
        .routes(routes!(api::replay_event))
        .routes(routes!(api::dismiss_event))
        .routes(routes!(api_team::list_notes, api_team::post_note))
        .routes(routes!(api_team::post_assign))
        .routes(routes!(api_team::post_link))
        .routes(routes!(api_team::list_users, api_team::create_user))
        .routes(routes!(api_team::update_user))
        .routes(routes!(api_team::list_tokens, api_team::create_token))
        .routes(routes!(api_team::revoke_token))
        .routes(routes!(api_working::post_escalate))
        .routes(routes!(
            api_listening::list_searches,
            api_listening::create_search
        ))
        .routes(routes!(
            api_listening::update_search,
            api_listening::delete_search
        ))
        .routes(routes!(api_listening::post_promote))
        .routes(routes!(api_listening::post_dismiss))
        .routes(routes!(
            api_working::list_canned,
            api_working::create_canned
        ))
        .routes(routes!(
            api_working::update_canned,
            api_working::delete_canned
        ))
        .routes(routes!(
            api_working::list_escalation_rules,
            api_working::create_escalation_rule
        ))
        .routes(routes!(api_working::delete_escalation_rule))
        .routes(routes!(api_working::put_supervisor))
        .routes(routes!(
            api_working::get_signature,
            api_working::put_signature
        ))
        .routes(routes!(
            api_working::get_closing_question,
            api_working::put_closing_question
        ))
        .routes(routes!(
            api_working::list_webhooks,
            api_working::create_webhook
        ))
        .routes(routes!(api_working::delete_webhook))
        .routes(routes!(api_working::test_webhook))
        .routes(routes!(api_working::webhook_deliveries))
        .routes(routes!(api_working::retry_webhook_delivery))
        .routes(routes!(
            api_service::get_business_hours,
            api_service::put_business_hours
        ))
        .routes(routes!(
            api_service::get_channel_business_hours,
            api_service::put_channel_business_hours
        ))
        .routes(routes!(
            api_service::get_auto_reply,
            api_service::put_auto_reply
        ))
        .routes(routes!(
            api_service::list_alert_rules,
            api_service::post_alert_rule
        ))
        .routes(routes!(
            api_service::put_alert_rule,
            api_service::delete_alert_rule
        ))
        .routes(routes!(api_service::get_on_call, api_service::put_on_call))
        .routes(routes!(
            api_service::list_incidents,
            api_service::post_incident
        ))
        .routes(routes!(api_service::end_incident))
        .routes(routes!(api_service::bulk_reply))
        .routes(routes!(reports::api::response_times))
        .split_for_parts();
    finish(&mut document);
    (router, document)
}

/// The bearer scheme, the common errors on every operation, and the document route itself.
fn finish(document: &mut Document) {
    let components = document.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "token",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "An API token: `Authorization: Bearer <token>`. The requirement's list \
                     names the least role the operation needs.",
                ))
                .build(),
        ),
    );
    for item in document.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            add_errors(operation);
            operation.summary = operation
                .summary
                .take()
                .and_then(|summary| without_route(&summary));
        }
    }
}

/// A handler's doc comment names its route first (`` `POST /api/v1/…`: does this``), which the
/// document says already: the summary is what follows, when anything does.
fn without_route(summary: &str) -> Option<String> {
    let rest = match summary.strip_prefix('`') {
        Some(quoted) => match quoted.find('`') {
            Some(end) => &quoted[end + 1..],
            None => summary,
        },
        None => summary,
    };
    // Past the route, its body or query in backticks and the punctuation that ends them.
    let mut rest = rest.trim_start();
    while let Some(quoted) = rest.strip_prefix('`') {
        match quoted.find('`') {
            Some(end) => rest = quoted[end + 1..].trim_start(),
            None => break,
        }
    }
    let rest = rest.trim_start_matches([':', '.', ',', ' ', '\n']).trim();
    let mut chars = rest.chars();
    let first = chars.next()?;
    Some(first.to_uppercase().chain(chars).collect())
}

fn add_errors(operation: &mut Operation) {
    for (status, description) in ERRORS {
        operation
            .responses
            .responses
            .entry((*status).to_owned())
            .or_insert_with(|| {
                RefOr::T(
                    ResponseBuilder::new()
                        .description(*description)
                        .content(
                            "application/json",
                            ContentBuilder::new()
                                .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                                    "ErrorBody",
                                ))))
                                .build(),
                        )
                        .build(),
                )
            });
    }
}

/// The API's routes, and the document kept for its route.
pub(crate) fn routes() -> Router<AppState> {
    let (router, document) = api_routes();
    DOCUMENT.get_or_init(|| document_json(&document));
    router
        .route("/api/v1/openapi.json", axum::routing::get(serve_document))
        .route("/api/docs", axum::routing::get(show_reference))
}

static DOCUMENT: OnceLock<String> = OnceLock::new();

fn document_json(document: &Document) -> String {
    document
        .to_pretty_json()
        .expect("the OpenAPI document serializes")
}

/// The document, as JSON.
pub fn document() -> String {
    DOCUMENT
        .get_or_init(|| document_json(&api_routes().1))
        .clone()
}

/// `GET /api/v1/openapi.json`: anyone.
async fn serve_document() -> Response {
    let mut response = document().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The reference page's data: one section per tag, one entry per operation.
#[derive(Serialize)]
struct ReferenceView {
    /// The errors every operation may answer, listed once.
    errors: Vec<ResponseView>,
    sections: Vec<SectionView>,
    schemas: Vec<SchemaView>,
}

#[derive(Serialize)]
struct SectionView {
    name: String,
    description: String,
    operations: Vec<OperationView>,
}

#[derive(Serialize)]
struct OperationView {
    anchor: String,
    method: String,
    path: String,
    summary: String,
    description: String,
    role: String,
    parameters: Vec<ParameterView>,
    body: Option<String>,
    responses: Vec<ResponseView>,
}

#[derive(Serialize)]
struct ParameterView {
    name: String,
    location: String,
    required: bool,
    description: String,
}

#[derive(Serialize)]
struct ResponseView {
    status: String,
    description: String,
    schema: Option<String>,
}

#[derive(Serialize)]
struct SchemaView {
    name: String,
    json: String,
}

/// `GET /api/docs`: the reference, read from the document (anyone).
async fn show_reference(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let document: serde_json::Value =
        serde_json::from_str(&document()).expect("the document is JSON");
    let view = Page::anonymous(
        lang,
        text(lang, "apidocs-title"),
        "apidocs",
        String::new(),
        reference(&document),
    );
    match state.templates().render("api_reference", &view) {
        Ok(html) => Html(html).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "rendering the API reference");
            crate::http::WebError::internal("rendering the API reference").into_response()
        }
    }
}

fn reference(document: &serde_json::Value) -> ReferenceView {
    let as_text = |value: &serde_json::Value| value.as_str().unwrap_or_default().to_owned();
    let schema_name = |content: &serde_json::Value| -> Option<String> {
        let schema = content.pointer("/content/application~1json/schema")?;
        Some(describe_schema(schema))
    };
    let mut sections: Vec<SectionView> = document["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|tag| SectionView {
            name: as_text(&tag["name"]),
            description: as_text(&tag["description"]),
            operations: Vec::new(),
        })
        .collect();
    let paths = document["paths"].as_object().cloned().unwrap_or_default();
    for (path, item) in &paths {
        for method in ["get", "post", "put", "delete", "patch"] {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let tag = operation["tags"][0].as_str().unwrap_or_default();
            let view = OperationView {
                anchor: as_text(&operation["operationId"]),
                method: method.to_uppercase(),
                path: path.clone(),
                summary: as_text(&operation["summary"]),
                description: as_text(&operation["description"]),
                role: operation["security"][0]["token"][0]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                parameters: operation["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|parameter| ParameterView {
                        name: as_text(&parameter["name"]),
                        location: as_text(&parameter["in"]),
                        required: parameter["required"].as_bool().unwrap_or(false),
                        description: as_text(&parameter["description"]),
                    })
                    .collect(),
                body: operation.get("requestBody").and_then(&schema_name),
                responses: operation["responses"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(status, response)| !is_common_error(status, response))
                    .map(|(status, response)| ResponseView {
                        status: status.clone(),
                        description: as_text(&response["description"]),
                        schema: schema_name(response),
                    })
                    .collect(),
            };
            match sections.iter_mut().find(|section| section.name == tag) {
                Some(section) => section.operations.push(view),
                None => sections.push(SectionView {
                    name: tag.to_owned(),
                    description: String::new(),
                    operations: vec![view],
                }),
            }
        }
    }
    let schemas = document["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, schema)| SchemaView {
            name: name.clone(),
            json: serde_json::to_string_pretty(schema).unwrap_or_default(),
        })
        .collect();
    let errors = ERRORS
        .iter()
        .map(|(status, description)| ResponseView {
            status: (*status).to_owned(),
            description: (*description).to_owned(),
            schema: Some("ErrorBody".to_owned()),
        })
        .collect();
    ReferenceView {
        errors,
        sections,
        schemas,
    }
}

/// Whether an operation's answer is one of the [`ERRORS`] every operation may give, as given.
fn is_common_error(status: &str, response: &serde_json::Value) -> bool {
    ERRORS.iter().any(|(common, description)| {
        *common == status && response["description"].as_str() == Some(description)
    })
}

/// `Name` for a reference, `[Name]` for a list of them, else the schema's type.
fn describe_schema(schema: &serde_json::Value) -> String {
    if let Some(name) = schema["$ref"].as_str() {
        return name.rsplit('/').next().unwrap_or(name).to_owned();
    }
    if schema["type"] == "array" {
        return format!("[{}]", describe_schema(&schema["items"]));
    }
    if let Some(choices) = schema["oneOf"].as_array() {
        return choices
            .iter()
            .map(describe_schema)
            .collect::<Vec<_>>()
            .join(" | ");
    }
    match &schema["type"] {
        serde_json::Value::String(kind) => kind.clone(),
        serde_json::Value::Array(kinds) => kinds
            .iter()
            .filter_map(|kind| kind.as_str())
            .collect::<Vec<_>>()
            .join(" | "),
        _ => "object".to_owned(),
    }
}
