//! The platform's `did:web` identifier and DID document: the issuer of every record, and
//! where verifiers find its keys as Multikey.

use ed25519_dalek::VerifyingKey;
use serde_json::{json, Value};

use super::multikey;

/// `did:web` of a base URL: the host, its port percent-encoded, path segments as `:`
/// (did:web method specification, section 3.2).
pub fn did_web(public_url: &str) -> String {
    let rest = public_url
        .split_once("://")
        .map_or(public_url, |(_, rest)| rest)
        .trim_end_matches('/');
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut did = format!("did:web:{}", authority.replace(':', "%3A"));
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        did.push(':');
        did.push_str(segment);
    }
    did
}

/// The verification method id of a key: `<did>#<kid>`, the kid being the JWKS kid.
pub fn method_id(did: &str, kid: &str) -> String {
    format!("{did}#{kid}")
}

/// The DID document, listing every published key under assertionMethod.
pub fn document(did: &str, keys: &[(String, VerifyingKey)]) -> Value {
    let methods: Vec<Value> = keys
        .iter()
        .map(|(kid, key)| {
            json!({
                "id": method_id(did, kid),
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": multikey::encode_public_key(key),
            })
        })
        .collect();
    let ids: Vec<Value> = keys
        .iter()
        .map(|(kid, _)| Value::String(method_id(did, kid)))
        .collect();
    json!({
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": ids,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_web_encodes_the_port_and_the_path() {
        assert_eq!(
            did_web("https://certverify.example.org"),
            "did:web:certverify.example.org"
        );
        assert_eq!(
            did_web("https://certverify.example.org/"),
            "did:web:certverify.example.org"
        );
        assert_eq!(did_web("http://127.0.0.1:8080"), "did:web:127.0.0.1%3A8080");
        assert_eq!(
            did_web("https://example.org/sh/verify"),
            "did:web:example.org:sh:verify"
        );
    }

    #[test]
    fn every_key_is_an_assertion_method_controlled_by_the_did() {
        use ed25519_dalek::SigningKey;
        let key = SigningKey::from_bytes(&[1; 32]).verifying_key();
        let doc = document("did:web:x", &[("k1".into(), key)]);
        assert_eq!(doc["assertionMethod"], json!(["did:web:x#k1"]));
        assert_eq!(doc["verificationMethod"][0]["controller"], "did:web:x");
        assert_eq!(
            multikey::decode_public_key(
                doc["verificationMethod"][0]["publicKeyMultibase"]
                    .as_str()
                    .unwrap()
            )
            .unwrap(),
            key
        );
    }
}
