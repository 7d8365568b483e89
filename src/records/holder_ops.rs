//! What a holder does with their own records — list them, read one, make and withdraw
//! share codes, see who read them — as operations that the API routes
//! (`holder_routes.rs`) and the portal pages (`web::portal`) both call.

use chrono::NaiveDateTime;

use super::holder_queries as hq;
pub use super::holder_queries::{AccessRow, LiveCode};
use super::queries::{self, RecordRow};
use super::share_code::ShareCode;
use crate::app::AppState;
use crate::auth::Holder;
use crate::db::{self, write_transaction};
use crate::error::{ApiError, FieldError};

/// The longest a share code may work.
pub const MAX_SHARE_DAYS: i64 = 180;

/// The holder's records, newest first: up to `limit` after the cursor (a record id).
pub async fn records(
    state: &AppState,
    holder_id: String,
    cursor: Option<String>,
    limit: i64,
) -> Result<Vec<RecordRow>, ApiError> {
    db::run_retrying(&state.pool, move |conn| {
        Ok(hq::list_for_holder(
            conn,
            &holder_id,
            cursor.as_deref(),
            limit,
        )?)
    })
    .await?
    .ok_or_else(|| ApiError::bad_request("invalid_query", "Unknown cursor."))
}

/// One of the holder's records; another holder's is as absent as one that never existed.
pub async fn record(
    state: &AppState,
    holder_id: String,
    id: String,
) -> Result<RecordRow, ApiError> {
    db::run_retrying(&state.pool, move |conn| Ok(queries::find(conn, &id)?))
        .await?
        .filter(|r| r.holder_id == holder_id)
        .ok_or_else(|| ApiError::not_found("No such record."))
}

/// A new share code for one of the holder's records, working for `days` (1 to 180): the
/// clear code (returned here only) and when it stops working.
pub async fn create_share_code(
    state: &AppState,
    holder: Holder,
    record_id: String,
    days: i64,
) -> Result<(ShareCode, NaiveDateTime), ApiError> {
    if !(1..=MAX_SHARE_DAYS).contains(&days) {
        return Err(ApiError::validation(vec![FieldError::new(
            "expires_in_days",
            "out_of_range",
            format!("1 to {MAX_SHARE_DAYS} days."),
        )]));
    }
    db::run(&state.pool, move |conn| {
        write_transaction(conn, |conn| {
            Ok::<_, ApiError>(hq::create_share_code(conn, &holder, &record_id, days)?)
        })
    })
    .await?
    .ok_or_else(|| ApiError::not_found("No such record."))
}

/// Withdraws one of the holder's share codes (by its hash); it stops working at once.
pub async fn delete_share_code(
    state: &AppState,
    holder: Holder,
    code_hash: String,
) -> Result<(), ApiError> {
    let deleted = db::run(&state.pool, move |conn| {
        write_transaction(conn, |conn| {
            Ok::<_, ApiError>(hq::delete_share_code(conn, &holder, &code_hash)?)
        })
    })
    .await?;
    match deleted {
        true => Ok(()),
        false => Err(ApiError::not_found("No such share code.")),
    }
}

/// The holder's codes for one record that still work (hints only).
pub async fn live_codes(
    state: &AppState,
    holder_id: String,
    record_id: String,
) -> Result<Vec<LiveCode>, ApiError> {
    db::run_retrying(&state.pool, move |conn| {
        Ok(hq::live_codes(conn, &holder_id, &record_id)?)
    })
    .await
}

/// Agency reads of the holder's records, newest first: up to `limit` before the cursor.
pub async fn access_log(
    state: &AppState,
    holder_id: String,
    cursor: Option<String>,
    limit: i64,
) -> Result<Vec<AccessRow>, ApiError> {
    db::run_retrying(&state.pool, move |conn| {
        Ok(hq::access_log(conn, &holder_id, cursor.as_deref(), limit)?)
    })
    .await
}
