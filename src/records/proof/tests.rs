//! Unit tests of [`super`]: the W3C vector, then each way a proof must be refused.

use super::*;
use serde_json::json;

macro_rules! vector {
    ($file:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/vectors/eddsa-jcs-2022/",
            $file
        ))
    };
}

const ISSUER: &str = "did:web:certs.example";
const ISSUER_KEY: &str = "did:web:certs.example#key-1";

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

fn vector_key() -> SigningKey {
    let pair = json(vector!("keyPair.json"));
    multikey::decode_private_key(pair["privateKeyMultibase"].as_str().unwrap()).unwrap()
}

fn signed_vector() -> Value {
    json(vector!("signedJCS.json"))
}

fn vector_options() -> ProofOptions {
    let proof = &signed_vector()["proof"];
    ProofOptions {
        verification_method: proof["verificationMethod"].as_str().unwrap().into(),
        created: proof["created"].as_str().unwrap().into(),
        proof_purpose: proof["proofPurpose"].as_str().unwrap().into(),
    }
}

fn unsigned_vector() -> Value {
    let mut doc = signed_vector();
    doc.as_object_mut().unwrap().remove("proof");
    doc
}

/// Resolves only the method the vector's proof names, like a did:key resolver would.
fn vector_resolver(method: &str) -> Option<VerifyingKey> {
    (method == vector_options().verification_method).then(|| vector_key().verifying_key())
}

fn issuer_resolver(method: &str) -> Option<VerifyingKey> {
    (method == ISSUER_KEY).then(|| vector_key().verifying_key())
}

/// The vector's credential re-issued by an issuer that controls its key.
fn issued() -> Value {
    let mut doc = unsigned_vector();
    doc["issuer"] = json!(ISSUER);
    let options = ProofOptions {
        verification_method: ISSUER_KEY.into(),
        ..vector_options()
    };
    sign(&doc, &options, &vector_key()).unwrap()
}

fn verify_issued(doc: &Value) -> Result<(), ProofError> {
    verify(doc, "assertionMethod", issuer_resolver)
}

#[test]
fn the_w3c_vector_is_reproduced_byte_for_byte() {
    let doc = unsigned_vector();
    let canonical = canonical_document(&doc).unwrap();
    assert_eq!(canonical, vector!("canonDocJCS.txt").trim_end());

    let config = proof_config(&doc, &vector_options()).unwrap();
    let config_jcs = canonical_json(&config).unwrap();
    let expected_config = canonical_json(&json(vector!("proofConfigJCS.json"))).unwrap();
    assert_eq!(config_jcs, expected_config);

    let hash = combined_hash(&config_jcs, &canonical);
    assert_eq!(hex::encode(hash), vector!("combinedHashJCS.txt").trim_end());

    let secured = sign(&doc, &vector_options(), &vector_key()).unwrap();
    let proof_value = secured["proof"]["proofValue"].as_str().unwrap();
    assert_eq!(proof_value, vector!("sigBTC58JCS.txt").trim_end());
    assert_eq!(proof_value, signed_vector()["proof"]["proofValue"]);
    assert_eq!(
        secured,
        signed_vector(),
        "the whole signed document, proof @context included"
    );
}

#[test]
fn the_w3c_vector_passes_the_cryptosuite_verification() {
    assert_eq!(
        verify_proof(&signed_vector(), "assertionMethod", vector_resolver),
        Ok(())
    );
}

#[test]
fn the_w3c_vector_fails_verify_because_its_did_key_is_not_controlled_by_its_issuer() {
    assert!(matches!(
        verify(&signed_vector(), "assertionMethod", vector_resolver),
        Err(ProofError::ForeignVerificationMethod { .. })
    ));
}

#[test]
fn a_record_signed_with_its_issuers_key_verifies() {
    assert_eq!(verify_issued(&issued()), Ok(()));
}

#[test]
fn an_issuer_given_as_an_object_controls_its_keys_too() {
    let mut doc = unsigned_vector();
    doc["issuer"] = json!({"id": ISSUER, "name": "Certificates"});
    let options = ProofOptions {
        verification_method: ISSUER_KEY.into(),
        ..vector_options()
    };
    let secured = sign(&doc, &options, &vector_key()).unwrap();
    assert_eq!(verify_issued(&secured), Ok(()));
}

#[test]
fn a_tampered_credential_subject_is_refused() {
    let mut doc = issued();
    doc["credentialSubject"]["alumniOf"] = json!("The School of Forgeries");
    assert_eq!(verify_issued(&doc), Err(ProofError::BadSignature));

    let mut vector = signed_vector();
    vector["credentialSubject"]["id"] = json!("did:example:someone-else");
    let result = verify_proof(&vector, "assertionMethod", vector_resolver);
    assert_eq!(result, Err(ProofError::BadSignature));
}

#[test]
fn a_proof_made_for_another_purpose_is_refused() {
    assert!(matches!(
        verify(&issued(), "authentication", issuer_resolver),
        Err(ProofError::WrongProofPurpose { .. })
    ));
    let mut doc = issued();
    doc["proof"]["proofPurpose"] = json!("authentication");
    assert!(matches!(
        verify_issued(&doc),
        Err(ProofError::WrongProofPurpose { .. })
    ));
}

#[test]
fn another_cryptosuite_or_proof_type_is_refused() {
    let mut doc = issued();
    doc["proof"]["cryptosuite"] = json!("eddsa-rdfc-2022");
    let expected = ProofError::WrongCryptosuite("eddsa-rdfc-2022".into());
    assert_eq!(verify_issued(&doc), Err(expected));

    let mut doc = issued();
    doc["proof"]["type"] = json!("Ed25519Signature2020");
    let expected = ProofError::WrongProofType("Ed25519Signature2020".into());
    assert_eq!(verify_issued(&doc), Err(expected));
}

#[test]
fn a_verification_method_of_another_controller_is_refused() {
    for method in [
        "did:web:evil.example#key-1",
        "did:web:certs.example.evil#key-1",
        "did:web:certs.example:evil#key-1",
        "did:web:certs.example#",
    ] {
        let mut doc = issued();
        doc["proof"]["verificationMethod"] = json!(method);
        assert!(
            matches!(
                verify(&doc, "assertionMethod", |_| Some(
                    vector_key().verifying_key()
                )),
                Err(ProofError::ForeignVerificationMethod { .. })
            ),
            "{method}"
        );
    }
}

#[test]
fn a_document_without_issuer_is_refused() {
    let mut doc = issued();
    doc.as_object_mut().unwrap().remove("issuer");
    assert_eq!(verify_issued(&doc), Err(ProofError::MissingIssuer));
}

#[test]
fn an_unknown_key_is_refused() {
    let result = verify(&issued(), "assertionMethod", |_| None);
    assert_eq!(result, Err(ProofError::UnknownKey(ISSUER_KEY.into())));
}

#[test]
fn a_signature_by_another_key_is_refused() {
    let other = SigningKey::from_bytes(&[3u8; 32]).verifying_key();
    let result = verify(&issued(), "assertionMethod", |_| Some(other));
    assert_eq!(result, Err(ProofError::BadSignature));
}

#[test]
fn a_document_whose_context_does_not_start_with_the_proofs_is_refused() {
    for context in [
        json!(["https://www.w3.org/ns/credentials/v2"]),
        json!([
            "https://www.w3.org/ns/credentials/examples/v2",
            "https://www.w3.org/ns/credentials/v2"
        ]),
        json!("https://www.w3.org/ns/credentials/v2"),
    ] {
        let mut doc = issued();
        doc["@context"] = context;
        assert_eq!(verify_issued(&doc), Err(ProofError::ContextMismatch));
    }
    let mut doc = issued();
    doc.as_object_mut().unwrap().remove("@context");
    assert_eq!(verify_issued(&doc), Err(ProofError::ContextMismatch));
}

#[test]
fn a_context_appended_after_signing_is_tolerated_as_the_spec_requires() {
    let mut doc = issued();
    doc["@context"]
        .as_array_mut()
        .unwrap()
        .push(json!("https://example.org/extra/v1"));
    assert_eq!(verify_issued(&doc), Ok(()));
}

#[test]
fn a_truncated_or_misencoded_proof_value_is_refused() {
    let mut doc = issued();
    let value = doc["proof"]["proofValue"].as_str().unwrap().to_owned();
    doc["proof"]["proofValue"] = json!(&value[..value.len() - 4]);
    assert!(matches!(
        verify_issued(&doc),
        Err(ProofError::WrongSignatureLength(n)) if n < 64
    ));
    doc["proof"]["proofValue"] = json!(&value[1..]);
    assert_eq!(
        verify_issued(&doc),
        Err(ProofError::ProofValueEncoding(MultikeyError::NotBase58Btc))
    );
    doc.as_object_mut().unwrap()["proof"]
        .as_object_mut()
        .unwrap()
        .remove("proofValue");
    assert_eq!(
        verify_issued(&doc),
        Err(ProofError::MissingField("proofValue"))
    );
}

#[test]
fn a_missing_or_listed_proof_is_refused() {
    assert_eq!(
        verify_issued(&unsigned_vector()),
        Err(ProofError::MissingProof)
    );
    let mut doc = issued();
    doc["proof"] = json!([doc["proof"].clone()]);
    assert_eq!(verify_issued(&doc), Err(ProofError::MalformedProof));
    assert_eq!(verify_issued(&json!([])), Err(ProofError::NotAnObject));
}

#[test]
fn signing_refuses_a_signed_document_and_a_malformed_created() {
    let key = vector_key();
    let result = sign(&signed_vector(), &vector_options(), &key);
    assert_eq!(result, Err(ProofError::AlreadySigned));
    for created in ["2023-02-24 23:36:38Z", "2023-02-24T23:36:38", "yesterday"] {
        let options = ProofOptions {
            created: created.into(),
            ..vector_options()
        };
        assert!(
            matches!(
                sign(&unsigned_vector(), &options, &key),
                Err(ProofError::InvalidCreated(_))
            ),
            "{created}"
        );
    }
}
