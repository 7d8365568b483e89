//! Verification records: W3C credentials with eddsa-jcs-2022 proofs, the platform's keys,
//! status lists, share codes and agency queries.

pub mod access_writer;
pub mod admin_routes;
pub mod credential;
pub mod did;
pub mod holder_queries;
pub mod holder_routes;
pub mod issue;
pub mod jose;
pub mod keys;
pub mod lookup_routes;
pub mod multikey;
pub mod offline;
pub mod offline_keys;
pub mod offline_status;
pub mod proof;
pub mod queries;
pub mod routes;
pub mod share_code;
pub mod status;
pub mod status_list;
pub mod types;
pub mod verify_cli;
