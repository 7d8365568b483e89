//! Verifiable records: Data Integrity proofs (eddsa-jcs-2022) and the Multikey key encoding.

pub mod multikey;
pub mod proof;
