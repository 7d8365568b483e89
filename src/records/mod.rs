//! Verification records: W3C credentials with eddsa-jcs-2022 proofs, the platform's keys,
//! status lists, share codes and agency queries.

pub mod multikey;
pub mod offline;
pub mod offline_keys;
pub mod offline_status;
pub mod proof;
pub mod queries;
pub mod share_code;
pub mod types;
pub mod verify_cli;
