//! What the registry serves: views of list versions, issuing bodies and qualifications.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::qualification::{Category, Equivalence, TitleLevel};

#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, diesel::Queryable, diesel::Selectable,
)]
#[diesel(table_name = crate::db::schema::list_versions)]
pub struct ListVersion {
    #[schema(example = "3.0")]
    pub version: String,
    pub title: String,
    #[schema(value_type = Option<String>, format = Date)]
    pub published_on: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = Date)]
    pub effective_on: Option<NaiveDate>,
    pub notes: Option<String>,
}

/// An issuing body's public key, as an Ed25519 JWK.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PublicJwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    pub kid: String,
}

impl PublicJwk {
    pub fn ed25519(kid: &str, x: &str) -> Self {
        Self {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: x.into(),
            kid: kid.into(),
        }
    }
}

/// Public material only: no internal notes, no retired keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IssuingBodyView {
    pub id: String,
    /// The body's name in the issuing-body protocol, and what imports match on.
    #[schema(example = "acca")]
    pub code: String,
    pub name_en: String,
    pub name_zh: Option<String>,
    /// ISO 3166-1 alpha-2 (Hong Kong, Macao and Taiwan included).
    pub country: String,
    pub website: Option<String>,
    #[schema(value_type = crate::domain::sets::VerificationMode)]
    pub verification_mode: String,
    pub api_base_url: Option<String>,
    #[schema(value_type = crate::domain::sets::BodyStatus)]
    pub status: String,
    /// The active keys; a retired key no longer verifies and is not shown.
    pub public_keys: Vec<PublicJwk>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IssuingBodySummary {
    pub id: String,
    pub code: String,
    pub name_en: String,
    pub name_zh: Option<String>,
    pub country: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Removal {
    /// The list version that removed it.
    pub list_version: String,
    #[schema(value_type = String, format = Date)]
    pub removed_on: NaiveDate,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct QualificationView {
    pub id: String,
    /// Stable code, e.g. `acca-fcca`.
    pub code: String,
    pub name_en: String,
    pub name_zh: Option<String>,
    pub abbreviation: Option<String>,
    pub issuing_body: IssuingBodySummary,
    /// An open vocabulary: `accounting`, `information_technology`, `aerospace`, …
    pub field: String,
    pub categories: Vec<Category>,
    /// Category C: the professional-title series it maps into.
    pub title_series: Option<String>,
    /// Category C: the highest title level it maps to.
    pub title_level: Option<TitleLevel>,
    /// Category D: what it is recognized against and what that gives.
    pub equivalences: Vec<Equivalence>,
    /// The list version that added it.
    pub list_version: String,
    #[schema(value_type = crate::domain::sets::ListingStatus)]
    pub status: String,
    pub removal: Option<Removal>,
    /// Sample data, not part of any official list.
    pub demo: bool,
}

/// One change in a registry item's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HistoryEntry {
    /// `create`, `update`, `remove`, `restore`, `suspend`, …
    pub action: String,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "crate::domain::rfc3339")]
    pub at: NaiveDateTime,
    /// Who made it (a service-account id, or `import:<file>`).
    pub actor: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct QualificationDetail {
    #[serde(flatten)]
    pub qualification: QualificationView,
    pub history: Vec<HistoryEntry>,
}
