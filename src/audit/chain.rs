//! The chain: each linked row holds the previous row's hash and its own, so altering,
//! removing or reordering a row breaks every hash after it.
//!
//! hash = SHA-256 hex of (prev_hash ‖ JCS of {id, at, actor, action, subject, details}); the
//! first row's prev_hash is 64 zeros. Rows are linked in the order the linker finds them
//! (by `at`, then `id`), which need not be the order they were written in: the chain
//! proves what was logged, `seq` says in which order it was linked.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::AuditRow;
use crate::db::schema::audit_log;
use crate::db::{write_transaction, DbConnection, Pool};

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// Rows linked per transaction: keeps each hold on the chain head short.
const BATCH: i64 = 500;
pub const LINK_EVERY: Duration = Duration::from_secs(1);
/// Any constant: the key of the PostgreSQL advisory lock every linker takes on the head.
const HEAD_LOCK_KEY: i64 = 0x6365_7274_6175_6469; // "certaudi"

/// The timestamp as hashed: microseconds, the precision both backends keep.
pub fn format_at(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// The hash of `row` placed after a row whose hash is `prev_hash`.
pub fn row_hash(prev_hash: &str, row: &AuditRow) -> String {
    // Details are hashed as JSON so the hash does not depend on how a backend spells it;
    // text that is not JSON (only a tampered row) is hashed as a string.
    let details: Value =
        serde_json::from_str(&row.details).unwrap_or_else(|_| Value::String(row.details.clone()));
    let body = json!({
        "id": row.id,
        "at": format_at(row.at),
        "actor": row.actor,
        "action": row.action,
        "subject": row.subject,
        "details": details,
    });
    // A tree of strings and JSON values always canonicalizes; the fallback is unreachable.
    let canonical = serde_json_canonicalizer::to_string(&body).unwrap_or_default();
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(canonical.as_bytes());
    hex::encode(hasher.finalize())
}

/// The last linked row's seq and hash; (0, zeros) while nothing is linked.
fn head(conn: &mut DbConnection) -> QueryResult<(i64, String)> {
    // max() rather than ORDER BY seq DESC: PostgreSQL sorts NULLs first when descending,
    // so that scan walked every unlinked row before the head (thousands per batch under
    // load), where max() reads one index entry on both backends.
    let last: Option<i64> = audit_log::table
        .select(diesel::dsl::max(audit_log::seq))
        .first(conn)?;
    let Some(seq) = last else {
        return Ok((0, GENESIS.to_owned()));
    };
    let hash: Option<String> = audit_log::table
        .filter(audit_log::seq.eq(seq))
        .select(audit_log::hash)
        .first(conn)?;
    Ok((seq, hash.unwrap_or_else(|| GENESIS.to_owned())))
}

/// Links one batch of unchained rows; returns how many.
fn link_batch(conn: &mut DbConnection) -> QueryResult<usize> {
    write_transaction(conn, |conn| {
        // SQLite's BEGIN IMMEDIATE already made this the only writer; on PostgreSQL every
        // linker of every instance queues here until the one before has committed.
        if let DbConnection::Pg(_) = conn {
            diesel::sql_query(format!("SELECT pg_advisory_xact_lock({HEAD_LOCK_KEY})"))
                .execute(conn)?;
        }
        let (mut seq, mut prev) = head(conn)?;
        let rows: Vec<AuditRow> = audit_log::table
            .filter(audit_log::seq.is_null())
            .order((audit_log::at.asc(), audit_log::id.asc()))
            .limit(BATCH)
            .select(AuditRow::as_select())
            .load(conn)?;
        let mut links = Links::default();
        for row in &rows {
            seq += 1;
            let hash = row_hash(&prev, row);
            links.id.push(row.id.clone());
            links.seq.push(seq);
            links
                .prev_hash
                .push(std::mem::replace(&mut prev, hash.clone()));
            links.hash.push(hash);
        }
        links.write(conn)?;
        Ok(rows.len())
    })
}

/// The chain fields of one batch, column by column.
#[derive(Default)]
struct Links {
    id: Vec<String>,
    seq: Vec<i64>,
    prev_hash: Vec<String>,
    hash: Vec<String>,
}

impl Links {
    /// On PostgreSQL one statement for the batch (a round trip per row was most of the
    /// linker's cost); SQLite runs in-process, where a statement per row costs little.
    fn write(&self, conn: &mut DbConnection) -> QueryResult<()> {
        use diesel::sql_types::{Array, BigInt, Text};
        match conn {
            DbConnection::Pg(pg) => {
                diesel::sql_query(
                    "UPDATE audit_log AS a SET seq = v.seq, prev_hash = v.prev_hash, hash = v.hash \
                     FROM unnest($1, $2, $3, $4) AS v(id, seq, prev_hash, hash) WHERE a.id = v.id",
                )
                .bind::<Array<Text>, _>(&self.id)
                .bind::<Array<BigInt>, _>(&self.seq)
                .bind::<Array<Text>, _>(&self.prev_hash)
                .bind::<Array<Text>, _>(&self.hash)
                .execute(pg)?;
            }
            DbConnection::Sqlite(_) => {
                for (((id, seq), prev_hash), hash) in self
                    .id
                    .iter()
                    .zip(&self.seq)
                    .zip(&self.prev_hash)
                    .zip(&self.hash)
                {
                    diesel::update(audit_log::table.find(id))
                        .set((
                            audit_log::seq.eq(seq),
                            audit_log::prev_hash.eq(prev_hash),
                            audit_log::hash.eq(hash),
                        ))
                        .execute(conn)?;
                }
            }
        }
        Ok(())
    }
}

/// Links every row appended so far; returns how many it linked. Safe to run from any
/// number of instances at once. Tests call it to link without waiting for the task.
pub fn link_pending(conn: &mut DbConnection) -> QueryResult<usize> {
    let mut total = 0;
    loop {
        let linked = link_batch(conn)?;
        total += linked;
        if linked < BATCH as usize {
            return Ok(total);
        }
    }
}

/// The background task `serve` starts: links new rows about once a second.
pub async fn run(pool: Pool) {
    let link = |conn: &mut DbConnection| Ok(link_pending(conn)?);
    let linked = |n: usize| {
        if n > 0 {
            tracing::debug!(rows = n, "linked audit rows");
        }
    };
    crate::db::every(pool, LINK_EVERY, "audit chain linking", link, linked).await;
}

/// What `audit verify` found.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Intact { checked: u64, unlinked: u64 },
    Broken { checked: u64, row: Break },
}

/// The first row that does not fit the chain, and why.
#[derive(Debug, PartialEq, Eq)]
pub struct Break {
    pub id: String,
    pub seq: i64,
    pub reason: &'static str,
}

/// Recomputes the whole chain, in seq order, a page at a time.
pub fn verify(conn: &mut DbConnection) -> QueryResult<Verdict> {
    let mut checked = 0u64;
    let (mut expected_seq, mut prev) = (1i64, GENESIS.to_owned());
    loop {
        let rows: Vec<AuditRow> = audit_log::table
            .filter(audit_log::seq.ge(expected_seq))
            .order(audit_log::seq.asc())
            .limit(BATCH)
            .select(AuditRow::as_select())
            .load(conn)?;
        let more = rows.len() == BATCH as usize;
        for row in rows {
            let seq = row.seq.unwrap_or_default();
            let reason = if seq != expected_seq {
                Some("a row before it is missing (seq gap)")
            } else if row.prev_hash.as_deref() != Some(prev.as_str()) {
                Some("prev_hash is not the previous row's hash")
            } else if row.hash.as_deref() != Some(row_hash(&prev, &row).as_str()) {
                Some("its content does not match its hash")
            } else {
                None
            };
            if let Some(reason) = reason {
                let row = Break {
                    id: row.id,
                    seq,
                    reason,
                };
                return Ok(Verdict::Broken { checked, row });
            }
            checked += 1;
            expected_seq += 1;
            prev = row.hash.unwrap_or_default();
        }
        if !more {
            break;
        }
    }
    let unlinked: i64 = audit_log::table
        .filter(audit_log::seq.is_null())
        .count()
        .get_result(conn)?;
    Ok(Verdict::Intact {
        checked,
        unlinked: u64::try_from(unlinked).unwrap_or_default(),
    })
}
