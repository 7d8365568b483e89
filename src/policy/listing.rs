//! Every service a record's categories open, each decided from the platform's data alone
//! (`GET /v1/records/{id}/services`). No facts are given, so a service whose rules read
//! facts answers "needs facts" with their names, unless the profile already refuses it.

use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::facts::Facts;
use super::service_code::ServiceCode;
use super::subject::{RecordStatus, Subject};
use super::table::{PolicyTable, Service};
use super::{decide, Condition, DecideError, Reason};
use crate::domain::qualification::{Category, Equivalence};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Eligible,
    NotEligible,
    /// `*.local_support`: listed, never decided (`eligible` is null).
    Informational,
    /// The profile does not refuse it; the facts in `needs_facts` decide.
    NeedsFacts,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ServiceAnswer {
    pub service: ServiceCode,
    pub category: Category,
    pub title: String,
    pub outcome: Outcome,
    /// `null` for informational services and for those that need facts.
    pub eligible: Option<bool>,
    pub reasons: Vec<Reason>,
    /// The facts `POST /v1/eligibility` needs for this service; empty when decided.
    pub needs_facts: Vec<String>,
    #[schema(value_type = Object)]
    pub limits: Map<String, Value>,
    pub conditions: Vec<Condition>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub equivalences: Option<Vec<Equivalence>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RecordServices {
    pub record_id: String,
    pub record_status: RecordStatus,
    pub policy_version: String,
    /// In the table's order.
    pub items: Vec<ServiceAnswer>,
}

/// The services of the qualification's categories, in the table's order.
pub fn record_services(table: &PolicyTable, record_id: &str, subject: &Subject) -> RecordServices {
    RecordServices {
        record_id: record_id.to_owned(),
        record_status: subject.record_status,
        policy_version: table.policy_version().to_owned(),
        items: table
            .services()
            .iter()
            .filter(|s| subject.qualification.categories.contains(&s.category))
            .map(|service| answer_for(table, service, subject))
            .collect(),
    }
}

fn answer_for(table: &PolicyTable, service: &Service, subject: &Subject) -> ServiceAnswer {
    let mut answer = ServiceAnswer {
        service: service.code,
        category: service.category,
        title: service.title.clone(),
        outcome: Outcome::NeedsFacts,
        eligible: None,
        reasons: Vec::new(),
        needs_facts: Vec::new(),
        limits: service.limits.clone(),
        conditions: unconditional(service),
        equivalences: None,
    };
    match decide(table, service.code.as_str(), subject, &Facts::default()) {
        Ok(decision) => {
            answer.outcome = match decision.eligible {
                Some(true) => Outcome::Eligible,
                Some(false) => Outcome::NotEligible,
                None => Outcome::Informational,
            };
            answer.eligible = decision.eligible;
            answer.reasons = decision.reasons;
            answer.limits = decision.limits;
            answer.conditions = decision.conditions;
            answer.equivalences = decision.equivalences;
        }
        Err(DecideError::MissingFacts(facts)) => answer.needs_facts = facts,
        // The service comes from the table, so its code is known.
        Err(DecideError::UnknownService(_)) => {}
    }
    answer
}

/// The conditions that hold whatever the facts turn out to be.
fn unconditional(service: &Service) -> Vec<Condition> {
    service
        .conditions
        .iter()
        .filter(|c| c.when.is_none())
        .map(|c| Condition {
            code: c.code.clone(),
            message: c.message.clone(),
        })
        .collect()
}
