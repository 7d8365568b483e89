//! Settling a request: the one place a verified answer or an admin's decision becomes
//! `confirmed` or `rejected`, inside the caller's transaction.

use super::queries::{self, Also, Decision, RequestRow};
use crate::db::DbConnection;
use crate::domain::request_state::RequestState;
use crate::error::ApiError;
use crate::issuers::protocol::Outcome;
use crate::records::issue::Issuance;

/// How the platform came to know the outcome (a record's `verification.method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    IssuerApi,
    IssuerCallback,
    ManualReview,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::IssuerApi => "issuer_api",
            Self::IssuerCallback => "issuer_callback",
            Self::ManualReview => "manual_review",
        }
    }
}

pub struct Settlement<'a> {
    pub outcome: Outcome,
    pub method: Method,
    /// The certificate as the body knows it (JSON), where it said.
    pub certificate_facts: Option<String>,
    pub actor: &'a str,
    pub note: Option<&'a str>,
}

pub fn settle(
    conn: &mut DbConnection,
    issuance: &Issuance<'_>,
    row: &RequestRow,
    s: &Settlement<'_>,
) -> Result<(), ApiError> {
    let to = match s.outcome {
        Outcome::Confirmed => RequestState::Confirmed,
        Outcome::NotFound | Outcome::Mismatch => RequestState::Rejected,
    };
    let decision = Decision {
        outcome: s.outcome.as_str(),
        method: s.method.as_str(),
        certificate_facts: s.certificate_facts.as_deref(),
        decided_by: s.actor,
        note: s.note,
    };
    let reason = Some(s.outcome.as_str());
    if to == RequestState::Confirmed {
        // DESIGN.md: `confirmed → issued` in the confirming transaction, so a confirmed
        // request never lacks its record and never gets two.
        let confirming = Confirming {
            reason,
            actor: s.actor,
            decision,
        };
        let record =
            crate::records::issue::issue(conn, issuance, row, s.method.as_str(), confirming)?;
        tracing::info!(request_id = %row.id, record_id = %record.id, "record issued");
    } else {
        let also = Also {
            decision: Some(decision),
            ..Also::default()
        };
        queries::transition_with(conn, row, to, reason, s.actor, &also)?;
    }
    Ok(())
}

/// The confirmation that issuing a record completes: who confirmed, and what was decided.
pub struct Confirming<'a> {
    pub reason: Option<&'a str>,
    pub actor: &'a str,
    pub decision: Decision<'a>,
}
