//! Ed25519 keys as Multikey values (W3C Controlled Identifiers, "Multikey"): a multibase
//! base58btc string of a multicodec prefix followed by the raw key bytes. The platform's DID
//! document publishes its keys this way; the private form exists to read the W3C test vector.

use ed25519_dalek::{SigningKey, VerifyingKey, PUBLIC_KEY_LENGTH, SECRET_KEY_LENGTH};

/// Multicodec `ed25519-pub` (0xed) as an unsigned varint.
pub const ED25519_PUBLIC_PREFIX: [u8; 2] = [0xed, 0x01];
/// Multicodec `ed25519-priv` (0x1300) as an unsigned varint.
pub const ED25519_PRIVATE_PREFIX: [u8; 2] = [0x80, 0x26];

/// The multibase header of base58btc, the only base a Multikey for Ed25519 uses.
const BASE58BTC: char = 'z';

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MultikeyError {
    #[error("a multibase base58btc value starts with 'z'")]
    NotBase58Btc,
    #[error("the value after 'z' is not base58btc: {0}")]
    InvalidBase58(String),
    #[error("expected the multicodec prefix {expected} ({kind}), found {found}")]
    WrongPrefix {
        kind: &'static str,
        expected: &'static str,
        found: String,
    },
    #[error("an Ed25519 {kind} is {expected} bytes after its prefix, found {found}")]
    WrongLength {
        kind: &'static str,
        expected: usize,
        found: usize,
    },
    #[error("the bytes are not a usable Ed25519 public key")]
    InvalidPublicKey,
}

/// "z" + base58btc(bytes).
pub fn encode_base58btc(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(1 + bytes.len() * 138 / 100 + 1);
    out.push(BASE58BTC);
    out.push_str(&bs58::encode(bytes).into_string());
    out
}

/// Inverse of [`encode_base58btc`]; other multibase bases are refused, not converted,
/// because every value this platform reads is specified as base58btc.
pub fn decode_base58btc(value: &str) -> Result<Vec<u8>, MultikeyError> {
    let body = value
        .strip_prefix(BASE58BTC)
        .ok_or(MultikeyError::NotBase58Btc)?;
    bs58::decode(body)
        .into_vec()
        .map_err(|e| MultikeyError::InvalidBase58(e.to_string()))
}

pub fn encode_public_key(key: &VerifyingKey) -> String {
    let mut bytes = [0u8; 2 + PUBLIC_KEY_LENGTH];
    bytes[..2].copy_from_slice(&ED25519_PUBLIC_PREFIX);
    bytes[2..].copy_from_slice(key.as_bytes());
    encode_base58btc(&bytes)
}

/// Small-order keys are refused here, so a hostile controller document cannot publish one
/// for which signatures verify on many messages.
pub fn decode_public_key(multibase: &str) -> Result<VerifyingKey, MultikeyError> {
    let raw = decode_base58btc(multibase)?;
    let key = strip_prefix(
        &raw,
        ED25519_PUBLIC_PREFIX,
        "ed25519-pub",
        "0xed01",
        "public key",
    )?;
    let key = VerifyingKey::from_bytes(&key).map_err(|_| MultikeyError::InvalidPublicKey)?;
    if key.is_weak() {
        return Err(MultikeyError::InvalidPublicKey);
    }
    Ok(key)
}

pub fn encode_private_key(key: &SigningKey) -> String {
    let mut bytes = [0u8; 2 + SECRET_KEY_LENGTH];
    bytes[..2].copy_from_slice(&ED25519_PRIVATE_PREFIX);
    bytes[2..].copy_from_slice(key.as_bytes());
    encode_base58btc(&bytes)
}

pub fn decode_private_key(multibase: &str) -> Result<SigningKey, MultikeyError> {
    let raw = decode_base58btc(multibase)?;
    let seed = strip_prefix(
        &raw,
        ED25519_PRIVATE_PREFIX,
        "ed25519-priv",
        "0x8026",
        "private key",
    )?;
    Ok(SigningKey::from_bytes(&seed))
}

fn strip_prefix(
    raw: &[u8],
    prefix: [u8; 2],
    codec: &'static str,
    expected: &'static str,
    kind: &'static str,
) -> Result<[u8; 32], MultikeyError> {
    if !raw.starts_with(&prefix) {
        return Err(MultikeyError::WrongPrefix {
            kind: codec,
            expected,
            found: format!("0x{}", hex::encode(&raw[..raw.len().min(2)])),
        });
    }
    let body = &raw[2..];
    <[u8; 32]>::try_from(body).map_err(|_| MultikeyError::WrongLength {
        kind,
        expected: 32,
        found: body.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_PAIR: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/eddsa-jcs-2022/keyPair.json"
    ));

    fn vector_pair() -> (String, String) {
        let pair: serde_json::Value = serde_json::from_str(KEY_PAIR).unwrap();
        (
            pair["publicKeyMultibase"].as_str().unwrap().to_owned(),
            pair["privateKeyMultibase"].as_str().unwrap().to_owned(),
        )
    }

    #[test]
    fn the_vector_public_key_is_the_one_derived_from_its_private_key() {
        let (public, private) = vector_pair();
        let signing = decode_private_key(&private).unwrap();
        assert_eq!(decode_public_key(&public).unwrap(), signing.verifying_key());
        assert_eq!(encode_public_key(&signing.verifying_key()), public);
        assert_eq!(encode_private_key(&signing), private);
    }

    #[test]
    fn a_public_key_survives_a_round_trip() {
        let key = SigningKey::from_bytes(&[7u8; 32]).verifying_key();
        let encoded = encode_public_key(&key);
        assert!(encoded.starts_with("z6Mk"), "{encoded}");
        assert_eq!(decode_public_key(&encoded).unwrap(), key);
    }

    #[test]
    fn a_private_key_survives_a_round_trip() {
        let key = SigningKey::from_bytes(&[9u8; 32]);
        let decoded = decode_private_key(&encode_private_key(&key)).unwrap();
        assert_eq!(decoded.to_bytes(), key.to_bytes());
    }

    #[test]
    fn a_value_without_the_z_header_is_refused() {
        let (public, _) = vector_pair();
        let base58_without_header = &public[1..];
        assert_eq!(
            decode_public_key(base58_without_header),
            Err(MultikeyError::NotBase58Btc)
        );
        assert_eq!(
            decode_public_key(&format!("u{base58_without_header}")),
            Err(MultikeyError::NotBase58Btc)
        );
    }

    #[test]
    fn characters_outside_the_base58_alphabet_are_refused() {
        // 0, O, I and l are left out of base58 so they cannot be misread.
        assert!(matches!(
            decode_public_key("z6Mk0OIl"),
            Err(MultikeyError::InvalidBase58(_))
        ));
    }

    #[test]
    fn a_private_key_is_not_accepted_as_a_public_key_nor_the_reverse() {
        let (public, private) = vector_pair();
        assert!(matches!(
            decode_public_key(&private),
            Err(MultikeyError::WrongPrefix { found, .. }) if found == "0x8026"
        ));
        assert!(matches!(
            decode_private_key(&public),
            Err(MultikeyError::WrongPrefix { found, .. }) if found == "0xed01"
        ));
    }

    #[test]
    fn a_key_of_the_wrong_length_is_refused() {
        let mut short = ED25519_PUBLIC_PREFIX.to_vec();
        short.extend_from_slice(&[1u8; 31]);
        assert_eq!(
            decode_public_key(&encode_base58btc(&short)),
            Err(MultikeyError::WrongLength {
                kind: "public key",
                expected: 32,
                found: 31
            })
        );
        let mut long = ED25519_PRIVATE_PREFIX.to_vec();
        long.extend_from_slice(&[1u8; 33]);
        assert!(matches!(
            decode_private_key(&encode_base58btc(&long)),
            Err(MultikeyError::WrongLength { found: 33, .. })
        ));
        assert!(matches!(
            decode_public_key("z"),
            Err(MultikeyError::WrongPrefix { found, .. }) if found == "0x"
        ));
    }

    #[test]
    fn a_small_order_public_key_is_refused() {
        // The identity point: against it, (R = s·B, s) is a valid signature of every message.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let mut raw = ED25519_PUBLIC_PREFIX.to_vec();
        raw.extend_from_slice(&identity);
        assert_eq!(
            decode_public_key(&encode_base58btc(&raw)),
            Err(MultikeyError::InvalidPublicKey)
        );
    }
}
