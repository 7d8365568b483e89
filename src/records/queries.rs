//! Record storage: reads, and the access log every agency read writes.

use diesel::prelude::*;

use super::share_code::ShareCode;
use super::types::{AccessVia, RecordStatus, RecordView};
use crate::audit;
use crate::auth::extract::Agency;
use crate::db::schema::{record_access, records, share_codes};
use crate::db::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = records)]
pub struct RecordRow {
    pub id: String,
    pub request_id: String,
    pub holder_id: String,
    pub qualification_id: String,
    pub identity_document_hmac: String,
    pub nationality: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub kid: String,
    pub credential: String,
    pub valid_from: chrono::NaiveDateTime,
    pub valid_until: chrono::NaiveDateTime,
    pub revocation_list: String,
    pub revocation_index: i64,
    pub suspension_list: String,
    pub suspension_index: i64,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

impl RecordRow {
    pub fn live_status(&self) -> RecordStatus {
        RecordStatus::live(
            &self.status,
            self.valid_until,
            chrono::Utc::now().naive_utc(),
        )
    }

    /// The credential as a JSON tree, for those that look inside it.
    pub fn credential_value(&self) -> serde_json::Value {
        serde_json::from_str(&self.credential).unwrap_or_default()
    }

    pub fn view(&self) -> RecordView {
        let status = self.live_status();
        RecordView {
            id: self.id.clone(),
            status,
            status_reason: match status {
                RecordStatus::Expired => Some("expired".into()),
                _ => self.status_reason.clone(),
            },
            // Written by us from a serde_json::Value; unreadable only if the row was altered.
            credential: serde_json::value::RawValue::from_string(self.credential.clone())
                .unwrap_or_default(),
        }
    }
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<RecordRow>> {
    records::table
        .find(id)
        .select(RecordRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_request(
    conn: &mut DbConnection,
    request_id: &str,
) -> QueryResult<Option<RecordRow>> {
    records::table
        .filter(records::request_id.eq(request_id))
        .select(RecordRow::as_select())
        .first(conn)
        .optional()
}

/// One agency read, as the holder's access log and the audit log keep it.
pub struct Read<'a> {
    pub record: &'a RecordRow,
    pub agency_id: &'a str,
    pub agency_name: &'a str,
    pub via: AccessVia,
    pub purpose: Option<&'a str>,
}

/// Writes one agency read to the holder's access log and to the audit log; call it in the
/// transaction that serves the read, so no read goes unlogged.
pub fn log_access(
    conn: &mut DbConnection,
    record: &RecordRow,
    agency: &Agency,
    agency_name: &str,
    via: AccessVia,
    purpose: Option<&str>,
) -> QueryResult<()> {
    log_reads(
        conn,
        &[Read {
            record,
            agency_id: &agency.id,
            agency_name,
            via,
            purpose,
        }],
    )
}

/// Writes agency reads to the access log and the audit log: two statements however many.
pub fn log_reads(conn: &mut DbConnection, reads: &[Read<'_>]) -> QueryResult<()> {
    let at = chrono::Utc::now().naive_utc();
    let access: Vec<_> = reads
        .iter()
        .map(|r| {
            (
                record_access::id.eq(uuid::Uuid::now_v7().to_string()),
                record_access::record_id.eq(&r.record.id),
                record_access::holder_id.eq(&r.record.holder_id),
                record_access::agency_id.eq(r.agency_id),
                record_access::agency_name.eq(r.agency_name),
                record_access::via.eq(r.via.as_str()),
                record_access::purpose.eq(r.purpose),
                record_access::at.eq(at),
            )
        })
        .collect();
    // Multi-row INSERT is backend-specific SQL in diesel: run it on the concrete connection.
    match conn {
        DbConnection::Sqlite(c) => diesel::insert_into(record_access::table)
            .values(access)
            .execute(c)?,
        DbConnection::Pg(c) => diesel::insert_into(record_access::table)
            .values(access)
            .execute(c)?,
    };
    let actors: Vec<String> = reads
        .iter()
        .map(|r| format!("agency:{}", r.agency_id))
        .collect();
    let entries: Vec<audit::Entry<'_>> = reads
        .iter()
        .zip(&actors)
        .map(|(r, actor)| read_entry(actor, &r.record.id, r.via, r.purpose))
        .collect();
    audit::append_many(conn, &entries)
}

/// The audit row of one agency read.
pub fn read_entry<'a>(
    actor: &'a str,
    record_id: &'a str,
    via: AccessVia,
    purpose: Option<&str>,
) -> audit::Entry<'a> {
    audit::Entry {
        actor,
        action: "record.read",
        subject: Some(record_id),
        details: serde_json::json!({"via": via.as_str(), "purpose": purpose}),
    }
}

/// The record a share code opens: the code exists, was not deleted and has not expired.
pub fn find_by_share_code(
    conn: &mut DbConnection,
    code: &ShareCode,
) -> QueryResult<Option<RecordRow>> {
    let now = chrono::Utc::now().naive_utc();
    share_codes::table
        .inner_join(records::table)
        .filter(share_codes::code_hash.eq(&code.hash))
        .filter(share_codes::deleted_at.is_null())
        .filter(share_codes::expires_at.gt(now))
        .select(RecordRow::as_select())
        .first(conn)
        .optional()
}
