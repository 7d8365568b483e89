//! Certificate holders: registration and its emailed verification, login, page sessions,
//! password reset, and their own profile.

pub mod email;
pub mod login;
mod mails;
mod queries;
pub mod reset;
pub mod routes;
pub mod sessions;
pub mod tokens;
pub mod types;

pub use email::email_verified;
