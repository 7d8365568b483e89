//! Integration tests: the real server on port 0, a fresh database per test.
//! Set TEST_DATABASE_URL=postgres://… to run the same suite on PostgreSQL.

mod auth_tokens;
mod callbacks;
mod cli;
mod errors;
mod health;
mod helpers;
mod holders;
mod migrations;
mod oauth;
mod openapi;
mod recovery;
mod registry_admin;
mod registry_import;
mod registry_search;
mod requests;
mod requests_helpers;
mod server_process;
mod settling;
