//! The OpenAPI document. Routes register their paths through utoipa-actix-web; this
//! module adds what is common to all of them: security schemes and error responses.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{
    ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Scopes, SecurityScheme,
};
use utoipa::openapi::{ContentBuilder, OpenApi as Doc, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::error::{Problem, PROBLEM_JSON};

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
        for (path, item) in doc.paths.paths.iter_mut() {
            // The process's own liveness and metrics never wait on the storage.
            let uses_storage = !matches!(path.as_str(), "/healthz" | "/metrics");
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                add_error_responses(op, uses_storage);
            }
        }
    }
}

fn add_error_responses(op: &mut Operation, uses_storage: bool) {
    let secured = op
        .security
        .as_ref()
        .is_some_and(|reqs| reqs.iter().any(|r| r != &Default::default()));
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
    if let Some(RefOr::T(unavailable)) = op.responses.responses.get_mut("503") {
        unavailable.headers.insert(
            "Retry-After".into(),
            header("Seconds to wait before retrying"),
        );
    }
    if op.responses.responses.contains_key("429") {
        for (status, response) in op.responses.responses.iter_mut() {
            let RefOr::T(response) = response else {
                continue;
            };
            if status == "429" {
                response.headers.insert(
                    "Retry-After".into(),
                    header("Seconds until the longest wait of the limits hit is over"),
                );
            }
            response.headers.insert(
                "RateLimit-Policy".into(),
                header("The limits of this route (draft-ietf-httpapi-ratelimit-headers), e.g. `\"account\";q=10;w=60, \"address\";q=50;w=60`"),
            );
            response.headers.insert(
                "RateLimit".into(),
                header("What is left of each limit and when it is whole again, e.g. `\"account\";r=9;t=6, \"address\";r=49;t=2`"),
            );
        }
    }
}

fn header(description: &str) -> RefOr<utoipa::openapi::Header> {
    let mut header = utoipa::openapi::Header::new(
        utoipa::openapi::ObjectBuilder::new().schema_type(utoipa::openapi::schema::Type::String),
    );
    header.description = Some(description.to_owned());
    RefOr::T(header)
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
