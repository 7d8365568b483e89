//! Registry inputs (admin API and import rows) and their validation, with no IO.
//! Field errors carry a prefix so an import can name the row: `qualifications[3].field`.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::types::PublicJwk;
use crate::domain::country_code;
use crate::domain::qualification::{Category, Equivalence, TitleLevel};
use crate::error::FieldError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListVersionInput {
    #[schema(pattern = r"^\s*[0-9.]{1,16}\s*$", example = "3.0")]
    pub version: String,
    #[schema(
        max_length = 300,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub title: String,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub published_on: Option<NaiveDate>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub effective_on: Option<NaiveDate>,
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssuingBodyInput {
    #[schema(example = "acca", pattern = r"^\s*[a-z0-9][a-z0-9._-]{0,63}\s*$")]
    pub code: String,
    #[schema(
        max_length = 300,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub name_en: String,
    #[serde(default)]
    #[schema(max_length = 300)]
    pub name_zh: Option<String>,
    #[schema(value_type = crate::domain::CountryCode)]
    pub country: String,
    #[serde(default)]
    pub website: Option<String>,
    #[schema(value_type = crate::domain::sets::VerificationMode)]
    pub verification_mode: String,
    /// https (plain http only to loopback, with CERTVERIFY_ALLOW_HTTP_ISSUERS=true).
    #[serde(default)]
    pub api_base_url: Option<String>,
    #[serde(default)]
    pub public_keys: Vec<PublicJwk>,
    /// `active` (default) or `suspended`.
    #[serde(default)]
    #[schema(value_type = Option<crate::domain::sets::BodyStatus>)]
    pub status: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemovalInput {
    pub list_version: String,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub removed_on: Option<NaiveDate>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QualificationInput {
    #[schema(example = "acca-fcca", pattern = r"^\s*[a-z0-9][a-z0-9._-]{0,63}\s*$")]
    pub code: String,
    #[schema(
        max_length = 300,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub name_en: String,
    #[serde(default)]
    #[schema(max_length = 300)]
    pub name_zh: Option<String>,
    #[serde(default)]
    #[schema(max_length = 32)]
    pub abbreviation: Option<String>,
    /// The issuing body's id (admin API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuing_body_id: Option<String>,
    /// The issuing body's code (import files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuing_body: Option<String>,
    pub field: String,
    #[schema(value_type = Vec<Category>)]
    pub categories: Vec<String>,
    #[serde(default)]
    pub title_series: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<TitleLevel>)]
    pub title_level: Option<String>,
    #[serde(default)]
    pub equivalences: Vec<Equivalence>,
    pub list_version: String,
    #[serde(default)]
    pub demo: bool,
    /// Import only: `listed` (default) or `removed`, with `removal`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::domain::sets::ListingStatus>)]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removal: Option<RemovalInput>,
}

/// Whether plain-http and loopback issuing-body URLs are allowed (tests, demos).
#[derive(Debug, Clone, Copy)]
pub struct UrlPolicy {
    pub allow_http: bool,
}

pub(super) struct Errors {
    prefix: String,
    list: Vec<FieldError>,
}

impl Errors {
    pub(super) fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
            list: Vec::new(),
        }
    }
    pub(super) fn add(&mut self, field: &str, code: &str, message: impl Into<String>) {
        self.list.push(FieldError::new(
            format!("{}{field}", self.prefix),
            code,
            message,
        ));
    }
    pub(super) fn finish<T>(self, value: T) -> Result<T, Vec<FieldError>> {
        if self.list.is_empty() {
            Ok(value)
        } else {
            Err(self.list)
        }
    }
}

pub(super) fn is_slug(value: &str, max: usize) -> bool {
    let mut chars = value.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && value.len() <= max
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c))
}

pub(super) fn text(errors: &mut Errors, field: &str, value: &str, max: usize) -> String {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max || value.chars().any(char::is_control) {
        errors.add(
            field,
            "invalid",
            format!("1 to {max} printable characters."),
        );
    }
    value.to_owned()
}

pub(super) fn optional_text(
    errors: &mut Errors,
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Option<String> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| text(errors, field, v, max))
}

impl ListVersionInput {
    pub fn validate(mut self, prefix: &str) -> Result<Self, Vec<FieldError>> {
        let mut e = Errors::new(prefix);
        self.version = self.version.trim().to_owned();
        let version_ok = !self.version.is_empty()
            && self.version.len() <= 16
            && self.version.chars().all(|c| c.is_ascii_digit() || c == '.');
        if !version_ok {
            e.add("version", "invalid", "Digits and dots, such as 3.0.");
        }
        self.title = text(&mut e, "title", &self.title, 300);
        self.notes = optional_text(&mut e, "notes", self.notes.as_deref(), 4000);
        if let (Some(p), Some(f)) = (self.published_on, self.effective_on) {
            if f < p {
                e.add(
                    "effective_on",
                    "before_publication",
                    "Cannot take effect before it is published.",
                );
            }
        }
        e.finish(self)
    }
}

impl IssuingBodyInput {
    pub fn validate(mut self, prefix: &str, urls: UrlPolicy) -> Result<Self, Vec<FieldError>> {
        let mut e = Errors::new(prefix);
        self.code = self.code.trim().to_owned();
        if !is_slug(&self.code, 64) {
            e.add("code", "invalid", "A lower-case slug such as acca.");
        }
        self.name_en = text(&mut e, "name_en", &self.name_en, 300);
        self.name_zh = optional_text(&mut e, "name_zh", self.name_zh.as_deref(), 300);
        match country_code(&self.country) {
            Some(c) => self.country = c,
            None => e.add("country", "invalid", "An ISO 3166-1 alpha-2 code."),
        }
        self.website = self
            .website
            .map(|w| w.trim().to_owned())
            .filter(|w| !w.is_empty());
        if let Some(w) = &self.website {
            if !url::Url::parse(w).is_ok_and(|u| matches!(u.scheme(), "http" | "https")) {
                e.add("website", "invalid", "An http(s) URL.");
            }
        }
        self.api_base_url = self
            .api_base_url
            .map(|u| u.trim().trim_end_matches('/').to_owned())
            .filter(|u| !u.is_empty());
        match (self.verification_mode.as_str(), &self.api_base_url) {
            ("api", None) => e.add(
                "api_base_url",
                "required",
                "Bodies in api mode need an api_base_url.",
            ),
            ("api", Some(u)) => {
                if let Err(message) = check_api_url(u, urls) {
                    e.add("api_base_url", "invalid", message);
                }
            }
            ("manual", _) => {}
            _ => e.add("verification_mode", "invalid", "api or manual."),
        }
        if !matches!(
            self.status.as_deref(),
            None | Some("active") | Some("suspended")
        ) {
            e.add("status", "invalid", "active or suspended.");
        }
        self.status = Some(self.status.unwrap_or_else(|| "active".into()));
        let mut kids = std::collections::BTreeSet::new();
        for (i, key) in self.public_keys.iter().enumerate() {
            if let Err(message) = check_jwk(key) {
                e.add(&format!("public_keys[{i}]"), "invalid", message);
            } else if !kids.insert(key.kid.clone()) {
                e.add(
                    &format!("public_keys[{i}].kid"),
                    "duplicate",
                    "Each key needs its own kid.",
                );
            }
        }
        e.finish(self)
    }
}

/// An Ed25519 public JWK with a kid: 32 bytes of `x`, base64url.
pub fn check_jwk(key: &PublicJwk) -> Result<(), String> {
    use base64::Engine;
    if key.kty != "OKP" || key.crv != "Ed25519" {
        return Err("Only Ed25519 keys (kty OKP, crv Ed25519).".into());
    }
    if key.kid.trim().is_empty() || key.kid.len() > 128 {
        return Err("A kid of 1 to 128 characters is required.".into());
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&key.x)
        .map_err(|_| "x must be base64url without padding.".to_owned())?;
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|_| "x must be 32 bytes.".to_owned())?;
    ed25519_dalek::VerifyingKey::from_bytes(&bytes)
        .map_err(|_| "x is not an Ed25519 point.".to_owned())?;
    Ok(())
}

/// https only; plain http only to a loopback address and only when allowed.
pub fn check_api_url(value: &str, urls: UrlPolicy) -> Result<(), String> {
    let url = url::Url::parse(value).map_err(|_| "Not a URL.".to_owned())?;
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err("No query, fragment or credentials.".into());
    }
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => return Err("A host is required.".into()),
    };
    match url.scheme() {
        "https" if !loopback || urls.allow_http => Ok(()),
        "http" if loopback && urls.allow_http => Ok(()),
        "https" => Err("A loopback address needs CERTVERIFY_ALLOW_HTTP_ISSUERS=true.".into()),
        _ => Err(
            "Must be https (plain http only to loopback with CERTVERIFY_ALLOW_HTTP_ISSUERS=true)."
                .into(),
        ),
    }
}

/// RFC 7396 JSON merge patch: objects merge recursively, `null` deletes, anything else replaces.
pub fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    use serde_json::Value;
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    if let Value::Object(map) = target {
        for (key, value) in patch {
            if value.is_null() {
                map.remove(key);
            } else {
                merge_patch(map.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

#[cfg(test)]
#[path = "input_tests.rs"]
mod tests;
