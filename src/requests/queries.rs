//! Request storage. Every state change goes through `transition`, which checks the
//! domain's table and writes the event in the caller's transaction.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::types::{
    holder_reason, open_key, AdminRequestView, Evidence, HistoryItem, NewRequest, RequestView,
};
use crate::db::schema::{
    issuing_bodies, jobs, qualifications, request_events, verification_requests,
};
use crate::db::DbConnection;
use crate::domain::request_state::RequestState;
use crate::error::ApiError;

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

fn now() -> NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

pub fn add_event(
    conn: &mut DbConnection,
    request_id: &str,
    state: RequestState,
    reason: Option<&str>,
    actor: &str,
) -> QueryResult<()> {
    diesel::insert_into(request_events::table)
        .values((
            request_events::id.eq(new_id()),
            request_events::request_id.eq(request_id),
            request_events::state.eq(state.as_str()),
            request_events::reason.eq(reason),
            request_events::actor.eq(actor),
            request_events::at.eq(now()),
        ))
        .execute(conn)?;
    // Every state change also goes to the chained audit log (DESIGN.md, "Privacy and audit").
    crate::audit::append(
        conn,
        &crate::audit::Entry {
            actor,
            action: "request.state_changed",
            subject: Some(request_id),
            details: serde_json::json!({"state": state.as_str(), "reason": reason}),
        },
    )
}

/// Queues work for the dispatcher, due at `run_at`.
pub fn enqueue(
    conn: &mut DbConnection,
    kind: &str,
    request_id: &str,
    run_at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(jobs::table)
        .values((
            jobs::id.eq(new_id()),
            jobs::kind.eq(kind),
            jobs::request_id.eq(request_id),
            jobs::run_at.eq(run_at),
            jobs::attempts.eq(0),
            jobs::created_at.eq(now()),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Inserts a submitted request, its first event and its dispatch job.
pub fn insert(
    conn: &mut DbConnection,
    holder_id: &str,
    qualification_id: &str,
    issuing_body_id: &str,
    new: &NewRequest,
) -> QueryResult<String> {
    let id = new_id();
    let at = now();
    diesel::insert_into(verification_requests::table)
        .values((
            verification_requests::id.eq(&id),
            verification_requests::holder_id.eq(holder_id),
            verification_requests::qualification_id.eq(qualification_id),
            verification_requests::issuing_body_id.eq(issuing_body_id),
            verification_requests::certificate_number.eq(&new.certificate_number),
            verification_requests::name_on_certificate.eq(&new.name_on_certificate),
            verification_requests::issued_on.eq(new.issued_on),
            verification_requests::expires_on.eq(new.expires_on),
            verification_requests::applying_from.eq(&new.applying_from),
            verification_requests::note.eq(&new.note),
            verification_requests::state.eq(RequestState::Submitted.as_str()),
            verification_requests::open_key.eq(open_key(
                holder_id,
                qualification_id,
                &new.certificate_number,
            )),
            verification_requests::created_at.eq(at),
            verification_requests::updated_at.eq(at),
        ))
        .execute(conn)?;
    add_event(conn, &id, RequestState::Submitted, None, holder_id)?;
    enqueue(conn, "dispatch", &id, at)?;
    Ok(id)
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<RequestRow>> {
    verification_requests::table
        .find(id)
        .select(RequestRow::as_select())
        .first(conn)
        .optional()
}

/// Moves a request to `to` if the table allows it from its current state; records the event.
pub fn transition(
    conn: &mut DbConnection,
    row: &RequestRow,
    to: RequestState,
    reason: Option<&str>,
    actor: &str,
) -> Result<(), ApiError> {
    let from = row.state();
    from.become_(to)
        .map_err(|e| ApiError::conflict("invalid_transition", e.to_string()))?;
    // Guarded by the state read before: a concurrent change makes this update miss.
    let updated = diesel::update(
        verification_requests::table
            .find(&row.id)
            .filter(verification_requests::state.eq(from.as_str())),
    )
    .set((
        verification_requests::state.eq(to.as_str()),
        verification_requests::open_key.eq(if to.is_open() {
            Some(open_key(
                &row.holder_id,
                &row.qualification_id,
                &row.certificate_number,
            ))
        } else {
            None
        }),
        verification_requests::updated_at.eq(now()),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Err(ApiError::conflict(
            "state_changed",
            "The request changed meanwhile; read it again.",
        ));
    }
    add_event(conn, &row.id, to, reason, actor)?;
    let dispatching =
        |s: RequestState| matches!(s, RequestState::Submitted | RequestState::AwaitingIssuer);
    if dispatching(from) && !dispatching(to) {
        // Nothing is left for the dispatcher to send; a job kept would only be claimed to be
        // dropped (or, for a re-ask, wait its full delay first). Only these two states ever
        // have a job, so leaving any other has none to delete.
        diesel::delete(jobs::table.filter(jobs::request_id.eq(&row.id))).execute(conn)?;
    }
    Ok(())
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

pub fn view(conn: &mut DbConnection, row: &RequestRow) -> QueryResult<RequestView> {
    let code: String = qualifications::table
        .find(&row.qualification_id)
        .select(qualifications::code)
        .first(conn)?;
    Ok(RequestView {
        id: row.id.clone(),
        state: row.state(),
        qualification_id: row.qualification_id.clone(),
        qualification_code: code,
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
        history: history(conn, &row.id, true)?,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
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
