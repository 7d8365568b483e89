//! Bitstring Status List v1.0: a bitstring (index 0 is the most significant bit of the
//! first byte), GZIP-compressed, multibase base64url (`u`, no padding) in `encodedList`.

use std::io::{Read, Write};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::{json, Value};

/// Entries per list: the specification's minimum, so one list hides each record among
/// 131 072 others.
pub const LIST_SIZE: i64 = 131_072;

/// Decompressed lists larger than this are refused (a gzip bomb guard for verifiers).
const MAX_DECODED_BYTES: u64 = 16 * 1024 * 1024;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StatusListError {
    #[error("encodedList is not multibase base64url (it must start with 'u')")]
    Multibase,
    #[error("encodedList is not GZIP data")]
    Gzip,
    #[error("the decoded list is larger than 16 MB")]
    TooLarge,
}

/// The encodedList of a list of `size` bits with the given indices set.
pub fn encode(size: i64, set: &[i64]) -> std::io::Result<String> {
    let mut bits = vec![0u8; usize::try_from(size / 8).unwrap_or(0)];
    for &index in set {
        if let Some(byte) = usize::try_from(index / 8)
            .ok()
            .and_then(|i| bits.get_mut(i))
        {
            *byte |= 0x80 >> (index % 8);
        }
    }
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(&bits)?;
    Ok(format!("u{}", URL_SAFE_NO_PAD.encode(gz.finish()?)))
}

pub fn decode(encoded: &str) -> Result<Vec<u8>, StatusListError> {
    let b64 = encoded
        .strip_prefix('u')
        .ok_or(StatusListError::Multibase)?;
    let gz = URL_SAFE_NO_PAD
        .decode(b64)
        .map_err(|_| StatusListError::Multibase)?;
    let mut bits = Vec::new();
    GzDecoder::new(gz.as_slice())
        .take(MAX_DECODED_BYTES + 1)
        .read_to_end(&mut bits)
        .map_err(|_| StatusListError::Gzip)?;
    if bits.len() as u64 > MAX_DECODED_BYTES {
        return Err(StatusListError::TooLarge);
    }
    Ok(bits)
}

/// The bit at `index`; an index past the end reads as unset.
pub fn is_set(bits: &[u8], index: u64) -> bool {
    usize::try_from(index / 8)
        .ok()
        .and_then(|i| bits.get(i))
        .is_some_and(|byte| byte & (0x80 >> (index % 8)) != 0)
}

/// The unsigned BitstringStatusListCredential for a list served at `url`.
pub fn credential(
    url: &str,
    issuer: &str,
    purpose: &str,
    encoded: &str,
    valid_from: &str,
) -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": valid_from,
        "credentialSubject": {
            "id": format!("{url}#list"),
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": encoded,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_indices_read_back_and_nothing_else_is_set() {
        let encoded = encode(LIST_SIZE, &[0, 7, 8, 94_567, LIST_SIZE - 1]).unwrap();
        let bits = decode(&encoded).unwrap();
        assert_eq!(bits.len() as i64, LIST_SIZE / 8);
        assert_eq!(bits[0], 0b1000_0001, "index 0 is the most significant bit");
        for index in [0, 7, 8, 94_567, LIST_SIZE - 1] {
            assert!(is_set(&bits, index as u64), "{index}");
        }
        let set = (0..LIST_SIZE as u64).filter(|&i| is_set(&bits, i)).count();
        assert_eq!(set, 5);
        assert!(!is_set(&bits, LIST_SIZE as u64 + 10));
    }

    #[test]
    fn an_empty_list_is_small_on_the_wire() {
        let encoded = encode(LIST_SIZE, &[]).unwrap();
        assert!(encoded.starts_with('u'));
        assert!(encoded.len() < 200, "{}", encoded.len());
    }

    #[test]
    fn the_w3c_example_list_decodes() {
        // Bitstring Status List v1.0, example 1: an all-zero list of 131 072 entries.
        let bits = decode("uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA")
            .unwrap();
        assert_eq!(bits.len(), 16_384);
        assert!(bits.iter().all(|b| *b == 0));
    }

    #[test]
    fn malformed_lists_are_named() {
        assert_eq!(decode("H4sI"), Err(StatusListError::Multibase));
        assert_eq!(decode("u!!!"), Err(StatusListError::Multibase));
        assert_eq!(decode("uAAAA"), Err(StatusListError::Gzip));
    }
}
