//! Reads what the rules decide on — the holder's profile and the qualification — live from
//! the platform, for one record, and writes the decisions to the audit log.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::result::Error as DieselError;

use super::subject::{HolderProfile, QualificationProfile, RecordStatus, Subject};
use super::{Decision, RecordServices};
use crate::audit;
use crate::auth::extract::Agency;
use crate::db::schema::{holders, qualifications};
use crate::db::DbConnection;
use crate::domain::qualification::{Category, Equivalence, TitleLevel};
use crate::domain::IdentityKind;
use crate::records::types::RecordStatus as LiveStatus;
use crate::records::RecordRow;

type QualificationColumns = (
    bool,
    bool,
    bool,
    bool,
    String,
    Option<String>,
    Option<String>,
    String,
);

/// The subject of a decision about `record` on `today`: the record's live status, the
/// holder's profile as it is now, and the qualification as the registry lists it now.
pub fn subject_of(
    conn: &mut DbConnection,
    record: &RecordRow,
    today: NaiveDate,
) -> QueryResult<Subject> {
    let (kind, shanghai_hukou, date_of_birth): (String, bool, NaiveDate) = holders::table
        .find(&record.holder_id)
        .select((
            holders::identity_kind,
            holders::shanghai_hukou,
            holders::date_of_birth,
        ))
        .first(conn)?;
    let (a, b, c, d, status, series, level, equivalences): QualificationColumns =
        qualifications::table
            .find(&record.qualification_id)
            .select((
                qualifications::category_a,
                qualifications::category_b,
                qualifications::category_c,
                qualifications::category_d,
                qualifications::status,
                qualifications::title_series,
                qualifications::title_level,
                qualifications::equivalences,
            ))
            .first(conn)?;
    let identity_kind = IdentityKind::parse(&kind)
        .ok_or_else(|| corrupt(format!("holder identity_kind {kind:?}")))?;
    let title_level = match level.as_deref() {
        None => None,
        Some(text) => Some(
            TitleLevel::parse(text)
                .ok_or_else(|| corrupt(format!("qualification title_level {text:?}")))?,
        ),
    };
    let equivalences: Vec<Equivalence> = serde_json::from_str(&equivalences)
        .map_err(|e| corrupt(format!("qualification equivalences: {e}")))?;
    let categories = [(a, Category::A), (b, Category::B), (c, Category::C)]
        .into_iter()
        .chain([(d, Category::D)])
        .filter(|(held, _)| *held)
        .map(|(_, category)| category)
        .collect();
    Ok(Subject {
        holder: HolderProfile {
            identity_kind,
            shanghai_hukou,
            date_of_birth,
        },
        qualification: QualificationProfile {
            categories,
            listed: status == "listed",
            title_series: series,
            title_level,
            equivalences,
        },
        record_status: policy_status(record.live_status()),
        today,
    })
}

/// Rows are written by this service; a value it would never write means someone edited
/// the database, which is an internal error rather than a decision.
fn corrupt(what: String) -> DieselError {
    DieselError::DeserializationError(format!("unexpected stored value: {what}").into())
}

fn policy_status(live: LiveStatus) -> RecordStatus {
    match live {
        LiveStatus::Valid => RecordStatus::Valid,
        LiveStatus::Suspended => RecordStatus::Suspended,
        LiveStatus::Revoked => RecordStatus::Revoked,
        LiveStatus::Expired => RecordStatus::Expired,
    }
}

/// The outcome word the audit log and the services listing use.
pub fn outcome_of(eligible: Option<bool>) -> &'static str {
    match eligible {
        Some(true) => "eligible",
        Some(false) => "not_eligible",
        None => "informational",
    }
}

/// One `eligibility.decided` row; call it in the transaction that logs the read.
pub fn audit_decision(
    conn: &mut DbConnection,
    agency: &Agency,
    record: &RecordRow,
    decision: &Decision,
) -> QueryResult<()> {
    audit::append(
        conn,
        &audit::Entry {
            actor: &format!("agency:{}", agency.id),
            action: "eligibility.decided",
            subject: Some(&record.id),
            details: serde_json::json!({
                "service": decision.service,
                "outcome": outcome_of(decision.eligible),
                "reasons": decision.reasons.iter().map(|r| r.code).collect::<Vec<_>>(),
                "record_status": decision.record_status,
                "policy_version": decision.policy_version,
                "agency": agency.id,
            }),
        },
    )
}

/// One `eligibility.listed` row for a services listing: every service and its outcome.
pub fn audit_listing(
    conn: &mut DbConnection,
    agency: &Agency,
    listing: &RecordServices,
) -> QueryResult<()> {
    let outcomes: Vec<_> = listing
        .items
        .iter()
        .map(|item| serde_json::json!({"service": item.service, "outcome": item.outcome}))
        .collect();
    audit::append(
        conn,
        &audit::Entry {
            actor: &format!("agency:{}", agency.id),
            action: "eligibility.listed",
            subject: Some(&listing.record_id),
            details: serde_json::json!({
                "services": outcomes,
                "record_status": listing.record_status,
                "policy_version": listing.policy_version,
                "agency": agency.id,
            }),
        },
    )
}
