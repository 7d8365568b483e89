//! Opening a request: the request, its first event and audit row, its dispatch job and its
//! Idempotency-Key's answer (one statement on PostgreSQL; see `transition.rs`).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Nullable, Text, Timestamp};

use super::queries::RequestRow;
use super::transition::{add_event, new_id, state_details, STATE_CHANGED};
use super::types::{open_key, NewRequest};
use crate::audit;
use crate::db::pg_sql::PgSql;
use crate::db::schema::{jobs, verification_requests};
use crate::db::DbConnection;
use crate::domain::request_state::RequestState;
use crate::idempotency::{ClaimLost, Completion};

/// A submitted request as [`insert`] will store it.
pub fn draft(
    holder_id: &str,
    qualification_id: &str,
    issuing_body_id: &str,
    new: &NewRequest,
) -> RequestRow {
    // Microseconds, the precision PostgreSQL keeps: the answer built from this row then
    // matches what later reads return.
    let at = audit::now_micros();
    RequestRow {
        id: new_id(),
        holder_id: holder_id.to_owned(),
        qualification_id: qualification_id.to_owned(),
        issuing_body_id: issuing_body_id.to_owned(),
        certificate_number: new.certificate_number.clone(),
        name_on_certificate: new.name_on_certificate.clone(),
        issued_on: new.issued_on,
        expires_on: new.expires_on,
        applying_from: new.applying_from.clone(),
        note: new.note.clone(),
        state: RequestState::Submitted.as_str().to_owned(),
        outcome: None,
        verification_method: None,
        certificate_facts: None,
        evidence_sha256: new.evidence.as_ref().map(|e| e.sha256.clone()),
        evidence_type: new.evidence.as_ref().map(|e| e.content_type.clone()),
        first_sent_at: None,
        last_request_jti: None,
        decided_by: None,
        decision_note: None,
        created_at: at,
        updated_at: at,
    }
}

/// The rows a statement inserted.
#[derive(QueryableByName)]
struct Inserted {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Inserts a [`draft`]ed request, its first event, audit row and dispatch job, and the
/// answer its Idempotency-Key will replay. One statement on PostgreSQL, so it needs no
/// transaction there ([`crate::db::write_statement`]); several on SQLite. Fails with
/// [`ClaimLost`], having written nothing, when the key's claim is no longer this one's.
pub fn insert(
    conn: &mut DbConnection,
    row: &RequestRow,
    completion: &Completion<'_>,
) -> QueryResult<()> {
    let (holder_id, at) = (row.holder_id.as_str(), row.created_at);
    let key = open_key(holder_id, &row.qualification_id, &row.certificate_number);
    let submitted = RequestState::Submitted;
    match conn {
        DbConnection::Pg(pg) => {
            // The claim's update comes first and every insert selects from it: a claim a
            // retry took over (its lease ran out) matches nothing, and nothing is written.
            let q = completion
                .in_statement(PgSql::default())
                .sql(
                    ", r AS (INSERT INTO verification_requests (id, holder_id, qualification_id, \
                   issuing_body_id, certificate_number, name_on_certificate, issued_on, expires_on, \
                   applying_from, note, evidence_sha256, evidence_type, state, open_key, created_at, \
                   updated_at) SELECT ",
                )
                .param::<Text, _>(row.id.clone())
                .sql(", ")
                .param::<Text, _>(row.holder_id.clone())
                .sql(", ")
                .param::<Text, _>(row.qualification_id.clone())
                .sql(", ")
                .param::<Text, _>(row.issuing_body_id.clone())
                .sql(", ")
                .param::<Text, _>(row.certificate_number.clone())
                .sql(", ")
                .param::<Text, _>(row.name_on_certificate.clone())
                .sql(", ")
                .param::<Date, _>(row.issued_on)
                .sql(", ")
                .param::<Nullable<Date>, _>(row.expires_on)
                .sql(", ")
                .param::<Text, _>(row.applying_from.clone())
                .sql(", ")
                .param::<Nullable<Text>, _>(row.note.clone())
                .sql(", ")
                .param::<Nullable<Text>, _>(row.evidence_sha256.clone())
                .sql(", ")
                .param::<Nullable<Text>, _>(row.evidence_type.clone())
                .sql(", ")
                .param::<Text, _>(submitted.as_str())
                .sql(", ")
                .param::<Text, _>(key)
                .sql(", ")
                .param::<Timestamp, _>(at)
                .sql(", ")
                .param::<Timestamp, _>(at)
                .sql(
                    " FROM k RETURNING id, holder_id, state, created_at), \
                 e AS (INSERT INTO request_events (id, request_id, state, reason, actor, at) \
                   SELECT ",
                )
                .param::<Text, _>(new_id())
                .sql(
                    ", id, state, NULL, holder_id, created_at FROM r), \
                 a AS (INSERT INTO audit_log (id, at, actor, action, subject, details) SELECT ",
                )
                .param::<Text, _>(new_id())
                .sql(", created_at, holder_id, ")
                .param::<Text, _>(STATE_CHANGED)
                .sql(", id, ")
                .param::<Text, _>(state_details(submitted, None).to_string())
                .sql(
                    " FROM r), \
                 j AS (INSERT INTO jobs (id, kind, request_id, run_at, attempts, created_at) SELECT ",
                )
                .param::<Text, _>(new_id())
                .sql(
                    ", 'dispatch', id, created_at, 0, created_at FROM r) \
                 SELECT count(*) AS n FROM r",
                );
            let inserted: Inserted = q.get_result(pg)?;
            if inserted.n != 1 {
                return Err(diesel::result::Error::QueryBuilderError(Box::new(
                    ClaimLost,
                )));
            }
        }
        DbConnection::Sqlite(_) => {
            diesel::insert_into(verification_requests::table)
                .values((
                    verification_requests::id.eq(&row.id),
                    verification_requests::holder_id.eq(holder_id),
                    verification_requests::qualification_id.eq(&row.qualification_id),
                    verification_requests::issuing_body_id.eq(&row.issuing_body_id),
                    verification_requests::certificate_number.eq(&row.certificate_number),
                    verification_requests::name_on_certificate.eq(&row.name_on_certificate),
                    verification_requests::issued_on.eq(row.issued_on),
                    verification_requests::expires_on.eq(row.expires_on),
                    verification_requests::applying_from.eq(&row.applying_from),
                    verification_requests::note.eq(&row.note),
                    verification_requests::evidence_sha256.eq(&row.evidence_sha256),
                    verification_requests::evidence_type.eq(&row.evidence_type),
                    verification_requests::state.eq(submitted.as_str()),
                    verification_requests::open_key.eq(&key),
                    verification_requests::created_at.eq(at),
                    verification_requests::updated_at.eq(at),
                ))
                .execute(conn)?;
            add_event(conn, &row.id, submitted, None, holder_id, at)?;
            enqueue_dispatch(conn, &row.id, at)?;
            completion.write(conn)?;
        }
    }
    Ok(())
}

/// Queues the request's dispatch, due at once: `at` is when it was opened.
fn enqueue_dispatch(
    conn: &mut DbConnection,
    request_id: &str,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(jobs::table)
        .values((
            jobs::id.eq(new_id()),
            jobs::kind.eq("dispatch"),
            jobs::request_id.eq(request_id),
            jobs::run_at.eq(at),
            jobs::attempts.eq(0),
            jobs::created_at.eq(at),
        ))
        .execute(conn)
        .map(|_| ())
}
