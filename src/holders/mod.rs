//! Certificate holders: registration and their own profile.

pub mod queries;
pub mod routes;
pub mod types;
