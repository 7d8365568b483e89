//! A holder's verification request: the body that opens one, its validation, and views.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::country_code;
use crate::domain::request_state::RequestState;
use crate::error::FieldError;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    /// The qualification's id (or code).
    pub qualification_id: String,
    pub certificate_number: String,
    /// The name exactly as it is printed on the certificate.
    pub name_on_certificate: String,
    #[schema(value_type = String, format = Date, example = "2019-06-30")]
    pub issued_on: String,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub expires_on: Option<String>,
    /// Where the holder applies from (ISO 3166-1 alpha-2): holders still overseas apply the same way.
    #[schema(value_type = crate::domain::CountryCode)]
    pub applying_from: String,
    #[serde(default)]
    pub note: Option<String>,
}

/// A checked request body.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub qualification: String,
    pub certificate_number: String,
    pub name_on_certificate: String,
    pub issued_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    pub applying_from: String,
    pub note: Option<String>,
    /// Evidence stored before the request, attached as it opens (the apply pages); the API
    /// attaches evidence to an open request instead.
    pub evidence: Option<Evidence>,
}

fn date(value: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").ok()
}

impl CreateRequest {
    pub fn validate(self, today: NaiveDate) -> Result<NewRequest, Vec<FieldError>> {
        let mut errors = Vec::new();
        let number = self.certificate_number.trim().to_owned();
        if number.is_empty() || number.chars().count() > 64 || number.chars().any(char::is_control)
        {
            errors.push(FieldError::new(
                "certificate_number",
                "invalid",
                "1 to 64 printable characters.",
            ));
        }
        let name = self.name_on_certificate.trim().to_owned();
        if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
            errors.push(FieldError::new(
                "name_on_certificate",
                "invalid",
                "1 to 200 printable characters.",
            ));
        }
        let issued_on = date(&self.issued_on);
        match issued_on {
            None => errors.push(FieldError::new(
                "issued_on",
                "invalid",
                "A date as YYYY-MM-DD.",
            )),
            Some(d) if d > today => errors.push(FieldError::new(
                "issued_on",
                "in_future",
                "A certificate cannot be issued after today.",
            )),
            _ => {}
        }
        let expires_on = match self
            .expires_on
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(s) => match (date(s), issued_on) {
                (None, _) => {
                    errors.push(FieldError::new(
                        "expires_on",
                        "invalid",
                        "A date as YYYY-MM-DD, or null.",
                    ));
                    None
                }
                (Some(e), Some(i)) if e < i => {
                    errors.push(FieldError::new(
                        "expires_on",
                        "before_issue",
                        "Cannot expire before it was issued.",
                    ));
                    None
                }
                (Some(e), _) => Some(e),
            },
        };
        let applying_from = country_code(&self.applying_from);
        if applying_from.is_none() {
            errors.push(FieldError::new(
                "applying_from",
                "invalid",
                "An ISO 3166-1 alpha-2 code.",
            ));
        }
        let note = self
            .note
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty());
        if note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
            errors.push(FieldError::new(
                "note",
                "too_long",
                "At most 2000 characters.",
            ));
        }
        match (errors.is_empty(), issued_on, applying_from) {
            (true, Some(issued_on), Some(applying_from)) => Ok(NewRequest {
                qualification: self.qualification_id.trim().to_owned(),
                certificate_number: number,
                name_on_certificate: name,
                issued_on,
                expires_on,
                applying_from,
                note,
                evidence: None,
            }),
            _ => Err(errors),
        }
    }
}

/// The key that allows one open request per holder, qualification and certificate number.
pub fn open_key(holder_id: &str, qualification_id: &str, certificate_number: &str) -> String {
    let number: String = certificate_number
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect();
    format!("{holder_id}|{qualification_id}|{number}")
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HistoryItem {
    pub state: RequestState,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "crate::domain::rfc3339")]
    pub at: NaiveDateTime,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Evidence {
    pub sha256: String,
    pub content_type: String,
}

/// A request as its holder sees it: a rejection says only `not_confirmed`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RequestView {
    pub id: String,
    pub state: RequestState,
    pub qualification_id: String,
    pub qualification_code: String,
    pub certificate_number: String,
    pub name_on_certificate: String,
    #[schema(value_type = String, format = Date)]
    pub issued_on: NaiveDate,
    #[schema(value_type = Option<String>, format = Date)]
    pub expires_on: Option<NaiveDate>,
    pub applying_from: String,
    pub note: Option<String>,
    pub evidence: Option<Evidence>,
    pub history: Vec<HistoryItem>,
    /// The record this request made, once it is `issued` (read it at `/v1/me/records`, or
    /// as an agency at `/v1/records/{id}`).
    #[serde(default)]
    #[schema(format = Uuid)]
    pub record_id: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "crate::domain::rfc3339")]
    pub created_at: NaiveDateTime,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "crate::domain::rfc3339")]
    pub updated_at: NaiveDateTime,
}

/// What admins see beyond the holder's view: what the body said, and who decided.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AdminRequestView {
    #[serde(flatten)]
    pub request: RequestView,
    pub holder_id: String,
    pub issuing_body_code: String,
    /// What the body (or the reviewer) said, once it did.
    #[schema(value_type = Option<crate::domain::outcome::Outcome>)]
    pub outcome: Option<String>,
    pub verification_method: Option<String>,
    pub decided_by: Option<String>,
    pub decision_note: Option<String>,
}

/// The reasons a holder may see; the body's detail (not found versus mismatch) would let
/// anyone probe which certificate numbers exist.
pub fn holder_reason(state: RequestState, reason: Option<&str>) -> Option<String> {
    match state {
        RequestState::Rejected => Some("not_confirmed".into()),
        _ => reason.map(str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body() -> CreateRequest {
        serde_json::from_value(json!({"qualification_id": "q", "certificate_number": " ACCA-123 ", "name_on_certificate": "Ana Lima",
            "issued_on": "2019-06-30", "expires_on": null, "applying_from": "br"}))
        .unwrap()
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
    }

    #[test]
    fn a_valid_body_is_trimmed_and_normalized() {
        let r = body().validate(today()).unwrap();
        assert_eq!(r.certificate_number, "ACCA-123");
        assert_eq!(r.applying_from, "BR");
        assert_eq!(r.expires_on, None);
    }

    #[test]
    fn dates_and_countries_are_checked_together() {
        let mut b = body();
        b.issued_on = "2030-01-01".into();
        b.expires_on = Some("soon".into());
        b.applying_from = "Brazil".into();
        b.name_on_certificate = " ".into();
        let fields: Vec<_> = b
            .validate(today())
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "name_on_certificate",
                "issued_on",
                "expires_on",
                "applying_from"
            ]
        );
        let mut b = body();
        b.expires_on = Some("2019-01-01".into());
        assert_eq!(b.validate(today()).unwrap_err()[0].code, "before_issue");
    }

    #[test]
    fn the_open_key_ignores_case_spaces_and_hyphens_of_the_number() {
        assert_eq!(
            open_key("h", "q", "acca 12-3"),
            open_key("h", "q", "ACCA123")
        );
        assert_ne!(
            open_key("h", "q", "ACCA123"),
            open_key("h2", "q", "ACCA123")
        );
    }

    #[test]
    fn a_holder_sees_only_not_confirmed_for_a_rejection() {
        assert_eq!(
            holder_reason(RequestState::Rejected, Some("not_found")).as_deref(),
            Some("not_confirmed")
        );
        assert_eq!(
            holder_reason(RequestState::Rejected, Some("mismatch")).as_deref(),
            Some("not_confirmed")
        );
        assert_eq!(
            holder_reason(RequestState::Withdrawn, Some("by holder")).as_deref(),
            Some("by holder")
        );
    }
}
