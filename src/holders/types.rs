//! The registration body and its validation, with no IO.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::identity::IdentityDocument;
use crate::domain::{country_code, IdentityKind};
use crate::error::FieldError;

pub const MIN_PASSWORD_CHARS: usize = 12;
const MAX_PASSWORD_CHARS: usize = 256;

/// Fields arrive as strings so that every bad field is reported at once, not only the first.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterHolder {
    #[schema(example = "ana.lima@example.org")]
    pub email: String,
    /// At least 12 characters.
    #[schema(example = "a long passphrase")]
    pub password: String,
    #[schema(example = "Ana Lima")]
    pub full_name: String,
    /// ISO 3166-1 alpha-2.
    #[schema(example = "BR")]
    pub nationality: String,
    #[schema(value_type = IdentityKind)]
    pub identity_kind: String,
    #[schema(value_type = String, format = Date, example = "1988-04-02")]
    pub date_of_birth: String,
    pub identity_document: IdentityDocumentInput,
    /// ISO 3166-1 alpha-2: holders still overseas register the same way.
    #[schema(example = "BR")]
    pub residence_country: String,
    /// Shanghai household registration (hukou).
    pub shanghai_hukou: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct IdentityDocumentInput {
    /// A lower-case slug such as `passport`, `id_card`, `hk_mo_permit`.
    #[serde(rename = "type")]
    #[schema(example = "passport")]
    pub doc_type: String,
    #[schema(example = "FZ1234567")]
    pub number: String,
}

/// A validated registration, ready to store (the password not yet hashed).
#[derive(Debug)]
pub struct NewHolder {
    pub email: String,
    pub email_normalized: String,
    pub password: String,
    pub full_name: String,
    pub identity_kind: IdentityKind,
    pub date_of_birth: NaiveDate,
    pub document: IdentityDocument,
    pub residence_country: String,
    pub shanghai_hukou: bool,
}

/// The password rules of registration, also applied by a password reset.
pub fn check_password(password: &str) -> Result<(), FieldError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        Err(FieldError::new(
            "password",
            "too_short",
            format!("At least {MIN_PASSWORD_CHARS} characters."),
        ))
    } else if chars > MAX_PASSWORD_CHARS {
        Err(FieldError::new(
            "password",
            "too_long",
            format!("At most {MAX_PASSWORD_CHARS} characters."),
        ))
    } else {
        Ok(())
    }
}

impl RegisterHolder {
    pub fn validate(self, today: NaiveDate) -> Result<NewHolder, Vec<FieldError>> {
        let mut errors = Vec::new();
        let email = self.email.trim().to_owned();
        if !is_email(&email) {
            errors.push(FieldError::new("email", "invalid", "Not an email address."));
        }
        if let Err(e) = check_password(&self.password) {
            errors.push(e);
        }
        let full_name = self.full_name.trim().to_owned();
        if full_name.is_empty()
            || full_name.chars().count() > 200
            || full_name.chars().any(char::is_control)
        {
            errors.push(FieldError::new(
                "full_name",
                "invalid",
                "A name of 1 to 200 printable characters.",
            ));
        }
        let nationality = country_code(&self.nationality);
        if nationality.is_none() {
            errors.push(FieldError::new(
                "nationality",
                "invalid",
                "An ISO 3166-1 alpha-2 code.",
            ));
        }
        let residence_country = country_code(&self.residence_country);
        if residence_country.is_none() {
            errors.push(FieldError::new(
                "residence_country",
                "invalid",
                "An ISO 3166-1 alpha-2 code.",
            ));
        }
        let identity_kind = IdentityKind::parse(&self.identity_kind);
        match (identity_kind, &nationality) {
            (None, _) => errors.push(FieldError::new(
                "identity_kind",
                "invalid",
                "One of foreign_national, hk_mo_tw, mainland.",
            )),
            (Some(kind), Some(nat)) if !kind.accepts_nationality(nat) => {
                errors.push(FieldError::new(
                    "identity_kind",
                    "inconsistent",
                    format!("{} does not fit nationality {nat}.", kind.as_str()),
                ))
            }
            _ => {}
        }
        if self.shanghai_hukou && identity_kind.is_some_and(|k| k != IdentityKind::Mainland) {
            errors.push(FieldError::new(
                "shanghai_hukou",
                "inconsistent",
                "Only mainland residents hold a Shanghai household registration.",
            ));
        }
        let date_of_birth = NaiveDate::parse_from_str(self.date_of_birth.trim(), "%Y-%m-%d").ok();
        match date_of_birth {
            None => errors.push(FieldError::new(
                "date_of_birth",
                "invalid",
                "A date as YYYY-MM-DD.",
            )),
            Some(d) if d > today || Some(d) < NaiveDate::from_ymd_opt(1900, 1, 1) => {
                errors.push(FieldError::new(
                    "date_of_birth",
                    "out_of_range",
                    "Between 1900-01-01 and today.",
                ))
            }
            Some(_) => {}
        }
        let doc_type = self.identity_document.doc_type.trim();
        let type_ok = (2..=32).contains(&doc_type.len())
            && doc_type.chars().all(|c| c.is_ascii_lowercase() || c == '_');
        if !type_ok {
            errors.push(FieldError::new(
                "identity_document.type",
                "invalid",
                "A lower-case slug of 2 to 32 letters and underscores, such as passport.",
            ));
        }
        let document = IdentityDocument::new(
            doc_type,
            nationality.as_deref().unwrap_or(""),
            &self.identity_document.number,
        );
        if !(3..=32).contains(&document.number.len())
            || !document.number.chars().all(|c| c.is_ascii_alphanumeric())
        {
            errors.push(FieldError::new(
                "identity_document.number",
                "invalid",
                "3 to 32 letters and digits (spaces and hyphens are ignored).",
            ));
        }
        match (
            errors.is_empty(),
            identity_kind,
            date_of_birth,
            nationality,
            residence_country,
        ) {
            (true, Some(identity_kind), Some(date_of_birth), Some(_), Some(residence_country)) => {
                Ok(NewHolder {
                    email_normalized: email.to_lowercase(),
                    email,
                    password: self.password,
                    full_name,
                    identity_kind,
                    date_of_birth,
                    document,
                    residence_country,
                    shanghai_hukou: self.shanghai_hukou,
                })
            }
            _ => Err(errors),
        }
    }
}

fn is_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    email.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && !local.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// What a holder sees of their own account: never the document number, only its end.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HolderView {
    pub id: String,
    pub email: String,
    pub full_name: String,
    pub nationality: String,
    pub identity_kind: IdentityKind,
    #[schema(value_type = String, format = Date)]
    pub date_of_birth: NaiveDate,
    pub identity_document: IdentityDocumentView,
    pub residence_country: String,
    pub shanghai_hukou: bool,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "crate::domain::rfc3339")]
    pub created_at: NaiveDateTime,
    /// Whether the address was confirmed by the emailed link; a verification request
    /// needs it (`403 email_unverified` otherwise).
    pub email_verified: bool,
}

/// What registration and a resend answer, whether or not the address is registered.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MailAccepted {
    /// Always `accepted`: the address's mailbox is told the rest.
    #[schema(example = "accepted")]
    pub status: String,
}

impl MailAccepted {
    pub fn new() -> Self {
        Self {
            status: "accepted".into(),
        }
    }
}

impl Default for MailAccepted {
    fn default() -> Self {
        Self::new()
    }
}

/// `POST /v1/holders/verify-email`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct VerifyEmail {
    /// The token of the emailed link (the last part of its path).
    pub token: String,
}

/// `POST /v1/holders/resend-verification`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ResendVerification {
    pub email: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IdentityDocumentView {
    #[serde(rename = "type")]
    pub doc_type: String,
    /// The last four characters of the number.
    pub last4: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body() -> RegisterHolder {
        RegisterHolder {
            email: " Ana.Lima@Example.org ".into(),
            password: "a long passphrase".into(),
            full_name: "Ana Lima".into(),
            nationality: "br".into(),
            identity_kind: "foreign_national".into(),
            date_of_birth: "1988-04-02".into(),
            identity_document: IdentityDocumentInput {
                doc_type: "passport".into(),
                number: "fz 123-4567".into(),
            },
            residence_country: "BR".into(),
            shanghai_hukou: false,
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
    }

    fn fields(result: Result<NewHolder, Vec<FieldError>>) -> Vec<String> {
        result.unwrap_err().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_valid_registration_is_normalized() {
        let h = body().validate(today()).unwrap();
        assert_eq!(h.email, "Ana.Lima@Example.org");
        assert_eq!(h.email_normalized, "ana.lima@example.org");
        assert_eq!(h.document.canonical(), "PASSPORT:BR:FZ1234567");
        assert_eq!(h.identity_kind, IdentityKind::ForeignNational);
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let mut b = body();
        b.email = "no-at-sign".into();
        b.password = "short".into();
        b.nationality = "XX".into();
        b.date_of_birth = "1988-13-40".into();
        b.identity_document.number = "!!".into();
        assert_eq!(
            fields(b.validate(today())),
            [
                "email",
                "password",
                "nationality",
                "date_of_birth",
                "identity_document.number"
            ]
        );
    }

    #[test]
    fn a_password_of_exactly_twelve_characters_is_enough() {
        let mut b = body();
        b.password = "abcdefghijkl".into();
        assert!(b.validate(today()).is_ok());
        let mut b = body();
        b.password = "abcdefghijk".into();
        assert_eq!(fields(b.validate(today())), ["password"]);
    }

    #[test]
    fn identity_kind_must_fit_nationality_and_hukou() {
        let mut b = body();
        b.identity_kind = "mainland".into();
        assert_eq!(fields(b.validate(today())), ["identity_kind"]);
        let mut b = body();
        b.shanghai_hukou = true;
        assert_eq!(fields(b.validate(today())), ["shanghai_hukou"]);
        let mut b = body();
        b.identity_kind = "alien".into();
        assert_eq!(fields(b.validate(today())), ["identity_kind"]);
    }

    #[test]
    fn a_birth_date_in_the_future_is_refused() {
        let mut b = body();
        b.date_of_birth = "2027-01-01".into();
        assert_eq!(fields(b.validate(today())), ["date_of_birth"]);
    }

    #[test]
    fn email_shapes() {
        assert!(is_email("a@b.co"));
        for bad in ["a@b", "@b.co", "a b@c.co", "a@.co", "a@co."] {
            assert!(!is_email(bad), "{bad}");
        }
    }
}
