//! Settling a request: the one place a verified answer or an admin's decision becomes
//! `confirmed` or `rejected`, inside the caller's transaction.

use super::issuing::Confirming;
use super::queries::{self, Also, Decision, RequestRow};
use crate::db::DbConnection;
use crate::domain::outcome::Outcome;
use crate::domain::request_state::RequestState;
use crate::error::ApiError;
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

impl<'a> Settlement<'a> {
    fn decision(&'a self) -> Decision<'a> {
        Decision {
            outcome: self.outcome.as_str(),
            method: self.method.as_str(),
            certificate_facts: self.certificate_facts.as_deref(),
            decided_by: self.actor,
            note: self.note,
        }
    }

    /// What issuing completes, when this settlement confirms.
    pub fn confirming(&'a self) -> Option<Confirming<'a>> {
        (self.outcome == Outcome::Confirmed).then(|| Confirming {
            reason: Some(self.outcome.as_str()),
            actor: self.actor,
            decision: self.decision(),
        })
    }
}

pub fn settle(
    conn: &mut DbConnection,
    issuance: &Issuance<'_>,
    row: &RequestRow,
    s: &Settlement<'_>,
) -> Result<(), ApiError> {
    if let Some(confirming) = s.confirming() {
        // DESIGN.md: `confirmed → issued` in the confirming transaction, so a confirmed
        // request never lacks its record and never gets two.
        let record = super::issuing::issue(conn, issuance, row, s.method.as_str(), confirming)?;
        tracing::info!(request_id = %row.id, record_id = %record.id, "record issued");
    } else {
        let also = Also {
            decision: Some(s.decision()),
            ..Also::default()
        };
        let reason = Some(s.outcome.as_str());
        queries::transition_with(conn, row, RequestState::Rejected, reason, s.actor, &also)?;
    }
    Ok(())
}
