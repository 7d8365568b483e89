//! The services table and the eligibility rules (DESIGN.md, "Policy: what each category
//! opens"). No IO: the caller reads the holder's profile and the qualification live from
//! the platform, passes the date to judge on, and gets a [`Decision`] back.
//!
//! How a decision is made, in order:
//! 1. The rules that need only the platform's data (record status, listing, category,
//!    who may use the service, age limits, the qualification's title mapping or
//!    equivalences). If any fails, the answer is "not eligible" with those reasons even
//!    when facts are missing, since no fact could change it.
//! 2. Otherwise every fact the service still needs must be present, or the answer is
//!    [`DecideError::MissingFacts`] naming all of them.
//! 3. Then the rules that read facts; every failing rule adds its reason.
//!
//! Informational services (`*.local_support`) run step 1 too, so a revoked record says
//! so in `reasons`, but their `eligible` is always `null`: nobody decides them.

mod facts;
mod listing;
pub mod queries;
pub mod routes;
mod rules;
mod service_code;
mod subject;
mod table;
pub mod title;

#[cfg(test)]
mod tests;

use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

pub use facts::{Degree, EmployerType, FactName, Facts, PermitCategory, Years};
pub use listing::{record_services, Outcome, RecordServices, ServiceAnswer};
pub use service_code::ServiceCode;
pub use subject::{HolderProfile, QualificationProfile, RecordStatus, Subject};
pub use table::{PolicyTable, Service, ServiceCondition, Source, TableError, When, Who};

use crate::domain::qualification::Equivalence;

/// Stable, machine-readable reasons for "not eligible".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    RecordNotValid,
    QualificationDelisted,
    CategoryMismatch,
    IdentityKindNotAllowed,
    HasShanghaiHukou,
    LacksShanghaiHukou,
    AgeOverLimit,
    NoTitleMapping,
    InsufficientExperience,
    InsufficientShanghaiExperience,
    TitleSeriesMismatch,
    TitleLevelAboveMapping,
    DegreeNotScienceOrEngineering,
    DegreeNotQualifying,
    NoEquivalence,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Reason {
    pub code: ReasonCode,
    pub message: String,
}

impl Reason {
    pub(crate) fn new(code: ReasonCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// Something the service still needs that the platform cannot check. Returned, never
/// demanded: its absence is not an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Condition {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Decision {
    pub service: ServiceCode,
    /// `null` only for informational services.
    pub eligible: Option<bool>,
    /// Why not eligible; empty when eligible.
    pub reasons: Vec<Reason>,
    #[schema(value_type = Object)]
    pub limits: Map<String, Value>,
    pub conditions: Vec<Condition>,
    pub record_status: RecordStatus,
    pub policy_version: String,
    /// Category D only: the qualification's equivalences and what each gives.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub equivalences: Option<Vec<Equivalence>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecideError {
    #[error("unknown service {0}")]
    UnknownService(String),
    /// Every missing fact, by its DESIGN.md name, in DESIGN.md's order.
    #[error("missing facts: {}", .0.join(", "))]
    MissingFacts(Vec<String>),
}

pub fn decide(
    table: &PolicyTable,
    service_code: &str,
    subject: &Subject,
    facts: &Facts,
) -> Result<Decision, DecideError> {
    let unknown = || DecideError::UnknownService(service_code.to_owned());
    let code = ServiceCode::parse(service_code).ok_or_else(unknown)?;
    // A loaded table has every code; the check stays because a table is data.
    let service = table.service(code).ok_or_else(unknown)?;

    let limits = rules::limits(service, subject, facts);
    let mut reasons = rules::profile_reasons(service, subject, &limits);
    let missing: Vec<String> = rules::facts_needed(code, subject, facts)
        .into_iter()
        .filter(|f| !facts.has(*f))
        .map(|f| f.as_str().to_owned())
        .collect();
    if missing.is_empty() {
        reasons.extend(rules::fact_reasons(code, subject, facts));
    } else if reasons.is_empty() {
        return Err(DecideError::MissingFacts(missing));
    }

    Ok(Decision {
        service: code,
        eligible: (!service.informational).then_some(reasons.is_empty()),
        reasons,
        limits,
        conditions: rules::conditions(service, facts),
        record_status: subject.record_status,
        policy_version: table.policy_version().to_owned(),
        equivalences: (code == ServiceCode::DMutualRecognition)
            .then(|| subject.qualification.equivalences.clone()),
    })
}
