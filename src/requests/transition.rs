//! The write side of requests: opening one and moving it between states. Each writes the
//! request, its event and its audit row (and its job changes) in the caller's transaction.
//!
//! On PostgreSQL each is one statement (data-modifying CTEs): a statement there is a round
//! trip and a context switch on both sides, and the issuing pipeline is mostly made of
//! these writes. SQLite runs in-process, where a statement is a function call, so it keeps
//! one statement per row.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Nullable, Text, Timestamp};

use super::queries::RequestRow;
use super::types::{open_key, NewRequest};
use crate::audit::{self, Entry};
use crate::db::pg_sql::PgSql;
use crate::db::schema::{jobs, request_events, verification_requests};
use crate::db::DbConnection;
use crate::domain::request_state::RequestState;
use crate::error::ApiError;

/// The action of the audit row every state change writes.
const STATE_CHANGED: &str = "request.state_changed";

/// The outbound request about to be sent (the dispatcher's move to `awaiting_issuer`).
pub struct Outbound<'a> {
    pub jti: &'a str,
    pub first_sent_at: NaiveDateTime,
}

/// What settled the request, and who said so.
pub struct Decision<'a> {
    pub outcome: &'a str,
    pub method: &'a str,
    pub certificate_facts: Option<&'a str>,
    pub decided_by: &'a str,
    pub note: Option<&'a str>,
}

/// What a transition writes besides the state, in the same statement where it can.
#[derive(Default)]
pub struct Also<'a> {
    pub outbound: Option<Outbound<'a>>,
    pub decision: Option<Decision<'a>>,
    /// A state the request moves on to in the same write (`confirmed`, then `issued`): the
    /// history shows both, the row is written once.
    pub then: Option<Step<'a>>,
    /// A further audit row caused by the same change.
    pub audit: Option<Entry<'a>>,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

fn state_details(state: RequestState, reason: Option<&str>) -> String {
    serde_json::json!({"state": state.as_str(), "reason": reason}).to_string()
}

fn is_dispatching(s: RequestState) -> bool {
    matches!(s, RequestState::Submitted | RequestState::AwaitingIssuer)
}

/// Inserts a submitted request, its first event and its dispatch job; returns the row as
/// stored, so the caller need not read it back.
pub fn insert(
    conn: &mut DbConnection,
    holder_id: &str,
    qualification_id: &str,
    issuing_body_id: &str,
    new: &NewRequest,
) -> QueryResult<RequestRow> {
    // Microseconds, the precision PostgreSQL keeps: the answer built from this row then
    // matches what later reads return.
    let at = audit::now_micros();
    let row = RequestRow {
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
        evidence_sha256: None,
        evidence_type: None,
        first_sent_at: None,
        last_request_jti: None,
        decided_by: None,
        decision_note: None,
        created_at: at,
        updated_at: at,
    };
    let key = open_key(holder_id, qualification_id, &new.certificate_number);
    let submitted = RequestState::Submitted;
    match conn {
        DbConnection::Pg(pg) => {
            PgSql::new(
                "WITH r AS (INSERT INTO verification_requests (id, holder_id, qualification_id, \
                   issuing_body_id, certificate_number, name_on_certificate, issued_on, expires_on, \
                   applying_from, note, state, open_key, created_at, updated_at) VALUES (",
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
            .param::<Text, _>(submitted.as_str())
            .sql(", ")
            .param::<Text, _>(key)
            .sql(", ")
            .param::<Timestamp, _>(at)
            .sql(", ")
            .param::<Timestamp, _>(at)
            .sql(
                ") RETURNING id, holder_id, state, created_at), \
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
            .param::<Text, _>(state_details(submitted, None))
            .sql(
                " FROM r), \
                 j AS (INSERT INTO jobs (id, kind, request_id, run_at, attempts, created_at) SELECT ",
            )
            .param::<Text, _>(new_id())
            .sql(", 'dispatch', id, created_at, 0, created_at FROM r) SELECT count(*) AS n FROM r")
            .execute(pg)?;
        }
        DbConnection::Sqlite(_) => {
            diesel::insert_into(verification_requests::table)
                .values((
                    verification_requests::id.eq(&row.id),
                    verification_requests::holder_id.eq(holder_id),
                    verification_requests::qualification_id.eq(qualification_id),
                    verification_requests::issuing_body_id.eq(issuing_body_id),
                    verification_requests::certificate_number.eq(&row.certificate_number),
                    verification_requests::name_on_certificate.eq(&row.name_on_certificate),
                    verification_requests::issued_on.eq(row.issued_on),
                    verification_requests::expires_on.eq(row.expires_on),
                    verification_requests::applying_from.eq(&row.applying_from),
                    verification_requests::note.eq(&row.note),
                    verification_requests::state.eq(submitted.as_str()),
                    verification_requests::open_key.eq(&key),
                    verification_requests::created_at.eq(at),
                    verification_requests::updated_at.eq(at),
                ))
                .execute(conn)?;
            add_event(conn, &row.id, submitted, None, holder_id, at)?;
            enqueue(conn, "dispatch", &row.id, at)?;
        }
    }
    Ok(row)
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
            jobs::created_at.eq(audit::now_micros()),
        ))
        .execute(conn)
        .map(|_| ())
}

fn add_event(
    conn: &mut DbConnection,
    request_id: &str,
    state: RequestState,
    reason: Option<&str>,
    actor: &str,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(request_events::table)
        .values((
            request_events::id.eq(new_id()),
            request_events::request_id.eq(request_id),
            request_events::state.eq(state.as_str()),
            request_events::reason.eq(reason),
            request_events::actor.eq(actor),
            request_events::at.eq(at),
        ))
        .execute(conn)?;
    // Every state change also goes to the chained audit log (DESIGN.md, "Privacy and audit").
    audit::append(
        conn,
        &Entry {
            actor,
            action: STATE_CHANGED,
            subject: Some(request_id),
            details: serde_json::json!({"state": state.as_str(), "reason": reason}),
        },
    )
}

/// Moves a request to `to` if the table allows it from its current state; records the event.
pub fn transition(
    conn: &mut DbConnection,
    row: &RequestRow,
    to: RequestState,
    reason: Option<&str>,
    actor: &str,
) -> Result<(), ApiError> {
    transition_with(conn, row, to, reason, actor, &Also::default())
}

/// [`transition`], writing `also` with it.
pub fn transition_with(
    conn: &mut DbConnection,
    row: &RequestRow,
    to: RequestState,
    reason: Option<&str>,
    actor: &str,
    also: &Also<'_>,
) -> Result<(), ApiError> {
    let from = row.state();
    let mut steps = vec![Step {
        state: to,
        reason,
        actor,
    }];
    steps.extend(also.then);
    let mut at_state = from;
    for step in &steps {
        at_state
            .become_(step.state)
            .map_err(|e| ApiError::conflict("invalid_transition", e.to_string()))?;
        at_state = step.state;
    }
    let last = at_state;
    let change = Change {
        row,
        from,
        steps,
        also,
        at: audit::now_micros(),
        open_key: last.is_open().then(|| {
            open_key(
                &row.holder_id,
                &row.qualification_id,
                &row.certificate_number,
            )
        }),
        // Nothing is left for the dispatcher to send; a job kept would only be claimed to be
        // dropped (or, for a re-ask, wait its full delay first). Only these two states ever
        // have a job, so leaving any other has none to delete.
        drops_jobs: is_dispatching(from) && !is_dispatching(last),
    };
    let updated = match conn {
        DbConnection::Pg(pg) => change.write_pg(pg)?,
        DbConnection::Sqlite(_) => change.write_sqlite(conn)?,
    };
    if updated == 0 {
        return Err(ApiError::conflict(
            "state_changed",
            "The request changed meanwhile; read it again.",
        ));
    }
    Ok(())
}

/// One state the request passes through, with its history reason and actor.
#[derive(Clone, Copy)]
pub struct Step<'a> {
    pub state: RequestState,
    pub reason: Option<&'a str>,
    pub actor: &'a str,
}

struct Change<'a> {
    row: &'a RequestRow,
    from: RequestState,
    /// At least one; the request ends in the last.
    steps: Vec<Step<'a>>,
    also: &'a Also<'a>,
    at: NaiveDateTime,
    open_key: Option<String>,
    drops_jobs: bool,
}

impl Change<'_> {
    fn last(&self) -> RequestState {
        self.steps.last().map_or(self.from, |s| s.state)
    }

    /// Guarded by the state read before: a concurrent change makes the update miss, and
    /// then nothing else is written either.
    fn write_pg(&self, pg: &mut PgConnection) -> QueryResult<usize> {
        let (at, id) = (self.at, self.row.id.as_str());
        let mut q = PgSql::new("WITH u AS (UPDATE verification_requests SET state = ")
            .param::<Text, _>(self.last().as_str())
            .sql(", open_key = ")
            .param::<Nullable<Text>, _>(self.open_key.clone())
            .sql(", updated_at = ")
            .param::<Timestamp, _>(at);
        if let Some(o) = &self.also.outbound {
            q = q
                .sql(", last_request_jti = ")
                .param::<Text, _>(o.jti.to_owned())
                .sql(", first_sent_at = ")
                .param::<Timestamp, _>(o.first_sent_at);
        }
        if let Some(d) = &self.also.decision {
            q = q
                .sql(", outcome = ")
                .param::<Text, _>(d.outcome.to_owned())
                .sql(", verification_method = ")
                .param::<Text, _>(d.method.to_owned())
                .sql(", certificate_facts = ")
                .param::<Nullable<Text>, _>(d.certificate_facts.map(str::to_owned))
                .sql(", decided_by = ")
                .param::<Text, _>(d.decided_by.to_owned())
                .sql(", decision_note = ")
                .param::<Nullable<Text>, _>(d.note.map(str::to_owned));
        }
        q = q
            .sql(" WHERE id = ")
            .param::<Text, _>(id.to_owned())
            .sql(" AND state = ")
            .param::<Text, _>(self.from.as_str())
            .sql(" RETURNING id), e AS (INSERT INTO request_events (id, request_id, state, reason, actor, at) \
                  SELECT v.id, u.id, v.state, v.reason, v.actor, v.at FROM u, (VALUES ");
        for (i, step) in self.steps.iter().enumerate() {
            q = q
                .sql(if i == 0 { "(" } else { ", (" })
                .param::<Text, _>(new_id())
                .sql(", ")
                .param::<Text, _>(step.state.as_str())
                .sql(", ")
                .param::<Nullable<Text>, _>(step.reason.map(str::to_owned))
                .sql(", ")
                .param::<Text, _>(step.actor.to_owned())
                .sql(", ")
                .param::<Timestamp, _>(at)
                .sql(")");
        }
        q = q.sql(
            ") AS v(id, state, reason, actor, at)), \
             a AS (INSERT INTO audit_log (id, at, actor, action, subject, details) \
               SELECT v.id, v.at, v.actor, v.action, v.subject, v.details FROM u, (VALUES ",
        );
        let mut entries: Vec<(&str, &str, Option<&str>, String)> = self
            .steps
            .iter()
            .map(|s| {
                (
                    s.actor,
                    STATE_CHANGED,
                    Some(id),
                    state_details(s.state, s.reason),
                )
            })
            .collect();
        if let Some(e) = &self.also.audit {
            entries.push((e.actor, e.action, e.subject, e.details.to_string()));
        }
        for (i, (actor, action, subject, details)) in entries.into_iter().enumerate() {
            q = q
                .sql(if i == 0 { "(" } else { ", (" })
                .param::<Text, _>(new_id())
                .sql(", ")
                .param::<Timestamp, _>(at)
                .sql(", ")
                .param::<Text, _>(actor.to_owned())
                .sql(", ")
                .param::<Text, _>(action.to_owned())
                .sql(", ")
                .param::<Nullable<Text>, _>(subject.map(str::to_owned))
                .sql(", ")
                .param::<Text, _>(details)
                .sql(")");
        }
        q = q.sql(") AS v(id, at, actor, action, subject, details))");
        if self.drops_jobs {
            q = q.sql(", j AS (DELETE FROM jobs WHERE request_id IN (SELECT id FROM u))");
        }
        let count: Count = q.sql(" SELECT count(*) AS n FROM u").get_result(pg)?;
        Ok(count.n as usize)
    }

    fn write_sqlite(&self, conn: &mut DbConnection) -> QueryResult<usize> {
        use verification_requests as vr;
        let outbound = self.also.outbound.as_ref();
        let decision = self.also.decision.as_ref();
        let updated = diesel::update(
            vr::table
                .find(&self.row.id)
                .filter(vr::state.eq(self.from.as_str())),
        )
        .set((
            vr::state.eq(self.last().as_str()),
            vr::open_key.eq(&self.open_key),
            vr::updated_at.eq(self.at),
            // None leaves a column out of the UPDATE.
            outbound.map(|o| vr::last_request_jti.eq(o.jti)),
            outbound.map(|o| vr::first_sent_at.eq(o.first_sent_at)),
            decision.map(|d| vr::outcome.eq(d.outcome)),
            decision.map(|d| vr::verification_method.eq(d.method)),
            decision.map(|d| vr::certificate_facts.eq(d.certificate_facts)),
            decision.map(|d| vr::decided_by.eq(d.decided_by)),
            decision.map(|d| vr::decision_note.eq(d.note)),
        ))
        .execute(conn)?;
        if updated == 0 {
            return Ok(0);
        }
        for step in &self.steps {
            add_event(
                conn,
                &self.row.id,
                step.state,
                step.reason,
                step.actor,
                self.at,
            )?;
        }
        if self.drops_jobs {
            diesel::delete(jobs::table.filter(jobs::request_id.eq(&self.row.id))).execute(conn)?;
        }
        if let Some(entry) = &self.also.audit {
            audit::append(conn, entry)?;
        }
        Ok(updated)
    }
}
