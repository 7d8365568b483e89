//! What the server checks of parameters, written into the document where the parameter
//! types are plain strings and integers: the same limits the handlers enforce (a test
//! against the real server, schemathesis in CI, keeps them honest).

use utoipa::openapi::path::{Operation, Parameter, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::RefOr;

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
fn constrained(param: &Parameter) -> Option<RefOr<Schema>> {
    let schema = match (&param.parameter_in, param.name.as_str()) {
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

pub fn constrain_parameters(op: &mut Operation) {
    for param in op.parameters.iter_mut().flatten() {
        let RefOr::T(param) = param else { continue };
        if let Some(schema) = constrained(param) {
            param.schema = Some(schema);
        }
    }
}
