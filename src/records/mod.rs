//! Verification records: W3C credentials with eddsa-jcs-2022 proofs, the platform's keys,
//! status lists, share codes and agency queries.

pub mod multikey;
pub mod proof;
pub mod queries;
pub mod share_code;
pub mod types;
