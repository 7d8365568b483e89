//! A confirmed request's record: the guarded move through `confirmed` to `issued` and the
//! record it makes, in the caller's transaction (DESIGN.md "States": exactly one record per
//! request, even across kill -9). Building, signing and storing the record is the records
//! module's; the request's states are this one's.

use serde_json::json;

use super::queries::{self, Also, Decision, RequestRow, Step};
use super::transition::STATE_CHANGED_CODE;
use crate::db::DbConnection;
use crate::domain::request_state::RequestState;
use crate::error::ApiError;
use crate::records::credential::Claim;
use crate::records::issue::{self, Issuance, Prebuilt};
use crate::records::RecordRow;

impl RequestRow {
    /// What the record of this request says of it.
    pub fn claim(&self) -> Claim<'_> {
        Claim {
            request_id: &self.id,
            holder_id: &self.holder_id,
            qualification_id: &self.qualification_id,
            certificate_number: &self.certificate_number,
            issued_on: self.issued_on,
            expires_on: self.expires_on,
        }
    }
}

/// Moves the request through `confirmed` to `issued`, and builds, signs and stores its
/// record.
pub fn issue(
    conn: &mut DbConnection,
    iss: &Issuance<'_>,
    request: &RequestRow,
    method: &str,
    confirming: Confirming<'_>,
) -> Result<RecordRow, ApiError> {
    let id = uuid::Uuid::new_v4().to_string();
    // The guarded state change comes first: of two transactions confirming one request,
    // the second waits here and is refused, before it has built anything. The request is
    // written once, straight to `issued`; its history shows both states.
    confirm(conn, request, &id, &iss.keys.active().kid, confirming)?;
    issue::issue(conn, iss, request.claim(), &id, method)
}

/// [`issue`] with a record built before the transaction (`records::issue::prebuild`):
/// None, with the transaction to be rolled back, when the request changed meanwhile.
pub fn issue_prebuilt(
    conn: &mut DbConnection,
    iss: &Issuance<'_>,
    request: &RequestRow,
    prebuilt: Prebuilt<'_>,
    confirming: Confirming<'_>,
) -> Result<Option<RecordRow>, ApiError> {
    match confirm(conn, request, prebuilt.id(), prebuilt.kid(), confirming) {
        Ok(()) => issue::store_prebuilt(conn, iss, prebuilt).map(Some),
        Err(e) if e.code == STATE_CHANGED_CODE => Ok(None),
        Err(e) => Err(e),
    }
}

/// The guarded move through `confirmed` to `issued`, with the audit row of the record.
fn confirm(
    conn: &mut DbConnection,
    request: &RequestRow,
    record_id: &str,
    kid: &str,
    confirming: Confirming<'_>,
) -> Result<(), ApiError> {
    let also = Also {
        decision: Some(confirming.decision),
        then: Some(Step {
            state: RequestState::Issued,
            reason: None,
            actor: "system",
        }),
        audit: Some(crate::audit::Entry {
            actor: "system",
            action: "record.issued",
            subject: Some(record_id),
            details: json!({"request_id": request.id, "kid": kid}),
        }),
        ..Also::default()
    };
    let confirmed = RequestState::Confirmed;
    queries::transition_with(
        conn,
        request,
        confirmed,
        confirming.reason,
        confirming.actor,
        &also,
    )
}

/// The confirmation that issuing a record completes: who confirmed, and what was decided.
pub struct Confirming<'a> {
    pub reason: Option<&'a str>,
    pub actor: &'a str,
    pub decision: Decision<'a>,
}
