//! The OpenAPI document. Routes register their paths through utoipa-actix-web; this
//! module adds what is common to all of them: security schemes and error responses.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{
    ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Scopes, SecurityScheme,
};
use utoipa::openapi::{ContentBuilder, OpenApi as Doc, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::error::{Problem, PROBLEM_JSON};

mod constraints;
mod operation_ids;
pub use constraints::{IDEMPOTENCY_KEY_PATTERN, SHARE_CODE_PATTERN};
use operation_ids::operation_id;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "certverify",
        description = "Unified certificate query and verification platform for Shanghai's List of Recognized Overseas Occupational Qualifications (3.0).",
        license(name = "Apache-2.0")
    ),
    components(schemas(Problem, crate::error::FieldError)),
    modifiers(&SecuritySchemes),
    tags(
        (name = "operations", description = "Health, readiness and metrics"),
        (name = "auth", description = "Holder login and OAuth2 client credentials"),
        (name = "holders", description = "Certificate holder accounts"),
        (name = "keys", description = "The platform's public keys"),
        (name = "registry", description = "The list of recognized overseas qualifications, its versions and issuing bodies"),
        (name = "issuers", description = "The issuing-body protocol's callbacks"),
        (name = "requests", description = "Holders' verification requests"),
        (name = "admin", description = "The bureau's administration"),
    )
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, doc: &mut Doc) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "holder_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        let scopes = Scopes::from_iter([
            (
                "admin",
                "Keep the registry, register agencies, decide reviews",
            ),
            ("records:read", "Read records by id or share code"),
            ("records:search", "Search records by identity document"),
            ("eligibility:check", "Ask whether a record opens a service"),
        ]);
        components.add_security_scheme(
            "client_credentials",
            SecurityScheme::OAuth2(OAuth2::new([Flow::ClientCredentials(
                ClientCredentials::new("/v1/oauth/token", scopes),
            )])),
        );
    }
}

/// Adds the problem responses every operation can give, from what the operation is:
/// secured operations can answer 401 and 403, those with a body 400, 413, 415 and 422,
/// those with path parameters 404, and all of them 500 and 503 (a storage failure, with
/// `Retry-After`). Operations that document a 429 are rate-limited: their answers carry
/// the `RateLimit-Policy` and `RateLimit` headers, and the 429 also `Retry-After`.
pub struct ErrorResponses;

impl Modify for ErrorResponses {
    fn modify(&self, doc: &mut Doc) {
        refer_page_items(doc);
        constraints::refine_components(doc);
        for (path, item) in doc.paths.paths.iter_mut() {
            // The process's own liveness and metrics never wait on the storage.
            let uses_storage = !matches!(path.as_str(), "/healthz" | "/metrics");
            for (method, op) in [
                ("get", &mut item.get),
                ("post", &mut item.post),
                ("put", &mut item.put),
                ("patch", &mut item.patch),
                ("delete", &mut item.delete),
            ] {
                let Some(op) = op else { continue };
                if let Some(id) = operation_id(method, path) {
                    op.operation_id = Some(id.to_owned());
                }
                constraints::constrain_parameters(path, op);
                add_error_responses(op, uses_storage);
                constraints::document_headers(path, method, op);
            }
        }
    }
}

fn add_error_responses(op: &mut Operation, uses_storage: bool) {
    let secured = op
        .security
        .as_ref()
        .is_some_and(|reqs| reqs.iter().any(|r| r != &Default::default()));
    if !secured {
        // `security: [{}]` reads as "an optional, empty requirement" to generators, which
        // then demand an authenticated client; a public operation has none.
        op.security = None;
    }
    for (status, response) in op.responses.responses.iter_mut() {
        if let RefOr::T(response) = response {
            if response.description.is_empty() {
                response.description = default_description(status);
            }
        }
    }
    let has_query = op.parameters.as_ref().is_some_and(|ps| {
        ps.iter()
            .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Query))
    });
    let has_body = op.request_body.is_some();
    let has_path_params = op.parameters.as_ref().is_some_and(|ps| {
        ps.iter()
            .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Path))
    });
    let mut add = |status: &str, description: &str| {
        op.responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| problem_response(description));
    };
    if has_query {
        add("400", "A query parameter is malformed or out of range");
    }
    if has_body {
        add("400", "Malformed request");
        add("413", "Body over the size limit");
        add("415", "Unsupported content type");
        add("422", "Validation failed; `errors` lists each field");
    }
    if secured {
        add("401", "Missing, invalid or expired access token");
        add("403", "The token's principal or scopes do not allow this");
    }
    if has_path_params {
        add("404", "No such resource");
    }
    add("500", "Internal error");
    if uses_storage {
        add(
            "503",
            "The storage is unavailable (`storage_unavailable`); retry after `Retry-After`",
        );
    }
}

/// utoipa inlines the item type of a generic `Page<T>`; each `Page_T` refers to `T`
/// instead, so generated clients share one model per item type.
fn refer_page_items(doc: &mut Doc) {
    use utoipa::openapi::schema::{ArrayItems, Schema};
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    let known: Vec<String> = components.schemas.keys().cloned().collect();
    for (name, schema) in components.schemas.iter_mut() {
        let Some(item) = name.strip_prefix("Page_") else {
            continue;
        };
        if !known.iter().any(|k| k == item) {
            continue;
        }
        let RefOr::T(Schema::Object(page)) = schema else {
            continue;
        };
        if let Some(RefOr::T(Schema::Array(items))) = page.properties.get_mut("items") {
            items.items = ArrayItems::RefOrSchema(Box::new(RefOr::Ref(
                utoipa::openapi::Ref::from_schema_name(item),
            )));
        }
    }
}

/// The description of a response the route left without one (OpenAPI requires it).
fn default_description(status: &str) -> String {
    let reason = status
        .parse::<u16>()
        .ok()
        .and_then(|code| actix_web::http::StatusCode::from_u16(code).ok())
        .and_then(|code| code.canonical_reason());
    reason.unwrap_or("Response").to_owned()
}

fn problem_response(description: &str) -> RefOr<Response> {
    let content = ContentBuilder::new()
        .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
            "Problem",
        ))))
        .build();
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(PROBLEM_JSON, content)
            .build(),
    )
}
