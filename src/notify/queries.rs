//! The outbox table: insert, claim due messages, and record what a send did.

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text, Timestamp};

use super::Mail;
use crate::db::pg_sql::PgSql;
use crate::db::schema::mail_outbox;
use crate::db::{self, DbConnection};

pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

pub fn insert(
    conn: &mut DbConnection,
    id: &str,
    message_id: &str,
    mail: &Mail<'_>,
) -> QueryResult<()> {
    let at = now();
    diesel::insert_into(mail_outbox::table)
        .values((
            mail_outbox::id.eq(id),
            mail_outbox::message_id.eq(message_id),
            mail_outbox::recipient.eq(mail.to),
            mail_outbox::subject.eq(mail.subject),
            mail_outbox::body.eq(mail.body),
            mail_outbox::created_at.eq(at),
            mail_outbox::attempts.eq(0),
            mail_outbox::next_attempt_at.eq(at),
        ))
        .execute(conn)
        .map(drop)
}

/// A claimed message, as the sender needs it.
#[derive(Debug, Clone, Queryable, QueryableByName)]
pub struct Outgoing {
    #[diesel(sql_type = Text)]
    pub id: String,
    #[diesel(sql_type = Text)]
    pub message_id: String,
    #[diesel(sql_type = Text)]
    pub recipient: String,
    #[diesel(sql_type = Text)]
    pub subject: String,
    #[diesel(sql_type = Text)]
    pub body: String,
    #[diesel(sql_type = Timestamp)]
    pub created_at: NaiveDateTime,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
}

/// Claims up to `limit` due messages until `lease` from now: `next_attempt_at` moves to the
/// lease's end, so a sender that dies mid-send leaves the message due again after it (at
/// least once). On PostgreSQL several instances claim with `FOR UPDATE SKIP LOCKED`.
pub fn claim_due(
    conn: &mut DbConnection,
    lease: chrono::Duration,
    limit: i64,
) -> QueryResult<Vec<Outgoing>> {
    let at = now();
    let until = at + lease;
    match conn {
        DbConnection::Pg(pg) => PgSql::new("UPDATE mail_outbox SET next_attempt_at = ")
            .param::<Timestamp, _>(until)
            .sql(", attempts = attempts + 1 WHERE id IN (SELECT id FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ")
            .param::<Timestamp, _>(at)
            .sql(" ORDER BY next_attempt_at LIMIT ")
            .param::<BigInt, _>(limit)
            .sql(" FOR UPDATE SKIP LOCKED) RETURNING id, message_id, recipient, subject, body, created_at, attempts")
            .load(pg),
        // SQLite has one writer: BEGIN IMMEDIATE already serializes claimers.
        DbConnection::Sqlite(_) => db::write_transaction(conn, |conn| {
            let due: Vec<Outgoing> = mail_outbox::table
                .filter(mail_outbox::sent_at.is_null())
                .filter(mail_outbox::failed_at.is_null())
                .filter(mail_outbox::next_attempt_at.le(at))
                .order(mail_outbox::next_attempt_at.asc())
                .limit(limit)
                .select((
                    mail_outbox::id,
                    mail_outbox::message_id,
                    mail_outbox::recipient,
                    mail_outbox::subject,
                    mail_outbox::body,
                    mail_outbox::created_at,
                    mail_outbox::attempts + 1,
                ))
                .load(conn)?;
            let ids: Vec<&String> = due.iter().map(|m| &m.id).collect();
            diesel::update(mail_outbox::table.filter(mail_outbox::id.eq_any(ids)))
                .set((
                    mail_outbox::next_attempt_at.eq(until),
                    mail_outbox::attempts.eq(mail_outbox::attempts + 1),
                ))
                .execute(conn)?;
            Ok(due)
        }),
    }
}

pub fn mark_sent(conn: &mut DbConnection, id: &str) -> QueryResult<()> {
    diesel::update(mail_outbox::table.find(id))
        .set(mail_outbox::sent_at.eq(now()))
        .execute(conn)
        .map(drop)
}

/// A failed attempt: due again at `retry_at`, or given up when that is `None`.
pub fn mark_failed(
    conn: &mut DbConnection,
    id: &str,
    error: &str,
    retry_at: Option<NaiveDateTime>,
) -> QueryResult<()> {
    let target = mail_outbox::table.find(id);
    match retry_at {
        Some(at) => diesel::update(target)
            .set((
                mail_outbox::next_attempt_at.eq(at),
                mail_outbox::last_error.eq(error),
            ))
            .execute(conn),
        None => diesel::update(target)
            .set((
                mail_outbox::failed_at.eq(now()),
                mail_outbox::last_error.eq(error),
            ))
            .execute(conn),
    }
    .map(drop)
}
