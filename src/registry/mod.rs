//! The registry: list versions, issuing bodies and the recognized qualifications.

pub mod admin_routes;
pub mod cli;
pub mod import;
mod import_csv;
pub mod import_routes;
pub mod input;
mod input_qualification;
mod queries;
pub mod routes;
pub mod search;
pub mod store;
pub mod types;

pub use queries::{find_qualification, IssuingBodyRow, QualificationRow};

use crate::db::DbConnection;
use crate::error::ApiError;
use types::{IssuingBodySummary, QualificationDetail};

/// One qualification (by id or code) with its issuing body and its history: what
/// `GET /v1/qualifications/{id}` and the page `/registry/{id}` show.
pub fn qualification_detail(
    conn: &mut DbConnection,
    id_or_code: &str,
) -> Result<QualificationDetail, ApiError> {
    let (q, body) = queries::find_qualification(conn, id_or_code)?
        .ok_or_else(|| ApiError::not_found("No such qualification."))?;
    let history = queries::history(conn, "qualification", &q.id)?;
    Ok(QualificationDetail {
        qualification: q.view(&body),
        history,
    })
}

/// Every issuing body, summarized (for choosing one in a search form).
pub fn body_summaries(conn: &mut DbConnection) -> diesel::QueryResult<Vec<IssuingBodySummary>> {
    Ok(queries::all_bodies(conn)?
        .iter()
        .map(IssuingBodyRow::summary)
        .collect())
}

/// An operation on the records of one qualification, inside the registry's transaction.
pub type ListingEffect = fn(&mut DbConnection, &str, &str) -> Result<usize, ApiError>;

/// What removing a qualification from the list, or restoring it, does to the records
/// issued for it (`delisted`, DESIGN.md "States"). The records sit above the registry, so
/// the registry names the effect and `startup` hands the records' operations in; both run
/// in the transaction that changes the listing.
#[derive(Clone, Copy)]
pub struct ListingEffects {
    /// (qualification id, actor) → records suspended.
    pub removed: ListingEffect,
    /// (qualification id, actor) → records reinstated.
    pub restored: ListingEffect,
}
