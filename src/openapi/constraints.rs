//! What the server checks of parameters, written into the document where the parameter
//! types are plain strings and integers: the same limits the handlers enforce (a test
//! against the real server, schemathesis in CI, keeps them honest).

use utoipa::openapi::path::{Operation, Parameter, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::RefOr;

/// Text a person typed, as `registry::input` and the holder checks take it: at least one
/// visible character, no control characters.
pub const TEXT_PATTERN: &str =
    r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$";
/// An address as `holders::types::is_email` takes it.
pub const EMAIL_PATTERN: &str = r"^[^@\s\x00-\x1F\x7F-\x9F]{1,64}@[^@\s.\x00-\x1F\x7F-\x9F][^@\s\x00-\x1F\x7F-\x9F]*\.[^@\s\x00-\x1F\x7F-\x9F]*[^@\s.\x00-\x1F\x7F-\x9F]$";

/// A share code as the holder writes it (Crockford base32, 16 symbols, hyphens optional;
/// the aliases O, I and L are read as 0, 1, 1). The server also takes spaces.
pub const SHARE_CODE_PATTERN: &str =
    "^[0-9A-TV-Za-tv-z]{4}-?[0-9A-TV-Za-tv-z]{4}-?[0-9A-TV-Za-tv-z]{4}-?[0-9A-TV-Za-tv-z]{4}$";
/// draft-ietf-httpapi-idempotency-key-header, as the server takes it: 1 to 255 visible
/// ASCII characters.
pub const IDEMPOTENCY_KEY_PATTERN: &str = "^[!-~]{1,255}$";

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(SchemaType::Type(Type::String))
}

fn country_codes() -> Vec<String> {
    isocountry::CountryCode::iter()
        .map(|c| c.alpha2().to_owned())
        .collect()
}

/// The schema of a parameter the server constrains, by where it is and its name.
fn constrained(path: &str, param: &Parameter) -> Option<RefOr<Schema>> {
    let schema = match (&param.parameter_in, param.name.as_str()) {
        // The registry's cursor is the id of the page's last qualification.
        // The registry's cursor is the id of the page's last qualification (or empty).
        (ParameterIn::Query, "cursor") if path == "/v1/qualifications" => string().pattern(Some(
            "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$",
        )),
        (ParameterIn::Query, "limit") => ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::Integer))
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Int64,
            )))
            .minimum(Some(1))
            .maximum(Some(100)),
        // An empty value counts as not given (`page::empty_as_none`), as forms send it.
        (ParameterIn::Query, "category") => string().enum_values(Some(["A", "B", "C", "D", ""])),
        (ParameterIn::Query, "country") => {
            let mut codes = country_codes();
            codes.push(String::new());
            string().enum_values(Some(codes))
        }
        (ParameterIn::Query, "status") => {
            string().enum_values(Some(["listed", "removed", "all", ""]))
        }
        (ParameterIn::Path, "code") => string().pattern(Some(SHARE_CODE_PATTERN)),
        (ParameterIn::Header, "Idempotency-Key") => string().pattern(Some(IDEMPOTENCY_KEY_PATTERN)),
        _ => return None,
    };
    Some(RefOr::T(Schema::Object(schema.build())))
}

pub fn constrain_parameters(path: &str, op: &mut Operation) {
    for param in op.parameters.iter_mut().flatten() {
        let RefOr::T(param) = param else { continue };
        if let Some(schema) = constrained(path, param) {
            param.schema = Some(schema);
        }
    }
}

/// The public reads answered through `cache::json` (and the status lists): a strong ETag,
/// `Cache-Control`, and 304 to a matching `If-None-Match`.
const CACHED_READS: &[&str] = &[
    "/v1/qualifications",
    "/v1/qualifications/{id}",
    "/v1/issuing-bodies",
    "/v1/issuing-bodies/{id}",
    "/v1/list-versions",
    "/v1/policy/services",
    "/v1/status-lists/{id}",
];

fn header(description: &str) -> RefOr<utoipa::openapi::header::Header> {
    RefOr::T(
        utoipa::openapi::header::HeaderBuilder::new()
            .schema(Some(string().build()))
            .description(Some(description))
            .build(),
    )
}

/// The response headers clients use, on the operations that send them: `Retry-After` on
/// 503 and 429, the rate-limit headers on rate-limited operations (those that document a
/// 429), caching headers on cached reads, and the rest below.
pub fn document_headers(path: &str, method: &str, op: &mut Operation) {
    use utoipa::openapi::path::ParameterBuilder;
    use utoipa::openapi::{Required, ResponseBuilder};
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
    let cached = method == "get" && CACHED_READS.contains(&path);
    if cached {
        op.parameters.get_or_insert_with(Vec::new).push(RefOr::T(
            ParameterBuilder::new()
                .name("If-None-Match")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "An ETag from an earlier answer: 304 while it still holds",
                ))
                .schema(Some(string()))
                .build(),
        ));
        op.responses
            .responses
            .entry("304".to_owned())
            .or_insert_with(|| {
                RefOr::T(ResponseBuilder::new().description("Not modified").build())
            });
    }
    for (status, response) in op.responses.responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        response.headers.insert(
            "X-Request-Id".to_owned(),
            header("This request's id, as the service logged it"),
        );
        if cached && (status == "200" || status == "304") {
            response
                .headers
                .insert("ETag".to_owned(), header("A strong validator of the body"));
            response.headers.insert(
                "Cache-Control".to_owned(),
                header("`public, max-age=…`: how long the answer may be reused"),
            );
        }
        if path == "/v1/verification-requests" && method == "post" && status.starts_with('2') {
            response.headers.insert(
                "Idempotent-Replayed".to_owned(),
                header("`true` when this is the stored answer to an earlier request with the same Idempotency-Key"),
            );
        }
        if path == "/v1/holders" && method == "post" && status == "201" {
            response
                .headers
                .insert("Location".to_owned(), header("The new account: `/v1/me`"));
        }
    }
}

/// Rules across the fields of one body, added to the derived schema as `allOf: [derived,
/// rule]` (utoipa derives fields one by one).
fn cross_field_rules() -> Vec<(&'static str, Schema)> {
    use utoipa::openapi::schema::OneOfBuilder;
    let null = || ObjectBuilder::new().schema_type(SchemaType::Type(Type::Null));
    let text = || ObjectBuilder::new().schema_type(SchemaType::Type(Type::String));
    let one_of = |branches: Vec<ObjectBuilder>| {
        let mut builder = OneOfBuilder::new();
        for branch in branches {
            builder = builder.item(branch.schema_type(SchemaType::Type(Type::Object)));
        }
        Schema::OneOf(builder.build())
    };
    let kind = |k: &str| text().enum_values(Some([k]));
    let countries = |codes: Vec<String>| text().enum_values(Some(codes));
    let chinese = ["CN", "HK", "MO", "TW"];
    let foreign: Vec<String> = country_codes()
        .into_iter()
        .filter(|c| !chinese.contains(&c.as_str()))
        .collect();
    let no_hukou = || {
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::Boolean))
            .enum_values(Some([false]))
    };
    let object = || ObjectBuilder::new().schema_type(SchemaType::Type(Type::Object));
    vec![
        // What `RegisterHolder::validate` checks of each field.
        (
            "RegisterHolder",
            Schema::Object(
                object()
                    .property(
                        "email",
                        text().max_length(Some(254)).pattern(Some(EMAIL_PATTERN)),
                    )
                    .property(
                        "password",
                        text().min_length(Some(12)).max_length(Some(256)),
                    )
                    .property(
                        "full_name",
                        text().max_length(Some(200)).pattern(Some(TEXT_PATTERN)),
                    )
                    .property(
                        "residence_country",
                        utoipa::openapi::Ref::from_schema_name("CountryCode"),
                    )
                    .property(
                        "date_of_birth",
                        text().pattern(Some(r"^\s*(19|20)[0-9]{2}-[0-9]{2}-[0-9]{2}\s*$")),
                    )
                    .build(),
            ),
        ),
        (
            "IdentityDocumentInput",
            Schema::Object(
                object()
                    .property("type", text().pattern(Some(r"^\s*[a-z_]{2,32}\s*$")))
                    .property(
                        "number",
                        text().pattern(Some(r"^[\s-]*([A-Za-z0-9][\s-]*){3,32}$")),
                    )
                    .build(),
            ),
        ),
        // The identity kind fits the nationality (`IdentityKind::accepts_nationality`), and
        // only mainland residents hold a Shanghai hukou.
        (
            "RegisterHolder",
            one_of(vec![
                ObjectBuilder::new()
                    .property("identity_kind", kind("mainland"))
                    .property("nationality", countries(vec!["CN".into()])),
                ObjectBuilder::new()
                    .property("identity_kind", kind("hk_mo_tw"))
                    .property("nationality", countries(chinese.map(String::from).to_vec()))
                    .property("shanghai_hukou", no_hukou()),
                ObjectBuilder::new()
                    .property("identity_kind", kind("foreign_national"))
                    .property("nationality", countries(foreign))
                    .property("shanghai_hukou", no_hukou()),
            ]),
        ),
        // Exactly one of `record_id` and `share_code` (a null counts as absent).
        (
            "EligibilityRequest",
            one_of(vec![
                ObjectBuilder::new()
                    .property("record_id", text())
                    .property("share_code", null())
                    .required("record_id"),
                ObjectBuilder::new()
                    .property("share_code", text().pattern(Some(SHARE_CODE_PATTERN)))
                    .property("record_id", null())
                    .required("share_code"),
            ]),
        ),
        // A confirmation has no outcome; a rejection may say which.
        (
            "ReviewDecision",
            one_of(vec![
                ObjectBuilder::new()
                    .property("decision", text().enum_values(Some(["confirmed"])))
                    .property("outcome", null()),
                ObjectBuilder::new().property("decision", text().enum_values(Some(["rejected"]))),
            ]),
        ),
    ]
}

/// The merge patches the admin routes take: the item's fields but those that cannot
/// change (`registry::admin_routes`), none required, nothing else allowed.
const PATCHES: &[(&str, &str, &str, &[&str])] = &[
    (
        "/v1/admin/issuing-bodies/{id}",
        "IssuingBodyInput",
        "IssuingBodyPatch",
        &["code", "public_keys"],
    ),
    (
        "/v1/admin/qualifications/{id}",
        "QualificationInput",
        "QualificationPatch",
        &["code", "status", "removal", "issuing_body"],
    ),
];

fn patch_schemas(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::schema::AdditionalProperties;
    for (path, input, patch, fixed) in PATCHES {
        let Some(components) = doc.components.as_mut() else {
            return;
        };
        let Some(RefOr::T(Schema::Object(input))) = components.schemas.get(*input) else {
            continue;
        };
        let mut object = input.clone();
        object.required.clear();
        for field in *fixed {
            object.properties.remove(*field);
        }
        object.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
        components
            .schemas
            .insert((*patch).to_owned(), RefOr::T(Schema::Object(object)));
        let op = doc
            .paths
            .paths
            .get_mut(*path)
            .and_then(|item| item.patch.as_mut());
        let Some(RefOr::T(body)) = op.and_then(|op| op.request_body.as_mut()) else {
            continue;
        };
        for content in body.content.values_mut() {
            if let RefOr::T(content) = content {
                content.schema = Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(*patch)));
            }
        }
    }
}

pub fn refine_components(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::schema::AllOfBuilder;
    patch_schemas(doc);
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    for (name, rule) in cross_field_rules() {
        let Some(schema) = components.schemas.get_mut(name) else {
            continue;
        };
        // A second rule for one schema joins the `allOf` the first one made.
        if let RefOr::T(Schema::AllOf(all)) = schema {
            all.items.push(RefOr::T(rule));
            continue;
        }
        let derived = std::mem::replace(schema, RefOr::T(Schema::default()));
        *schema = RefOr::T(Schema::AllOf(
            AllOfBuilder::new().item(derived).item(rule).build(),
        ));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_cross_field_rule_joins_its_derived_schema() {
        let doc = crate::startup::api_doc();
        let schemas = &doc.components.as_ref().unwrap().schemas;
        for (name, _) in super::cross_field_rules() {
            let json = serde_json::to_value(&schemas[name]).unwrap();
            let parts = json["allOf"].as_array().unwrap();
            assert!(parts.len() >= 2, "{name}");
            assert!(
                parts[0]["properties"].is_object(),
                "{name}: the derived schema"
            );
        }
        // utoipa takes only literals for `pattern`: the registry's text fields spell
        // TEXT_PATTERN out, and this keeps the copies equal.
        for (schema, field) in [
            ("ListVersionInput", "title"),
            ("IssuingBodyInput", "name_en"),
            ("QualificationInput", "name_en"),
        ] {
            let json = serde_json::to_value(&schemas[schema]).unwrap();
            let pattern = json["properties"][field]["pattern"].as_str();
            assert_eq!(pattern, Some(super::TEXT_PATTERN), "{schema}.{field}");
        }
        for (_, _, patch, fixed) in super::PATCHES {
            let json = serde_json::to_value(&schemas[*patch]).unwrap();
            assert_eq!(json["additionalProperties"], false, "{patch}");
            assert!(json.get("required").is_none(), "{patch}");
            for field in *fixed {
                assert!(json["properties"].get(*field).is_none(), "{patch}.{field}");
            }
        }
    }
}
