//! Certificate holders: registration, login and their own profile.

pub mod login;
mod queries;
pub mod routes;
pub mod types;
