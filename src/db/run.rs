//! Running database work from the async handlers: on the blocking pool, with a pooled
//! connection, and for work that is safe to repeat, again after a transient storage failure.

use std::time::Duration;

use super::{DbConnection, Pool};
use crate::error::ApiError;

/// Runs blocking database work on the blocking thread pool, never on an async worker.
pub async fn run<T, F>(pool: &Pool, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
{
    let pool = pool.clone();
    actix_web::rt::task::spawn_blocking(move || once(&pool, f))
        .await
        .map_err(|e| ApiError::internal(anyhow::anyhow!("blocking task failed: {e}")))?
}

/// How many times [`run_retrying`] tries work that met a transient storage failure.
pub const ATTEMPTS: u32 = 3;

/// Like [`run`], but work that failed on a transient storage failure (a serialization
/// failure, a deadlock, a connection cut before the commit) is run again on a fresh
/// connection, up to [`ATTEMPTS`] times in all, after 50 then 100 ms. Only for work that
/// is safe to repeat: it reads, or it is one transaction that sends nothing outside, or
/// its writes are fenced (an Idempotency-Key's claim). A lost commit is never retried
/// (`CommitInDoubt`); a lone PostgreSQL statement cut mid-way is not told apart from one
/// cut before it ran, hence "fenced".
pub async fn run_retrying<T, F>(pool: &Pool, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: Fn(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
{
    run_attempts(pool, move |conn, _| f(conn)).await
}

/// [`run_retrying`] for work that needs to know which attempt it is (1-based).
pub async fn run_attempts<T, F>(pool: &Pool, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: Fn(&mut DbConnection, u32) -> Result<T, ApiError> + Send + 'static,
{
    let pool = pool.clone();
    actix_web::rt::task::spawn_blocking(move || {
        let mut attempt = 1;
        loop {
            match once(&pool, |conn| f(conn, attempt)) {
                Err(e) if e.is_retryable() && attempt < ATTEMPTS => {
                    tracing::warn!(error = %e, attempt, "storage failure; trying again");
                    std::thread::sleep(Duration::from_millis(50 << (attempt - 1)));
                    attempt += 1;
                }
                other => return other,
            }
        }
    })
    .await
    .map_err(|e| ApiError::internal(anyhow::anyhow!("blocking task failed: {e}")))?
}

/// One pooled connection for `f`; one that met a storage failure is not lent again.
fn once<T>(
    pool: &Pool,
    f: impl FnOnce(&mut DbConnection) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let mut conn = pool.get().map_err(ApiError::unavailable)?;
    let result = f(&mut conn);
    if result.as_ref().is_err_and(|e| e.is_storage_failure()) {
        conn.mark_suspect();
    }
    result
}
