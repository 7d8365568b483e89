//! Request storage: reading requests and their history. Every state change goes through
//! `transition` (in `transition.rs`), which checks the domain's table and writes the event
//! in the caller's transaction.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::types::{holder_reason, AdminRequestView, Evidence, HistoryItem, RequestView};
use crate::db::schema::{
    issuing_bodies, qualifications, records, request_events, verification_requests,
};
use crate::db::DbConnection;
use crate::domain::request_state::RequestState;

pub use super::opening::{draft, insert};
pub use super::transition::{transition, transition_with, Also, Decision, Outbound, Step};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = verification_requests)]
pub struct RequestRow {
    pub id: String,
    pub holder_id: String,
    pub qualification_id: String,
    pub issuing_body_id: String,
    pub certificate_number: String,
    pub name_on_certificate: String,
    pub issued_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    pub applying_from: String,
    pub note: Option<String>,
    pub state: String,
    pub outcome: Option<String>,
    pub verification_method: Option<String>,
    pub certificate_facts: Option<String>,
    pub evidence_sha256: Option<String>,
    pub evidence_type: Option<String>,
    pub first_sent_at: Option<NaiveDateTime>,
    pub last_request_jti: Option<String>,
    pub decided_by: Option<String>,
    pub decision_note: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl RequestRow {
    pub fn state(&self) -> RequestState {
        // Written only through `transition`; an unknown value cannot be produced here.
        RequestState::parse(&self.state).unwrap_or(RequestState::Submitted)
    }
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<RequestRow>> {
    verification_requests::table
        .find(id)
        .select(RequestRow::as_select())
        .first(conn)
        .optional()
}

fn history(conn: &mut DbConnection, id: &str, for_holder: bool) -> QueryResult<Vec<HistoryItem>> {
    let rows: Vec<(String, NaiveDateTime, Option<String>)> = request_events::table
        .filter(request_events::request_id.eq(id))
        .order(request_events::id.asc())
        .select((
            request_events::state,
            request_events::at,
            request_events::reason,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(state, at, reason)| {
            let state = RequestState::parse(&state)?;
            let reason = if for_holder {
                holder_reason(state, reason.as_deref())
            } else {
                reason
            };
            Some(HistoryItem { state, at, reason })
        })
        .collect())
}

/// Up to `limit` requests still open that were made before `cutoff` (the expiry sweep).
pub fn open_before(
    conn: &mut DbConnection,
    cutoff: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<RequestRow>> {
    let open = [
        RequestState::Submitted,
        RequestState::AwaitingIssuer,
        RequestState::ManualReview,
    ]
    .map(RequestState::as_str);
    verification_requests::table
        .filter(verification_requests::state.eq_any(open))
        .filter(verification_requests::created_at.lt(cutoff))
        .select(RequestRow::as_select())
        .limit(limit)
        .load(conn)
}

/// Notes a call to the issuing body about a request that is already `awaiting_issuer` (a
/// re-ask): its message id and when the first call went out.
pub fn record_outbound(
    conn: &mut DbConnection,
    request_id: &str,
    outbound: &Outbound<'_>,
) -> QueryResult<usize> {
    diesel::update(verification_requests::table.find(request_id))
        .set((
            verification_requests::last_request_jti.eq(outbound.jti),
            verification_requests::first_sent_at.eq(outbound.first_sent_at),
        ))
        .execute(conn)
}

pub fn view(conn: &mut DbConnection, row: &RequestRow) -> QueryResult<RequestView> {
    let code: String = qualifications::table
        .find(&row.qualification_id)
        .select(qualifications::code)
        .first(conn)?;
    let history = history(conn, &row.id, true)?;
    let mut view = view_of(row, code, history);
    if row.state() == RequestState::Issued {
        view.record_id = records::table
            .filter(records::request_id.eq(&row.id))
            .select(records::id)
            .first(conn)
            .optional()?;
    }
    Ok(view)
}

/// The holder's view of `row`, from what the caller already knows.
pub fn view_of(
    row: &RequestRow,
    qualification_code: String,
    history: Vec<HistoryItem>,
) -> RequestView {
    RequestView {
        id: row.id.clone(),
        state: row.state(),
        qualification_id: row.qualification_id.clone(),
        qualification_code,
        certificate_number: row.certificate_number.clone(),
        name_on_certificate: row.name_on_certificate.clone(),
        issued_on: row.issued_on,
        expires_on: row.expires_on,
        applying_from: row.applying_from.clone(),
        note: row.note.clone(),
        evidence: row
            .evidence_sha256
            .clone()
            .zip(row.evidence_type.clone())
            .map(|(sha256, content_type)| Evidence {
                sha256,
                content_type,
            }),
        history,
        record_id: None,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

pub fn admin_view(conn: &mut DbConnection, row: &RequestRow) -> QueryResult<AdminRequestView> {
    let mut request = view(conn, row)?;
    request.history = history(conn, &row.id, false)?;
    let body_code: String = issuing_bodies::table
        .find(&row.issuing_body_id)
        .select(issuing_bodies::code)
        .first(conn)?;
    Ok(AdminRequestView {
        request,
        holder_id: row.holder_id.clone(),
        issuing_body_code: body_code,
        outcome: row.outcome.clone(),
        verification_method: row.verification_method.clone(),
        decided_by: row.decided_by.clone(),
        decision_note: row.decision_note.clone(),
    })
}

/// A holder's requests, newest first, one page after `before`.
pub fn list_for_holder(
    conn: &mut DbConnection,
    holder_id: &str,
    before: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<RequestRow>> {
    let mut query = verification_requests::table
        .filter(verification_requests::holder_id.eq(holder_id))
        .select(RequestRow::as_select())
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(verification_requests::id.lt(before.to_owned()));
    }
    query
        .order(verification_requests::id.desc())
        .limit(limit)
        .load(conn)
}

pub fn list_in_state(
    conn: &mut DbConnection,
    state: RequestState,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<RequestRow>> {
    let mut query = verification_requests::table
        .filter(verification_requests::state.eq(state.as_str()))
        .select(RequestRow::as_select())
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(verification_requests::id.gt(after.to_owned()));
    }
    query
        .order(verification_requests::id.asc())
        .limit(limit)
        .load(conn)
}
