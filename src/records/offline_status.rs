//! A record's status from its Bitstring Status Lists (W3C Bitstring Status List v1.0):
//! `encodedList` is multibase base64url (`u`) of the GZIP of the bitstring, and index 0 is
//! the most significant bit of the first byte.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::offline::{check_validity, issuer_of, require_type, verify_signature, Failure, Signed};
use super::offline::{STATUS_LIST_TYPE, VC_JWT_TYP};
use super::offline_keys::KeySet;
use super::status_list;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEntry {
    pub purpose: String,
    pub index: u64,
    pub list: String,
}

/// The record's `credentialStatus` entries (one object or an array).
pub fn entries(credential: &Value) -> Result<Vec<StatusEntry>, Failure> {
    let items = match credential.get("credentialStatus") {
        None => return Ok(Vec::new()),
        Some(Value::Array(items)) => items.clone(),
        Some(one) => vec![one.clone()],
    };
    items
        .iter()
        .map(|item| {
            let field = |name: &str| {
                item.get(name).and_then(Value::as_str).ok_or_else(|| {
                    Failure::Invalid(format!("a credentialStatus entry has no {name}"))
                })
            };
            if field("type")? != "BitstringStatusListEntry" {
                return Err(Failure::Invalid(format!(
                    "credentialStatus type {} is not BitstringStatusListEntry",
                    field("type")?
                )));
            }
            let index = field("statusListIndex")?.parse::<u64>().map_err(|_| {
                Failure::Invalid("statusListIndex is not a non-negative integer".into())
            })?;
            Ok(StatusEntry {
                purpose: field("statusPurpose")?.to_owned(),
                index,
                list: field("statusListCredential")?.to_owned(),
            })
        })
        .collect()
}

/// Verifies the list credential (same keys, same issuer as the record, the purpose of the
/// entry, within its validity) and refuses when the entry's bit is set.
pub fn check(
    entry: &StatusEntry,
    list: &Signed,
    keys: &KeySet,
    record_issuer: &str,
    now: DateTime<Utc>,
) -> Result<(), Failure> {
    let invalid = |m: String| Failure::Invalid(format!("status list {}: {m}", entry.list));
    verify_signature(list, keys, VC_JWT_TYP).map_err(|e| invalid(e.to_string()))?;
    let credential = list.credential();
    require_type(credential, STATUS_LIST_TYPE).map_err(|e| invalid(e.to_string()))?;
    if issuer_of(credential) != Some(record_issuer) {
        return Err(invalid(format!("not issued by {record_issuer}")));
    }
    check_validity(credential, now).map_err(|e| invalid(e.to_string()))?;
    let subject = &credential["credentialSubject"];
    if subject.get("statusPurpose").and_then(Value::as_str) != Some(entry.purpose.as_str()) {
        return Err(invalid(format!("its purpose is not {}", entry.purpose)));
    }
    let encoded = subject
        .get("encodedList")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("no encodedList".into()))?;
    if bit_at(encoded, entry.index).map_err(invalid)? {
        return Err(Failure::Invalid(match entry.purpose.as_str() {
            "revocation" => "the record is revoked".to_owned(),
            "suspension" => "the record is suspended".to_owned(),
            other => format!("the record's {other} status is set"),
        }));
    }
    Ok(())
}

/// The bit at `index` of an encodedList. An index past the end is refused rather than
/// read as unset: a list too short for its entries is not the list the record was given.
pub fn bit_at(encoded: &str, index: u64) -> Result<bool, String> {
    let bits = decode_list(encoded)?;
    if index / 8 >= bits.len() as u64 {
        return Err(format!(
            "index {index} is beyond the list's {} bits",
            bits.len() * 8
        ));
    }
    Ok(status_list::is_set(&bits, index))
}

fn decode_list(encoded: &str) -> Result<Vec<u8>, String> {
    status_list::decode(encoded).map_err(|e| e.to_string())
}
