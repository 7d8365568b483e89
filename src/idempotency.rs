//! `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header), scoped to the principal
//! that sends it. The fingerprint is SHA-256 of the body's JCS form; keys live 24 hours.
//! Same key and fingerprint → the stored response; same key, other body → 422; the first
//! request still running → 409; no key where one is needed → 400.
//!
//! A claim is held by a token for a lease: a claim that never answered (its connection was
//! cut, its process killed) is taken again by the same key and body once the lease ran out,
//! and an answer is stored only by the token that holds the key, in the work's own
//! transaction, so a slow original and a retry never both do the work.

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

/// A request's key as it asks to claim it: who sends it, the key, the body's fingerprint,
/// the token its claim will carry and how long the claim holds without an answer.
#[derive(Debug, Clone)]
pub struct Request {
    pub principal: String,
    pub key: String,
    pub fingerprint: String,
    token: String,
    lease: Duration,
}

impl Request {
    /// A fresh token: each request holds the key by its own, so a slow original and a
    /// retry that took the key over after the lease can never both write an answer.
    pub fn new(principal: String, key: String, fingerprint: String, lease: Duration) -> Self {
        Self {
            principal,
            key,
            fingerprint,
            token: uuid::Uuid::new_v4().simple().to_string(),
            lease,
        }
    }
}

/// A claimed key: write its [`Completion`] with the work it answers.
#[derive(Debug, Clone)]
pub struct Claim {
    principal: String,
    key: String,
    token: String,
}

/// The completion found the key held by another token: its lease ran out and a retry
/// took it over. The work must roll back (the retry does it instead).
#[derive(Debug, thiserror::Error)]
#[error("the Idempotency-Key was taken over by a retry after its lease ran out")]
pub struct ClaimLost;

/// True when `e` is a [`ClaimLost`] raised by [`Completion`].
pub fn is_claim_lost(e: &diesel::result::Error) -> bool {
    matches!(e, diesel::result::Error::QueryBuilderError(inner) if inner.is::<ClaimLost>())
}

/// What a request whose claim was lost answers: a retry holds the key now, and the key
/// will replay that retry's answer.
pub fn superseded() -> ApiError {
    ApiError::conflict(
        "idempotency_key_in_flight",
        "A retry with this Idempotency-Key took it over after this request ran past its \
         lease; that retry's answer is the one the key keeps.",
    )
}

/// The answer a claimed key will replay, written with the work it answers.
pub struct Completion<'a> {
    pub claim: &'a Claim,
    pub status: StatusCode,
    pub body: &'a str,
}

impl Completion<'_> {
    /// Stores the answer, in the caller's transaction, if the claim still holds the key;
    /// else fails with [`ClaimLost`] so that the transaction rolls back.
    pub fn write(&self, conn: &mut DbConnection) -> QueryResult<()> {
        let c = self.claim;
        let stored = diesel::update(
            idempotency_keys::table
                .find((&c.principal, &c.key))
                .filter(idempotency_keys::claim_token.eq(&c.token))
                .filter(idempotency_keys::response_status.is_null()),
        )
        .set((
            idempotency_keys::response_status.eq(i32::from(self.status.as_u16())),
            idempotency_keys::response_body.eq(self.body),
        ))
        .execute(conn)?;
        match stored {
            1 => Ok(()),
            _ => Err(diesel::result::Error::QueryBuilderError(Box::new(
                ClaimLost,
            ))),
        }
    }

    /// Starts a PostgreSQL data-modifying statement (`WITH k AS (…)`) with the answer's
    /// update, which yields one row while the claim still holds the key and none once it
    /// was lost. The work's own parts must select `FROM k`, so that they write nothing
    /// when it matched nothing, and the caller must then report [`ClaimLost`].
    pub fn in_statement<'q>(&self, q: PgSql<'q>) -> PgSql<'q> {
        q.sql("WITH k AS (UPDATE idempotency_keys SET response_status = ")
            .param::<Integer, _>(i32::from(self.status.as_u16()))
            .sql(", response_body = ")
            .param::<Text, _>(self.body.to_owned())
            .sql(" WHERE principal = ")
            .param::<Text, _>(self.claim.principal.clone())
            .sql(" AND idem_key = ")
            .param::<Text, _>(self.claim.key.clone())
            .sql(" AND claim_token = ")
            .param::<Text, _>(self.claim.token.clone())
            .sql(" AND response_status IS NULL RETURNING 1 AS held)")
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
pub fn begin(conn: &mut DbConnection, req: &Request) -> Result<Begin, ApiError> {
    let now = chrono::Utc::now().naive_utc();
    // ON CONFLICT rather than catching the unique violation: on PostgreSQL a failed insert
    // aborts the transaction, and a savepoint around it costs two more round trips.
    let values = (
        idempotency_keys::principal.eq(&req.principal),
        idempotency_keys::idem_key.eq(&req.key),
        idempotency_keys::fingerprint.eq(&req.fingerprint),
        idempotency_keys::created_at.eq(now),
        idempotency_keys::claim_token.eq(&req.token),
        idempotency_keys::lease_until.eq(now + req.lease),
    );
    let inserted = write_statement(conn, |conn| {
        crate::insert_or_skip!(conn, idempotency_keys::table, values)
    })?;
    if inserted == 1 {
        return Ok(Begin::Fresh(claim(req)));
    }
    write_transaction(conn, |conn| known(conn, req, now))
}

/// A key already stored. It is claimed again when it is past its retention, when its claim
/// never answered and its lease ran out (a cut connection, a killed process) and the body
/// is the same, or when this very request holds it (a retry after a storage failure).
/// Otherwise its answer is replayed, or the request refused when the body differs or the
/// first request is still running.
fn known(
    conn: &mut DbConnection,
    req: &Request,
    now: chrono::NaiveDateTime,
) -> Result<Begin, ApiError> {
    use idempotency_keys::dsl as k;
    let unanswered = k::response_status
        .is_null()
        .and(k::fingerprint.eq(&req.fingerprint));
    let stale = k::lease_until.is_null().or(k::lease_until.lt(now));
    let ours = k::claim_token.eq(&req.token);
    let reclaimed = diesel::update(
        k::idempotency_keys.find((&req.principal, &req.key)).filter(
            k::created_at
                .lt(retention_cutoff(now))
                .or(unanswered.and(stale.or(ours))),
        ),
    )
    .set((
        k::fingerprint.eq(&req.fingerprint),
        k::response_status.eq(None::<i32>),
        k::response_body.eq(None::<String>),
        k::created_at.eq(now),
        k::claim_token.eq(&req.token),
        k::lease_until.eq(now + req.lease),
    ))
    .execute(conn)?;
    if reclaimed == 1 {
        return Ok(Begin::Fresh(claim(req)));
    }
    let (stored_fingerprint, status, body, token): (
        String,
        Option<i32>,
        Option<String>,
        Option<String>,
    ) = k::idempotency_keys
        .find((&req.principal, &req.key))
        .select((
            k::fingerprint,
            k::response_status,
            k::response_body,
            k::claim_token,
        ))
        .first(conn)?;
    if stored_fingerprint != req.fingerprint {
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
        // This request's own answer, written by an attempt whose reply was lost.
        (Some(status), Some(body)) => Ok(Begin::Replay(Stored {
            status,
            body,
            replayed: token.as_deref() != Some(req.token.as_str()),
        })),
        _ => Err(ApiError::conflict(
            "idempotency_key_in_flight",
            "The first request with this Idempotency-Key is still running.",
        )),
    }
}

fn claim(req: &Request) -> Claim {
    Claim {
        principal: req.principal.clone(),
        key: req.key.clone(),
        token: req.token.clone(),
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

/// Releases a key whose request failed, so the client may try again with it at once
/// (if this fails too, the lease releases it). Only while this claim still holds it.
pub fn abandon(conn: &mut DbConnection, claim: &Claim) -> QueryResult<()> {
    diesel::delete(
        idempotency_keys::table
            .filter(idempotency_keys::principal.eq(&claim.principal))
            .filter(idempotency_keys::idem_key.eq(&claim.key))
            .filter(idempotency_keys::claim_token.eq(&claim.token))
            .filter(idempotency_keys::response_status.is_null()),
    )
    .execute(conn)
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_a_retry_took_over_after_its_lease_cannot_store_its_answer() {
        let dir = tempfile::tempdir().unwrap();
        let url = crate::config::DatabaseUrl::Sqlite(dir.path().join("keys.db"));
        let pool = crate::db::build_pool(&url, 1).unwrap();
        let mut conn = pool.get().unwrap();
        crate::db::migrations::run_pending(&mut conn).unwrap();
        let ask = |lease| Request::new("holder:a".into(), "k".into(), "f".into(), lease);
        let answer = |claim| Completion {
            claim,
            status: StatusCode::CREATED,
            body: "{}",
        };
        // A lease already over: as if the original had been running for longer than it.
        let Begin::Fresh(lost) = begin(&mut conn, &ask(Duration::seconds(-1))).unwrap() else {
            panic!("a new key is claimed");
        };
        let retry = ask(Duration::seconds(60));
        let Begin::Fresh(held) = begin(&mut conn, &retry).unwrap() else {
            panic!("a claim past its lease is taken again");
        };
        let e = write_transaction(&mut conn, |c| answer(&lost).write(c)).unwrap_err();
        assert!(is_claim_lost(&e), "{e}");
        assert!(matches!(
            begin(&mut conn, &ask(Duration::seconds(60))),
            Err(e) if e.code == "idempotency_key_in_flight"
        ));
        write_transaction(&mut conn, |c| answer(&held).write(c)).unwrap();
        // The retry's own next attempt gets its answer as its own; anyone else, a replay.
        let Begin::Replay(own) = begin(&mut conn, &retry).unwrap() else {
            panic!("answered");
        };
        assert!(!own.replayed);
        let Begin::Replay(other) = begin(&mut conn, &ask(Duration::seconds(60))).unwrap() else {
            panic!("answered");
        };
        assert!(other.replayed);
    }

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
