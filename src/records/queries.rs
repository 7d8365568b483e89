//! Record storage: reads, and the access log every agency read writes.

use diesel::prelude::*;

use super::share_code::ShareCode;
use super::types::{AccessVia, RecordStatus, RecordView};
use crate::audit;
use crate::auth::extract::Agency;
use crate::db::schema::{record_access, records, share_codes};
use crate::db::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable)]
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
            credential: serde_json::from_str(&self.credential).unwrap_or_default(),
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
    let now = chrono::Utc::now().naive_utc();
    diesel::insert_into(record_access::table)
        .values((
            record_access::id.eq(uuid::Uuid::now_v7().to_string()),
            record_access::record_id.eq(&record.id),
            record_access::holder_id.eq(&record.holder_id),
            record_access::agency_id.eq(&agency.id),
            record_access::agency_name.eq(agency_name),
            record_access::via.eq(via.as_str()),
            record_access::purpose.eq(purpose),
            record_access::at.eq(now),
        ))
        .execute(conn)?;
    let actor = format!("agency:{}", agency.id);
    audit::append(conn, &read_entry(&actor, &record.id, via, purpose))
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
