//! Moving a request between states: the request, its event and its audit row (and its job
//! changes) in the caller's transaction. Opening one is in `opening.rs`.
//!
//! On PostgreSQL each is one statement (data-modifying CTEs): a statement there is a round
//! trip and a context switch on both sides, and the issuing pipeline is mostly made of
//! these writes. SQLite runs in-process, where a statement is a function call, so it keeps
//! one statement per row.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use super::queries::RequestRow;
use super::types::open_key;
use crate::audit::{self, Entry};
use crate::db::pg_sql::PgSql;
use crate::db::schema::{jobs, request_events, verification_requests};
use crate::db::DbConnection;
use crate::domain::request_state::RequestState;
use crate::error::ApiError;

/// The problem code of a transition whose request changed meanwhile (its guard missed).
pub const STATE_CHANGED_CODE: &str = "state_changed";

/// The action of the audit row every state change writes.
pub(super) const STATE_CHANGED: &str = "request.state_changed";

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

pub(super) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The details of a state change's audit row.
pub(super) fn state_details(state: RequestState, reason: Option<&str>) -> serde_json::Value {
    serde_json::json!({"state": state.as_str(), "reason": reason})
}

fn is_dispatching(s: RequestState) -> bool {
    matches!(s, RequestState::Submitted | RequestState::AwaitingIssuer)
}

pub(super) fn add_event(
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
            details: state_details(state, reason),
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
            STATE_CHANGED_CODE,
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
                    state_details(s.state, s.reason).to_string(),
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
