//! The simulator's certificates file and the matching rules of DESIGN.md ("Simulator"). No IO
//! besides `Certificates::load`, so every rule is unit-tested.

use std::collections::HashMap;
use std::path::Path;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

use crate::issuers::protocol::{CertificateFacts, Outcome, VerificationRequest};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertificateStatus {
    Valid,
    Revoked,
}

impl CertificateStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Revoked => "revoked",
        }
    }
}

/// One entry of the certificates file, in the file's own field names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Certificate {
    pub certificate_number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualification_code: Option<String>,
    pub holder_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<NaiveDate>,
    pub issued_on: NaiveDate,
    #[serde(default)]
    pub expires_on: Option<NaiveDate>,
    pub status: CertificateStatus,
}

impl Certificate {
    /// The certificate as the body reports it. An entry without a qualification is taken to
    /// be of the qualification the platform asked about, since the answer must name one.
    pub fn facts(&self, asked_qualification: &str) -> CertificateFacts {
        CertificateFacts {
            certificate_number: self.certificate_number.trim().to_owned(),
            qualification_code: self
                .qualification_code
                .clone()
                .unwrap_or_else(|| asked_qualification.to_owned()),
            holder_name: self.holder_name.clone(),
            issued_on: self.issued_on.to_string(),
            expires_on: self.expires_on.map(|d| d.to_string()),
            status: self.status.as_str().to_owned(),
        }
    }
}

/// Why a certificates file was refused; every message names the entry at fault.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum LoadError {
    #[error("the certificates file must be a JSON array of entries: {0}")]
    NotAnArray(String),
    #[error("entry {index}{label}: {message}")]
    BadEntry {
        index: usize,
        label: String,
        message: String,
    },
}

fn bad_entry(index: usize, number: Option<&str>, message: impl Into<String>) -> LoadError {
    LoadError::BadEntry {
        index,
        label: number
            .map(|n| format!(" (certificate_number {n:?})"))
            .unwrap_or_default(),
        message: message.into(),
    }
}

/// The body's certificates, looked up by number.
#[derive(Debug, Clone, Default)]
pub struct Certificates {
    entries: Vec<Certificate>,
    by_number: HashMap<String, Vec<usize>>,
}

/// What the body answers to one question.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict<'a> {
    pub outcome: Outcome,
    /// The entry the answer is about; None when the number is unknown.
    pub certificate: Option<&'a Certificate>,
}

impl Certificates {
    /// Checks the entries: a number and a name that are not blank, and no two entries with
    /// the same number and qualification (which would make the answer depend on file order).
    pub fn new(entries: Vec<Certificate>) -> Result<Self, LoadError> {
        let mut by_number: HashMap<String, Vec<usize>> = HashMap::new();
        for (index, entry) in entries.iter().enumerate() {
            let number = entry.certificate_number.trim();
            if number.is_empty() {
                return Err(bad_entry(index, None, "certificate_number is blank"));
            }
            if entry.holder_name.trim().is_empty() {
                return Err(bad_entry(index, Some(number), "holder_name is blank"));
            }
            if entry
                .qualification_code
                .as_deref()
                .is_some_and(|q| q.trim().is_empty())
            {
                return Err(bad_entry(
                    index,
                    Some(number),
                    "qualification_code is blank (leave it out instead)",
                ));
            }
            let same = by_number.entry(number.to_owned()).or_default();
            if let Some(&first) = same.iter().find(|&&i| {
                entries[i].qualification_code.as_deref().map(str::trim)
                    == entry.qualification_code.as_deref().map(str::trim)
            }) {
                return Err(bad_entry(
                    index,
                    Some(number),
                    format!("repeats entry {first} (same number and qualification)"),
                ));
            }
            same.push(index);
        }
        Ok(Self { entries, by_number })
    }

    pub fn parse(text: &str) -> Result<Self, LoadError> {
        let values: Vec<serde_json::Value> =
            serde_json::from_str(text).map_err(|e| LoadError::NotAnArray(e.to_string()))?;
        let entries = values
            .into_iter()
            .enumerate()
            .map(|(index, value)| {
                let number = value
                    .get("certificate_number")
                    .and_then(|n| n.as_str())
                    .map(str::to_owned);
                serde_json::from_value::<Certificate>(value)
                    .map_err(|e| bad_entry(index, number.as_deref(), e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(entries)
    }

    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }

    pub fn entries(&self) -> &[Certificate] {
        &self.entries
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The matching rules of DESIGN.md: `confirmed` when the number, the qualification
    /// (where the entry gives one), the name (folded), the date of birth (where the entry
    /// gives one) and the issue date match and the certificate is valid; `not_found` when
    /// the number is unknown; `mismatch` otherwise.
    pub fn check(&self, request: &VerificationRequest) -> Verdict<'_> {
        let Some(candidates) = self.by_number.get(request.certificate_number.trim()) else {
            return Verdict {
                outcome: Outcome::NotFound,
                certificate: None,
            };
        };
        let asked = request.qualification_code.trim();
        // With one number under several qualifications, answer about the one asked for,
        // then one that names no qualification, then the first, so a mismatch still
        // reports a certificate the body really has.
        let pick = |wanted: Option<&str>| {
            candidates
                .iter()
                .map(|&i| &self.entries[i])
                .find(|c| c.qualification_code.as_deref().map(str::trim) == wanted)
        };
        let Some(certificate) = pick(Some(asked))
            .or_else(|| pick(None))
            .or_else(|| candidates.first().map(|&i| &self.entries[i]))
        else {
            return Verdict {
                outcome: Outcome::NotFound,
                certificate: None,
            };
        };
        let outcome = if matches(certificate, request) {
            Outcome::Confirmed
        } else {
            Outcome::Mismatch
        };
        Verdict {
            outcome,
            certificate: Some(certificate),
        }
    }
}

fn matches(certificate: &Certificate, request: &VerificationRequest) -> bool {
    let qualification = certificate
        .qualification_code
        .as_deref()
        .map_or(true, |q| q.trim() == request.qualification_code.trim());
    let name = fold_name(&certificate.holder_name) == fold_name(&request.holder_name);
    let birth = certificate.date_of_birth.map_or(true, |d| {
        parse_date(&request.holder_date_of_birth) == Some(d)
    });
    let issued = parse_date(&request.issued_on) == Some(certificate.issued_on);
    qualification && name && birth && issued && certificate.status == CertificateStatus::Valid
}

fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

/// A name without regard to case, accents and spacing: compatibility decomposition (NFKD),
/// combining marks dropped, whitespace dropped, lower-cased. Letters that are not a base
/// letter plus a mark (ø, ł, ß) stay as they are.
pub fn fold_name(name: &str) -> String {
    name.nfkd()
        .filter(|c| !is_combining_mark(*c) && !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
#[path = "certificates_tests.rs"]
mod tests;
