//! What holders do with their records (list them, share them, see who read them) and the
//! look-ups agencies make by share code and by identity document.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::json;

use super::queries::{self, RecordRow};
use super::share_code::ShareCode;
use super::types::AccessVia;
use crate::audit;
use crate::auth::extract::{Agency, Holder};
use crate::db::schema::{record_access, records, share_codes};
use crate::db::DbConnection;

/// Matches of one identity search, at most.
pub const SEARCH_LIMIT: i64 = 100;

/// A holder's records, newest first, `limit` after the record `after` (the cursor).
/// None when the cursor is not one of the holder's records.
pub fn list_for_holder(
    conn: &mut DbConnection,
    holder_id: &str,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Option<Vec<RecordRow>>> {
    // Record ids are random (UUIDv4), so the page order is (created_at, id).
    let mut query = records::table
        .filter(records::holder_id.eq(holder_id))
        .select(RecordRow::as_select())
        .into_boxed();
    if let Some(after) = after {
        let Some(cursor) = queries::find(conn, after)?.filter(|r| r.holder_id == holder_id) else {
            return Ok(None);
        };
        query = query.filter(
            records::created_at
                .lt(cursor.created_at)
                .or(records::created_at
                    .eq(cursor.created_at)
                    .and(records::id.lt(cursor.id))),
        );
    }
    query
        .order((records::created_at.desc(), records::id.desc()))
        .limit(limit)
        .load(conn)
        .map(Some)
}

/// Makes a share code for one of the holder's records, with its audit row; None when the
/// record is not the holder's. The clear code is returned here and stored nowhere.
pub fn create_share_code(
    conn: &mut DbConnection,
    holder: &Holder,
    record_id: &str,
    expires_in_days: i64,
) -> QueryResult<Option<(ShareCode, NaiveDateTime)>> {
    let Some(record) = queries::find(conn, record_id)?.filter(|r| r.holder_id == holder.id) else {
        return Ok(None);
    };
    let code = ShareCode::generate();
    let now = chrono::Utc::now().naive_utc();
    let expires_at = now + chrono::Duration::days(expires_in_days);
    diesel::insert_into(share_codes::table)
        .values((
            share_codes::code_hash.eq(&code.hash),
            share_codes::record_id.eq(&record.id),
            share_codes::holder_id.eq(&holder.id),
            share_codes::hint.eq(&code.hint),
            share_codes::expires_at.eq(expires_at),
            share_codes::created_at.eq(now),
        ))
        .execute(conn)?;
    audit::append(
        conn,
        &audit::Entry {
            actor: &format!("holder:{}", holder.id),
            action: "share_code.created",
            subject: Some(&record.id),
            details: json!({"hint": code.hint, "expires_at": crate::domain::rfc3339::format(&expires_at)}),
        },
    )?;
    Ok(Some((code, expires_at)))
}

/// One of the holder's records; None for a record that is not theirs or does not exist
/// (the two look alike to the holder).
pub fn find_for_holder(
    conn: &mut DbConnection,
    holder: &Holder,
    record_id: &str,
) -> QueryResult<Option<RecordRow>> {
    Ok(queries::find(conn, record_id)?.filter(|r| r.holder_id == holder.id))
}

/// Withdraws one of the holder's live codes (by the code's hash), with its audit row; false
/// when there is no such code (never made, someone else's, or already deleted).
pub fn delete_share_code(
    conn: &mut DbConnection,
    holder: &Holder,
    code_hash: &str,
) -> QueryResult<bool> {
    let found: Option<(String, String)> = share_codes::table
        .filter(share_codes::code_hash.eq(code_hash))
        .filter(share_codes::holder_id.eq(&holder.id))
        .filter(share_codes::deleted_at.is_null())
        .select((share_codes::record_id, share_codes::hint))
        .first(conn)
        .optional()?;
    let Some((record_id, hint)) = found else {
        return Ok(false);
    };
    diesel::update(share_codes::table.find(code_hash))
        .set(share_codes::deleted_at.eq(chrono::Utc::now().naive_utc()))
        .execute(conn)?;
    audit::append(
        conn,
        &audit::Entry {
            actor: &format!("holder:{}", holder.id),
            action: "share_code.deleted",
            subject: Some(&record_id),
            details: json!({"hint": hint}),
        },
    )?;
    Ok(true)
}

/// A live share code as its holder sees it later: never the code, only its hint.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = share_codes)]
pub struct LiveCode {
    pub code_hash: String,
    pub hint: String,
    pub expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

/// The holder's codes for one record that still work, newest first.
pub fn live_codes(
    conn: &mut DbConnection,
    holder_id: &str,
    record_id: &str,
) -> QueryResult<Vec<LiveCode>> {
    share_codes::table
        .filter(share_codes::holder_id.eq(holder_id))
        .filter(share_codes::record_id.eq(record_id))
        .filter(share_codes::deleted_at.is_null())
        .filter(share_codes::expires_at.gt(chrono::Utc::now().naive_utc()))
        .order(share_codes::created_at.desc())
        .select(LiveCode::as_select())
        .load(conn)
}

/// The record a live code opens for anyone, with the `share_code.checked` audit row.
pub fn check_share_code(
    conn: &mut DbConnection,
    code: &ShareCode,
) -> QueryResult<Option<RecordRow>> {
    let Some(record) = queries::find_by_share_code(conn, code)? else {
        return Ok(None);
    };
    audit::append(
        conn,
        &audit::Entry {
            actor: "public",
            action: "share_code.checked",
            subject: Some(&record.id),
            details: json!({"hint": code.hint}),
        },
    )?;
    Ok(Some(record))
}

/// The record a live code opens for an agency, logged as a read via the code.
pub fn read_by_share_code(
    conn: &mut DbConnection,
    agency: &Agency,
    code: &ShareCode,
    purpose: Option<&str>,
) -> QueryResult<Option<RecordRow>> {
    let Some(record) = queries::find_by_share_code(conn, code)? else {
        return Ok(None);
    };
    let name = crate::accounts::name_of(conn, &agency.id)?;
    queries::log_access(conn, &record, agency, &name, AccessVia::ShareCode, purpose)?;
    Ok(Some(record))
}

/// Every record of one identity document (by its keyed hash), each read logged with the
/// purpose the agency stated.
pub fn search(
    conn: &mut DbConnection,
    agency: &Agency,
    document_hmac: &str,
    purpose: &str,
) -> QueryResult<Vec<RecordRow>> {
    let found: Vec<RecordRow> = records::table
        .filter(records::identity_document_hmac.eq(document_hmac))
        .order((records::created_at.desc(), records::id.desc()))
        .limit(SEARCH_LIMIT)
        .select(RecordRow::as_select())
        .load(conn)?;
    // The search itself is audited even when it finds nothing: who looked for which
    // document (by its keyed hash, never the number), why, and how many records matched.
    audit::append(
        conn,
        &audit::Entry {
            actor: &format!("agency:{}", agency.id),
            action: "records.searched",
            subject: None,
            details: json!({"document_hmac": document_hmac, "purpose": purpose, "matches": found.len()}),
        },
    )?;
    if found.is_empty() {
        return Ok(found);
    }
    let name = crate::accounts::name_of(conn, &agency.id)?;
    for record in &found {
        queries::log_access(
            conn,
            record,
            agency,
            &name,
            AccessVia::Search,
            Some(purpose),
        )?;
    }
    Ok(found)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = record_access)]
pub struct AccessRow {
    pub id: String,
    pub record_id: String,
    pub agency_name: String,
    pub via: String,
    pub purpose: Option<String>,
    pub at: NaiveDateTime,
}

/// Agency reads of the holder's records, newest first (ids are UUIDv7).
pub fn access_log(
    conn: &mut DbConnection,
    holder_id: &str,
    before: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<AccessRow>> {
    let mut query = record_access::table
        .filter(record_access::holder_id.eq(holder_id))
        .select(AccessRow::as_select())
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(record_access::id.lt(before.to_owned()));
    }
    query
        .order(record_access::id.desc())
        .limit(limit)
        .load(conn)
}
