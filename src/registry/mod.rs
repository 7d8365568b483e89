//! The registry: list versions, issuing bodies and the recognized qualifications.

pub mod admin_routes;
pub mod cli;
pub mod import;
pub mod import_routes;
pub mod input;
pub mod queries;
pub mod routes;
pub mod search;
pub mod store;
pub mod types;
