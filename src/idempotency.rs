//! `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header), scoped to the principal
//! that sends it. The fingerprint is SHA-256 of the body's JCS form; keys live 24 hours.
//! Same key and fingerprint → the stored response; same key, other body → 422; the first
//! request still running → 409; no key where one is needed → 400.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use chrono::Duration;
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};
use sha2::{Digest, Sha256};

use crate::db::pg_sql::PgSql;
use crate::db::schema::idempotency_keys;
use crate::db::{write_statement, write_transaction, DbConnection};
use crate::error::ApiError;

const HEADER: &str = "Idempotency-Key";
const KEEP_HOURS: i64 = 24;

/// A claimed key: write its [`Completion`] with the work it answers.
#[derive(Debug, Clone)]
pub struct Claim {
    principal: String,
    key: String,
}

/// The answer a claimed key will replay, written with the work it answers.
pub struct Completion<'a> {
    pub claim: &'a Claim,
    pub status: StatusCode,
    pub body: &'a str,
}

impl Completion<'_> {
    /// Stores the answer, in the caller's transaction.
    pub fn write(&self, conn: &mut DbConnection) -> QueryResult<()> {
        let (principal, key) = (&self.claim.principal, &self.claim.key);
        diesel::update(idempotency_keys::table.find((principal, key)))
            .set((
                idempotency_keys::response_status.eq(i32::from(self.status.as_u16())),
                idempotency_keys::response_body.eq(self.body),
            ))
            .execute(conn)
            .map(|_| ())
    }

    /// Stores the answer as one more part (`k`) of a PostgreSQL data-modifying statement,
    /// for work that is one statement there: it then needs no transaction of its own.
    pub fn in_statement<'q>(&self, q: PgSql<'q>) -> PgSql<'q> {
        q.sql(", k AS (UPDATE idempotency_keys SET response_status = ")
            .param::<Integer, _>(i32::from(self.status.as_u16()))
            .sql(", response_body = ")
            .param::<Text, _>(self.body.to_owned())
            .sql(" WHERE principal = ")
            .param::<Text, _>(self.claim.principal.clone())
            .sql(" AND idem_key = ")
            .param::<Text, _>(self.claim.key.clone())
            .sql(")")
    }
}

/// A stored response (plain data, so it can cross from the blocking pool).
#[derive(Debug, Clone)]
pub struct Stored {
    pub status: StatusCode,
    pub body: String,
    pub replayed: bool,
}

impl Stored {
    pub fn response(self) -> HttpResponse {
        let mut builder = HttpResponse::build(self.status);
        if self.replayed {
            builder.insert_header(("Idempotent-Replayed", "true"));
        }
        builder.content_type("application/json").body(self.body)
    }
}

/// What to do with a request carrying a key.
pub enum Begin {
    /// First time: do the work.
    Fresh(Claim),
    /// Seen before with the same body: answer with what was answered then.
    Replay(Stored),
}

pub fn key_of(req: &HttpRequest) -> Result<String, ApiError> {
    let value = req.headers().get(HEADER).ok_or_else(|| {
        ApiError::bad_request(
            "idempotency_key_missing",
            "This endpoint needs an Idempotency-Key header.",
        )
    })?;
    let key = value.to_str().unwrap_or_default().trim().trim_matches('"');
    if key.is_empty() || key.len() > 255 {
        return Err(ApiError::bad_request(
            "idempotency_key_invalid",
            "The Idempotency-Key must be 1 to 255 visible characters.",
        ));
    }
    Ok(key.to_owned())
}

pub fn fingerprint(body: &serde_json::Value) -> Result<String, ApiError> {
    let canonical = serde_json_canonicalizer::to_string(body).map_err(ApiError::internal)?;
    Ok(hex::encode(Sha256::digest(canonical.as_bytes())))
}

/// Claims the key, committed at once so a concurrent duplicate sees it: a new key costs
/// one statement; a known one is looked at in a transaction.
pub fn begin(
    conn: &mut DbConnection,
    principal: &str,
    key: &str,
    fingerprint: &str,
) -> Result<Begin, ApiError> {
    let now = chrono::Utc::now().naive_utc();
    // ON CONFLICT rather than catching the unique violation: on PostgreSQL a failed insert
    // aborts the transaction, and a savepoint around it costs two more round trips.
    let values = (
        idempotency_keys::principal.eq(principal),
        idempotency_keys::idem_key.eq(key),
        idempotency_keys::fingerprint.eq(fingerprint),
        idempotency_keys::created_at.eq(now),
    );
    let inserted = write_statement(conn, |conn| {
        crate::insert_or_skip!(conn, idempotency_keys::table, values)
    })?;
    if inserted == 1 {
        return Ok(Begin::Fresh(claim(principal, key)));
    }
    write_transaction(conn, |conn| known(conn, principal, key, fingerprint, now))
}

/// A key already stored: past its retention it is claimed again, else its answer is
/// replayed, or refused when the body differs or the first request is still running.
fn known(
    conn: &mut DbConnection,
    principal: &str,
    key: &str,
    fingerprint: &str,
    now: chrono::NaiveDateTime,
) -> Result<Begin, ApiError> {
    // A key past its retention that the periodic purge has not removed yet is new again.
    let reclaimed = diesel::update(
        idempotency_keys::table
            .find((principal, key))
            .filter(idempotency_keys::created_at.lt(retention_cutoff(now))),
    )
    .set((
        idempotency_keys::fingerprint.eq(fingerprint),
        idempotency_keys::response_status.eq(None::<i32>),
        idempotency_keys::response_body.eq(None::<String>),
        idempotency_keys::created_at.eq(now),
    ))
    .execute(conn)?;
    if reclaimed == 1 {
        return Ok(Begin::Fresh(claim(principal, key)));
    }
    let (stored_fingerprint, status, body): (String, Option<i32>, Option<String>) =
        idempotency_keys::table
            .find((principal, key))
            .select((
                idempotency_keys::fingerprint,
                idempotency_keys::response_status,
                idempotency_keys::response_body,
            ))
            .first(conn)?;
    if stored_fingerprint != fingerprint {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "This Idempotency-Key was used with another request body.",
        ));
    }
    match (
        status
            .and_then(|s| u16::try_from(s).ok())
            .and_then(|s| StatusCode::from_u16(s).ok()),
        body,
    ) {
        (Some(status), Some(body)) => Ok(Begin::Replay(Stored {
            status,
            body,
            replayed: true,
        })),
        _ => Err(ApiError::conflict(
            "idempotency_key_in_flight",
            "The first request with this Idempotency-Key is still running.",
        )),
    }
}

fn claim(principal: &str, key: &str) -> Claim {
    Claim {
        principal: principal.to_owned(),
        key: key.to_owned(),
    }
}

fn retention_cutoff(now: chrono::NaiveDateTime) -> chrono::NaiveDateTime {
    now - Duration::hours(KEEP_HOURS)
}

/// Deletes the keys past their retention. Run periodically (by the dispatcher's sweep), not
/// per request: [`begin`] already treats such a key as new, and a delete per request was,
/// on PostgreSQL without fresh statistics, a scan of the whole table each time.
pub fn purge_expired(conn: &mut DbConnection) -> QueryResult<usize> {
    let cutoff = retention_cutoff(chrono::Utc::now().naive_utc());
    diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(cutoff)))
        .execute(conn)
}

/// Releases a key whose request failed, so the client may try again with it.
pub fn abandon(conn: &mut DbConnection, claim: &Claim) -> QueryResult<()> {
    diesel::delete(
        idempotency_keys::table
            .filter(idempotency_keys::principal.eq(&claim.principal))
            .filter(idempotency_keys::idem_key.eq(&claim.key))
            .filter(idempotency_keys::response_status.is_null()),
    )
    .execute(conn)
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_ignores_member_order_and_whitespace() {
        let a = serde_json::json!({"a": 1, "b": [1, 2]});
        let b: serde_json::Value = serde_json::from_str(r#"{ "b": [1,2],  "a": 1 }"#).unwrap();
        assert_eq!(fingerprint(&a).unwrap(), fingerprint(&b).unwrap());
        assert_ne!(
            fingerprint(&a).unwrap(),
            fingerprint(&serde_json::json!({"a": 2, "b": [1, 2]})).unwrap()
        );
    }
}
