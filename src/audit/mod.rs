//! The append-only, hash-chained audit log (DESIGN.md, "Privacy and audit").
//!
//! Rows are appended unchained by [`append`], inside the transaction that causes them; the
//! chain linker gives them their place (seq, prev_hash, hash) after commit, so no request
//! waits on the chain head.

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

/// Appends an unchained row; call it inside the transaction of the change it describes.
pub fn append(conn: &mut DbConnection, entry: &Entry<'_>) -> QueryResult<()> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::id.eq(uuid::Uuid::now_v7().to_string()),
            audit_log::at.eq(chrono::Utc::now().naive_utc()),
            audit_log::actor.eq(entry.actor),
            audit_log::action.eq(entry.action),
            audit_log::subject.eq(entry.subject),
            audit_log::details.eq(entry.details.to_string()),
        ))
        .execute(conn)
        .map(|_| ())
}
