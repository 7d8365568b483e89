//! Integration tests: the real server on port 0, a fresh database per test.
//! Set TEST_DATABASE_URL=postgres://… to run the same suite on PostgreSQL.

mod audit;
mod auth_tokens;
mod callbacks;
mod cli;
mod eligibility;
mod eligibility_api;
mod eligibility_helpers;
mod errors;
mod health;
mod helpers;
mod holders;
mod idempotency;
mod migrations;
mod oauth;
mod openapi;
mod policy_table;
mod pool;
mod record_reads;
mod records;
mod records_auth;
mod records_authz;
mod records_helpers;
mod records_status;
mod recovery;
mod registry_admin;
mod registry_import;
mod registry_search;
mod requests;
mod requests_helpers;
mod server_process;
mod settling;
mod share_code_logs;
mod share_codes;
mod sharing_helpers;
mod verify_record;
