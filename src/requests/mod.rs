//! Verification requests: holders apply, follow, withdraw; admins review.

mod opening;
pub mod queries;
pub mod review;
pub mod routes;
pub mod settle;
pub mod transition;
pub mod types;
