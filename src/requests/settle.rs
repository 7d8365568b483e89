//! Settling a request: the one place a verified answer or an admin's decision becomes
//! `confirmed` or `rejected`, inside the caller's transaction.

use diesel::prelude::*;

use super::queries::{self, RequestRow};
use crate::db::schema::verification_requests;
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
    queries::transition(conn, row, to, Some(s.outcome.as_str()), s.actor)?;
    diesel::update(verification_requests::table.find(&row.id))
        .set((
            verification_requests::outcome.eq(s.outcome.as_str()),
            verification_requests::verification_method.eq(s.method.as_str()),
            verification_requests::certificate_facts.eq(&s.certificate_facts),
            verification_requests::decided_by.eq(s.actor),
            verification_requests::decision_note.eq(s.note),
        ))
        .execute(conn)?;
    if to == RequestState::Confirmed {
        // The row as this transaction left it; `transition` guards on the state alone.
        let confirmed = RequestRow {
            state: to.as_str().to_owned(),
            ..row.clone()
        };
        on_confirmed(conn, issuance, &confirmed, s.method)?;
    }
    Ok(())
}

/// DESIGN.md: `confirmed → issued` in the confirming transaction, so a confirmed request
/// never lacks its record and never gets two.
fn on_confirmed(
    conn: &mut DbConnection,
    issuance: &Issuance<'_>,
    row: &RequestRow,
    method: Method,
) -> Result<(), ApiError> {
    let record = crate::records::issue::issue(conn, issuance, row, method.as_str())?;
    tracing::info!(request_id = %row.id, record_id = %record.id, "record issued");
    Ok(())
}
