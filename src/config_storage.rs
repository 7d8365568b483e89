//! The storage's timeouts and the Idempotency-Key lease that must outlast them.

use std::time::Duration;

use super::{ConfigError, Env};

/// How long work waits for the storage before it answers 503.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageTimeouts {
    /// For a pooled connection (the pool connects meanwhile if it can).
    pub pool_checkout: Duration,
    /// For SQLite's single writer held by another process.
    pub sqlite_busy: Duration,
}

impl Default for StorageTimeouts {
    fn default() -> Self {
        Self {
            pool_checkout: Duration::from_secs(5),
            sqlite_busy: Duration::from_secs(5),
        }
    }
}

/// `CERTVERIFY_DB_POOL_TIMEOUT_MS`, `CERTVERIFY_SQLITE_BUSY_TIMEOUT_MS` and
/// `CERTVERIFY_IDEMPOTENCY_LEASE_SECONDS`, checked against each other.
pub(super) fn from_env(env: &Env<'_>) -> Result<(StorageTimeouts, Duration), ConfigError> {
    let storage = StorageTimeouts {
        pool_checkout: Duration::from_millis(env.bounded(
            "CERTVERIFY_DB_POOL_TIMEOUT_MS",
            5_000,
            100,
            300_000,
        )?),
        sqlite_busy: Duration::from_millis(env.bounded(
            "CERTVERIFY_SQLITE_BUSY_TIMEOUT_MS",
            5_000,
            10,
            300_000,
        )?),
    };
    let idempotency_lease =
        Duration::from_secs(env.bounded("CERTVERIFY_IDEMPOTENCY_LEASE_SECONDS", 60, 1, 86_400)?);
    // A submission waits at most this long for each of its statements' storage; a lease
    // shorter than that would let a retry take the key from a request still running
    // (the token fence keeps that from making two requests, but it is a lost answer).
    if idempotency_lease <= storage.pool_checkout + storage.sqlite_busy {
        return Err(ConfigError::new(
            "CERTVERIFY_IDEMPOTENCY_LEASE_SECONDS",
            "must be longer than CERTVERIFY_DB_POOL_TIMEOUT_MS and \
             CERTVERIFY_SQLITE_BUSY_TIMEOUT_MS together",
        ));
    }
    Ok((storage, idempotency_lease))
}
