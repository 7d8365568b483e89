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
