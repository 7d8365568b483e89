//! Record status changes: one record by an admin, all records of a qualification when it
//! leaves or returns to the list, and the records of a certificate its body revoked. Each
//! change bumps its status lists and writes an audit row, in the caller's transaction.

use diesel::prelude::*;
use serde_json::json;

use super::queries::{self, RecordRow};
use super::types::StatusAction;
use crate::audit;
use crate::db::schema::{qualifications, records, status_lists, verification_requests};
use crate::db::DbConnection;
use crate::domain::identity::normalize_number;
use crate::error::ApiError;

/// The reason a delisting writes, and the only suspensions a restore lifts.
pub const DELISTED: &str = "delisted";

pub fn change(
    conn: &mut DbConnection,
    record: &RecordRow,
    action: StatusAction,
    reason: &str,
    actor: &str,
) -> Result<RecordRow, ApiError> {
    let next = action.apply(&record.status).map_err(|code| {
        ApiError::conflict(
            code,
            format!(
                "The record is {}; it cannot be changed that way.",
                record.status
            ),
        )
    })?;
    let now = chrono::Utc::now().naive_utc();
    let stored_reason = (next != "valid").then_some(reason);
    // Guarded by the status read before, so two concurrent changes cannot both apply.
    let updated = diesel::update(
        records::table
            .find(&record.id)
            .filter(records::status.eq(&record.status)),
    )
    .set((
        records::status.eq(next),
        records::status_reason.eq(stored_reason),
        records::updated_at.eq(now),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Err(ApiError::conflict(
            "concurrent_change",
            "The record changed meanwhile; read it again.",
        ));
    }
    diesel::update(
        status_lists::table
            .filter(status_lists::id.eq_any([&record.revocation_list, &record.suspension_list])),
    )
    .set(status_lists::updated_at.eq(now))
    .execute(conn)?;
    audit::append(
        conn,
        &audit::Entry {
            actor,
            action: action.audit_action(),
            subject: Some(&record.id),
            details: json!({"from": record.status, "to": next, "reason": reason}),
        },
    )?;
    queries::find(conn, &record.id)?.ok_or_else(|| diesel::result::Error::NotFound.into())
}

/// A qualification left the list: its valid records are suspended with reason `delisted`.
pub fn suspend_delisted(
    conn: &mut DbConnection,
    qualification_id: &str,
    actor: &str,
) -> Result<usize, ApiError> {
    let affected = of_qualification(conn, qualification_id, "valid")?;
    for record in &affected {
        change(conn, record, StatusAction::Suspend, DELISTED, actor)?;
    }
    Ok(affected.len())
}

/// A qualification is back on the list: the records its delisting suspended are
/// reinstated; records suspended for another reason stay suspended.
pub fn reinstate_relisted(
    conn: &mut DbConnection,
    qualification_id: &str,
    actor: &str,
) -> Result<usize, ApiError> {
    let affected: Vec<RecordRow> = of_qualification(conn, qualification_id, "suspended")?
        .into_iter()
        .filter(|r| r.status_reason.as_deref() == Some(DELISTED))
        .collect();
    for record in &affected {
        change(conn, record, StatusAction::Reinstate, "relisted", actor)?;
    }
    Ok(affected.len())
}

/// The issuing body reported a certificate revoked: every record of that body's
/// qualification and certificate number is revoked.
pub fn revoke_certificate(
    conn: &mut DbConnection,
    issuing_body_id: &str,
    qualification_code: &str,
    certificate_number: &str,
    reason: Option<&str>,
    actor: &str,
) -> Result<usize, ApiError> {
    let wanted = normalize_number(certificate_number);
    let candidates: Vec<(RecordRow, String)> = records::table
        .inner_join(verification_requests::table)
        .inner_join(qualifications::table)
        .filter(verification_requests::issuing_body_id.eq(issuing_body_id))
        .filter(qualifications::code.eq(qualification_code))
        .filter(records::status.ne("revoked"))
        .select((
            RecordRow::as_select(),
            verification_requests::certificate_number,
        ))
        .load(conn)?;
    let mut revoked = 0;
    for (record, number) in candidates {
        if normalize_number(&number) == wanted {
            let why = reason.unwrap_or("certificate revoked by the issuing body");
            change(conn, &record, StatusAction::Revoke, why, actor)?;
            revoked += 1;
        }
    }
    Ok(revoked)
}

fn of_qualification(
    conn: &mut DbConnection,
    qualification_id: &str,
    status: &str,
) -> QueryResult<Vec<RecordRow>> {
    records::table
        .filter(records::qualification_id.eq(qualification_id))
        .filter(records::status.eq(status))
        .select(RecordRow::as_select())
        .load(conn)
}
