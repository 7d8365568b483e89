//! The append-only, hash-chained audit log (DESIGN.md, "Privacy and audit").
//!
//! Rows are appended unchained by [`append`], inside the transaction that causes them; the
//! chain linker gives them their place (seq, prev_hash, hash) after commit, so no request
//! waits on the chain head.

pub mod chain;
pub mod cli;
pub mod routes;

use chrono::{NaiveDateTime, Timelike};
use diesel::prelude::*;
use serde_json::Value;

use crate::db::schema::audit_log;
use crate::db::DbConnection;

/// One thing that happened: who did what to which subject, with the details that matter.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    /// `agency:<id>`, `admin:<id>`, `holder:<id>`, `issuer:<code>`, `system`, or `cli`.
    pub actor: &'a str,
    /// Dotted, stable names: `record.read`, `record.suspended`, `share_code.checked`,
    /// `review.decided`, `eligibility.decided`, …
    pub action: &'a str,
    /// The record, request or code the action was about, where there is one.
    pub subject: Option<&'a str>,
    pub details: Value,
}

/// A stored row; `seq`, `prev_hash` and `hash` are None until the linker reaches it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    pub id: String,
    pub at: NaiveDateTime,
    pub actor: String,
    pub action: String,
    pub subject: Option<String>,
    pub details: String,
    pub seq: Option<i64>,
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
}

/// Now, cut to the microseconds PostgreSQL keeps, so a row hashes the same on both backends.
pub fn now_micros() -> NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    let nanos = now.nanosecond() / 1_000 * 1_000;
    now.with_nanosecond(nanos).unwrap_or(now)
}

/// Appends an unchained row; call it inside the transaction of the change it describes.
pub fn append(conn: &mut DbConnection, entry: &Entry<'_>) -> QueryResult<()> {
    append_many(conn, std::slice::from_ref(entry))
}

/// Appends several unchained rows in one statement (the access-log writer's batches).
pub fn append_many(conn: &mut DbConnection, entries: &[Entry<'_>]) -> QueryResult<()> {
    let at = now_micros();
    let rows: Vec<_> = entries
        .iter()
        .map(|entry| {
            (
                audit_log::id.eq(uuid::Uuid::now_v7().to_string()),
                audit_log::at.eq(at),
                audit_log::actor.eq(entry.actor),
                audit_log::action.eq(entry.action),
                audit_log::subject.eq(entry.subject),
                audit_log::details.eq(entry.details.to_string()),
            )
        })
        .collect();
    // Multi-row INSERT is backend-specific SQL in diesel: run it on the concrete connection.
    match conn {
        DbConnection::Sqlite(c) => diesel::insert_into(audit_log::table)
            .values(rows)
            .execute(c),
        DbConnection::Pg(c) => diesel::insert_into(audit_log::table)
            .values(rows)
            .execute(c),
    }
    .map(|_| ())
}

/// What narrows `GET /v1/admin/audit`; every filter is an exact match.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub subject: Option<String>,
    pub action: Option<String>,
    pub actor: Option<String>,
}

/// Rows newest first (ids are UUIDv7, so by id), `limit` of them after the cursor `before`.
pub fn list(
    conn: &mut DbConnection,
    filter: &Filter,
    before: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<AuditRow>> {
    let mut query = audit_log::table.select(AuditRow::as_select()).into_boxed();
    if let Some(subject) = &filter.subject {
        query = query.filter(audit_log::subject.eq(subject.clone()));
    }
    if let Some(action) = &filter.action {
        query = query.filter(audit_log::action.eq(action.clone()));
    }
    if let Some(actor) = &filter.actor {
        query = query.filter(audit_log::actor.eq(actor.clone()));
    }
    if let Some(before) = before {
        query = query.filter(audit_log::id.lt(before.to_owned()));
    }
    query.order(audit_log::id.desc()).limit(limit).load(conn)
}
