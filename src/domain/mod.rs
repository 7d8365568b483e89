//! Plain types with no IO: identity kinds, countries, identity documents.

pub mod identity;
pub mod outcome;
pub mod qualification;
pub mod record_status;
pub mod request_state;
pub mod rfc3339;
pub mod sets;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Who the holder is, as the notice distinguishes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IdentityKind {
    ForeignNational,
    /// Hong Kong, Macao and Taiwan residents.
    HkMoTw,
    Mainland,
}

impl IdentityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ForeignNational => "foreign_national",
            Self::HkMoTw => "hk_mo_tw",
            Self::Mainland => "mainland",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "foreign_national" => Some(Self::ForeignNational),
            "hk_mo_tw" => Some(Self::HkMoTw),
            "mainland" => Some(Self::Mainland),
            _ => None,
        }
    }

    /// Whether a nationality fits this identity kind: mainland residents are Chinese
    /// nationals, Hong Kong, Macao and Taiwan residents carry CN or their region's code,
    /// and foreign nationals anything else.
    pub fn accepts_nationality(self, nationality: &str) -> bool {
        match self {
            Self::Mainland => nationality == "CN",
            Self::HkMoTw => matches!(nationality, "CN" | "HK" | "MO" | "TW"),
            Self::ForeignNational => !matches!(nationality, "CN" | "HK" | "MO" | "TW"),
        }
    }
}

/// An ISO 3166-1 alpha-2 code (Hong Kong, Macao and Taiwan included), upper-cased.
pub fn country_code(value: &str) -> Option<String> {
    let upper = value.trim().to_ascii_uppercase();
    isocountry::CountryCode::for_alpha2(&upper)
        .ok()
        .map(|_| upper)
}

/// An ISO 3166-1 alpha-2 code as the OpenAPI document lists it: every code
/// [`country_code`] takes, upper case (the check also takes lower case).
pub struct CountryCode;

impl utoipa::PartialSchema for CountryCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let codes: Vec<&str> = isocountry::CountryCode::iter()
            .map(|c| c.alpha2())
            .collect();
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("ISO 3166-1 alpha-2"))
            .enum_values(Some(codes))
            .into()
    }
}

impl utoipa::ToSchema for CountryCode {
    fn name() -> std::borrow::Cow<'static, str> {
        "CountryCode".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_codes_are_checked_against_iso_3166() {
        assert_eq!(country_code("gb").as_deref(), Some("GB"));
        for region in ["HK", "MO", "TW", "CN", "BR"] {
            assert_eq!(country_code(region).as_deref(), Some(region));
        }
        assert_eq!(country_code("XX"), None);
        assert_eq!(country_code("GBR"), None);
        assert_eq!(country_code(""), None);
    }

    #[test]
    fn identity_kinds_round_trip_and_check_nationality() {
        for kind in [
            IdentityKind::ForeignNational,
            IdentityKind::HkMoTw,
            IdentityKind::Mainland,
        ] {
            assert_eq!(IdentityKind::parse(kind.as_str()), Some(kind));
        }
        assert!(IdentityKind::Mainland.accepts_nationality("CN"));
        assert!(!IdentityKind::Mainland.accepts_nationality("GB"));
        assert!(IdentityKind::HkMoTw.accepts_nationality("HK"));
        assert!(!IdentityKind::ForeignNational.accepts_nationality("TW"));
        assert!(IdentityKind::ForeignNational.accepts_nationality("BR"));
    }
}
