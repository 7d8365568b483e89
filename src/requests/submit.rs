//! Opening a request under its Idempotency-Key, through storage failures: the claim, the
//! request's insert (which stores the key's answer) and, when that fails, the release.
//!
//! A transient storage failure (a cut connection, a serialization failure) is met by
//! running the same submission again on a fresh connection with the same claim token:
//! [`idempotency::begin`] hands this request back its own claim, or its own answer when
//! the insert did commit and only its reply was lost. That is safe because nothing leaves
//! the platform here (the dispatcher sends the request later) and the key fences the work.

use std::time::Instant;

use actix_web::http::StatusCode;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::queries;
use super::types::{HistoryItem, NewRequest};
use crate::app::AppState;
use crate::auth::Holder;
use crate::db::{self, DbConnection};
use crate::domain::request_state::RequestState;
use crate::error::{ApiError, FieldError};
use crate::idempotency::{self, Begin, Claim, Completion, Stored};
use crate::registry;

/// Opens the request `new` for `holder` under the key, or replays the key's answer.
pub async fn submit(
    state: &AppState,
    holder: Holder,
    key: idempotency::Request,
    new: NewRequest,
) -> Result<Stored, ApiError> {
    let lease = state.settings.idempotency_lease;
    let started = Instant::now();
    let pool = state.pool.clone();
    db::run_attempts(&state.pool, move |conn, attempt| {
        // Past half the lease a retry could meet a claim already taken over; the client
        // gets the 503 and its own retry finds the key as the fence left it.
        let last = attempt == db::ATTEMPTS || started.elapsed() > lease / 2;
        let claim = match idempotency::begin(conn, &key)? {
            Begin::Replay(stored) => return Ok(stored),
            Begin::Fresh(claim) => claim,
        };
        match open(conn, &holder, &new, &claim) {
            Ok(body) => Ok(Stored {
                status: StatusCode::CREATED,
                body,
                replayed: false,
            }),
            // Tried again with this claim, which the next attempt's `begin` hands back.
            Err(e) if e.is_retryable() && !last => Err(e),
            // Given up on: released, and not run again even if it could be.
            Err(e) => Err(release(&pool, conn, &claim, e).not_retried()),
        }
    })
    .await
}

/// Gives the key back after a failure, so the client may retry with it at once. When the
/// storage failed, the release is tried on a fresh connection; if it fails too, the
/// claim's lease releases the key. The request's own error is what is answered.
fn release(pool: &db::Pool, conn: &mut DbConnection, claim: &Claim, error: ApiError) -> ApiError {
    let released = match error.is_storage_failure() {
        false => db::write_statement(conn, |c| idempotency::abandon(c, claim)).map_err(Into::into),
        // An idle connection if there is one, without waiting: the client is owed its 503.
        true => match pool.try_get() {
            Some(mut fresh) => db::write_statement(&mut fresh, |c| idempotency::abandon(c, claim))
                .map_err(ApiError::from),
            None => Err(ApiError::unavailable(anyhow::anyhow!("no idle connection"))),
        },
    };
    if let Err(e) = released {
        tracing::warn!(error = %e, "the Idempotency-Key stays claimed until its lease runs out");
    }
    error
}

/// Checks the qualification and inserts the request with the key's answer; returns the
/// answer's body. The qualification is read outside any transaction: the insert is one
/// statement on PostgreSQL, and on SQLite the write lock is not held over the read.
fn open(
    conn: &mut DbConnection,
    holder: &Holder,
    new: &NewRequest,
    claim: &Claim,
) -> Result<String, ApiError> {
    let (q, body) = registry::find_qualification(conn, &new.qualification)?.ok_or_else(|| {
        ApiError::validation(vec![FieldError::new(
            "qualification_id",
            "unknown",
            "No such qualification.",
        )])
    })?;
    if q.status != "listed" {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "qualification_not_listed",
            "This qualification has been removed from the list.",
        ));
    }
    if body.status != "active" {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "issuing_body_suspended",
            "The issuing body of this qualification is suspended.",
        ));
    }
    let row = queries::draft(&holder.id, &q.id, &body.id, new);
    // Answered with what is about to be written: reading it back would only repeat it.
    let submitted = HistoryItem {
        state: RequestState::Submitted,
        at: row.created_at,
        reason: None,
    };
    let view = queries::view_of(&row, q.code.clone(), vec![submitted]);
    let text = serde_json::to_string(&view).map_err(ApiError::internal)?;
    let completion = Completion {
        claim,
        status: StatusCode::CREATED,
        body: &text,
    };
    match db::write_statement(conn, |c| queries::insert(c, &row, &completion)) {
        Ok(()) => Ok(text),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            Err(ApiError::conflict(
                "open_request_exists",
                "An open request for this certificate exists.",
            ))
        }
        Err(e) if idempotency::is_claim_lost(&e) => Err(idempotency::superseded()),
        Err(e) => Err(e.into()),
    }
}
