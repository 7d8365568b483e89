//! Compact JWS signing with Ed25519 (`EdDSA`), for every token and message the platform
//! signs: access tokens, issuing-body protocol messages, vc+jwt records.
//!
//! jsonwebtoken keeps an Ed25519 key as PKCS#8 bytes and derives the key pair from them
//! on every signature, a base-point multiplication as costly as the signature itself;
//! signing with the key already in memory halves the cost. Ed25519 signatures are
//! deterministic, so the tokens are byte for byte what jsonwebtoken produces (tested).
//! Verification stays with jsonwebtoken.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};
use jsonwebtoken::Header;
use serde::Serialize;

/// `header.payload.signature`, each part base64url without padding. The header's `alg`
/// must be `EdDSA`; it is the caller's, so that `typ`, `cty` and `kid` are too.
pub fn sign<T: Serialize>(
    header: &Header,
    claims: &T,
    key: &SigningKey,
) -> Result<String, serde_json::Error> {
    let mut token = URL_SAFE_NO_PAD.encode(serde_json::to_vec(header)?);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(serde_json::to_vec(claims)?, &mut token);
    let signature = key.sign(token.as_bytes());
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature.to_bytes(), &mut token);
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::pkcs8::EncodePrivateKey;
    use jsonwebtoken::{Algorithm, EncodingKey};

    #[test]
    fn tokens_are_byte_for_byte_what_jsonwebtoken_signs() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let pem = key.to_pkcs8_pem(Default::default()).unwrap();
        let encoding = EncodingKey::from_ed_pem(pem.as_bytes()).unwrap();
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some("example+jwt".into());
        header.kid = Some("k1".into());
        let claims = serde_json::json!({"iss": "a", "n": 1, "text": "ü / \"q\""});
        assert_eq!(
            sign(&header, &claims, &key).unwrap(),
            jsonwebtoken::encode(&header, &claims, &encoding).unwrap()
        );
    }
}
