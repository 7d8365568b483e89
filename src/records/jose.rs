//! The VC-JOSE form of a record: a compact JWS (EdDSA) whose payload is the credential
//! without its Data Integrity proof, typed `vc+jwt` so it cannot pass for an access token
//! or a protocol message.

use jsonwebtoken::{Algorithm, Header};
use serde_json::Value;

use super::did;
use crate::auth::keys::KeyRing;
use crate::error::ApiError;

pub const VC_JWT_TYP: &str = "vc+jwt";
pub const VC_JWT_MEDIA_TYPE: &str = "application/vc+jwt";

pub fn encode(credential: &Value, keys: &KeyRing, issuer_did: &str) -> Result<String, ApiError> {
    let mut payload = credential.clone();
    if let Some(object) = payload.as_object_mut() {
        object.remove("proof");
    }
    let key = keys.active();
    let mut header = Header::new(Algorithm::EdDSA);
    header.typ = Some(VC_JWT_TYP.into());
    header.cty = Some("vc".into());
    header.kid = Some(did::method_id(issuer_did, &key.kid));
    crate::auth::jws::sign(&header, &payload, &key.signing).map_err(ApiError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;
    use jsonwebtoken::{DecodingKey, Validation};

    #[test]
    fn the_jwt_carries_its_own_typ_and_the_credential_without_proof() {
        let ring = KeyRing::new(SigningKey::from_bytes(&[3; 32])).unwrap();
        let credential = serde_json::json!({"id": "urn:uuid:1", "proof": {"x": 1}});
        let jwt = encode(&credential, &ring, "did:web:example.org").unwrap();
        let header = jsonwebtoken::decode_header(&jwt).unwrap();
        assert_eq!(header.typ.as_deref(), Some("vc+jwt"));
        assert_eq!(header.cty.as_deref(), Some("vc"));
        assert_eq!(
            header.kid.unwrap(),
            format!("did:web:example.org#{}", ring.active().kid)
        );
        let key: DecodingKey = ring.decoding_key(&ring.active().kid).unwrap();
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        let payload = jsonwebtoken::decode::<Value>(&jwt, &key, &validation)
            .unwrap()
            .claims;
        assert_eq!(payload, serde_json::json!({"id": "urn:uuid:1"}));
    }
}
