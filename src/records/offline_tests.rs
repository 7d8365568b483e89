//! Credentials signed here with the platform's own proof code, then verified offline.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{json, Value};

use super::*;
use crate::auth::keys::{jwk_of, kid_of};
use crate::records::offline_status::{self, StatusEntry};
use crate::records::{did, status_list};

const ISSUER: &str = "did:web:certverify.example%3A8443";
const LIST: &str = "https://certverify.example:8443/v1/status-lists/r1";

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn method(key: &SigningKey) -> String {
    did::method_id(ISSUER, &kid_of(&key.verifying_key()))
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-26T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn record() -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "urn:uuid:0d3c4bd8-7e0f-4a43-9f5f-0c1b4b8b2a11",
        "type": ["VerifiableCredential", "QualificationVerificationCredential"],
        "issuer": ISSUER,
        "validFrom": "2026-01-01T00:00:00Z",
        "validUntil": "2029-01-01T00:00:00Z",
        "credentialSubject": {"name": "Ana Lima", "nationality": "BR"},
        "credentialStatus": [
            {"type": "BitstringStatusListEntry", "statusPurpose": "revocation", "statusListIndex": "94567", "statusListCredential": LIST}
        ]
    })
}

fn sign(document: &Value, key: &SigningKey) -> Value {
    let options = proof::ProofOptions {
        verification_method: method(key),
        created: "2026-01-01T00:00:00Z".into(),
        proof_purpose: "assertionMethod".into(),
    };
    proof::sign(document, &options, key).unwrap()
}

fn jwks(keys: &[&SigningKey]) -> KeySet {
    let keys: Vec<Value> = keys
        .iter()
        .map(|k| serde_json::to_value(jwk_of(&k.verifying_key())).unwrap())
        .collect();
    KeySet::from_jwks(&json!({ "keys": keys })).unwrap()
}

fn did_keys(keys: &[&SigningKey]) -> KeySet {
    let published: Vec<_> = keys
        .iter()
        .map(|k| (kid_of(&k.verifying_key()), k.verifying_key()))
        .collect();
    KeySet::from_did_document(&did::document(ISSUER, &published)).unwrap()
}

fn jwt(header: &Value, payload: &Value, key: &SigningKey) -> String {
    let part = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
    let input = format!("{}.{}", part(header), part(payload));
    let signature = key.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

fn vc_jwt_header(key: &SigningKey) -> Value {
    json!({"alg": "EdDSA", "typ": "vc+jwt", "cty": "vc", "kid": method(key)})
}

fn check(text: &str, keys: &KeySet) -> Result<Verified, Failure> {
    verify_record(&parse(text)?, keys, now())
}

fn reason(result: Result<Verified, Failure>) -> String {
    match result {
        Err(Failure::Invalid(reason)) => reason,
        other => panic!("expected invalid, got {other:?}"),
    }
}

#[test]
fn a_signed_record_verifies_with_the_jwks_and_with_the_did_document() {
    let k = key(1);
    let signed = sign(&record(), &k).to_string();
    for keys in [jwks(&[&key(9), &k]), did_keys(&[&key(9), &k])] {
        let verified = check(&signed, &keys).unwrap();
        assert_eq!(verified.issuer, ISSUER);
        assert_eq!(verified.verification_method, method(&k));
        assert_eq!(verified.valid_until, "2029-01-01T00:00:00Z");
    }
}

#[test]
fn a_record_view_is_read_for_its_credential() {
    let k = key(1);
    let view = json!({"id": "r1", "status": "valid", "status_reason": null, "credential": sign(&record(), &k)});
    assert!(check(&view.to_string(), &jwks(&[&k])).is_ok());
}

#[test]
fn a_tampered_record_fails_and_says_the_signature_does_not_match() {
    let k = key(1);
    let mut signed = sign(&record(), &k);
    signed["credentialSubject"]["name"] = json!("Eve Lima");
    let why = reason(check(&signed.to_string(), &jwks(&[&k])));
    assert!(why.contains("signature"), "{why}");
}

#[test]
fn a_key_that_is_not_published_or_not_the_issuers_is_refused() {
    let k = key(1);
    let signed = sign(&record(), &k).to_string();
    let why = reason(check(&signed, &jwks(&[&key(2)])));
    assert!(why.contains("no key"), "{why}");
    let mut foreign = record();
    foreign["issuer"] = json!("did:web:elsewhere.example");
    let why = reason(check(&sign(&foreign, &k).to_string(), &jwks(&[&k])));
    assert!(why.contains("not controlled by the issuer"), "{why}");
}

#[test]
fn a_vc_jwt_verifies_and_a_tampered_one_or_another_typ_does_not() {
    let k = key(1);
    let token = jwt(&vc_jwt_header(&k), &record(), &k);
    assert_eq!(
        check(&token, &did_keys(&[&k])).unwrap().verification_method,
        method(&k)
    );

    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut other = record();
    other["credentialSubject"]["name"] = json!("Eve Lima");
    parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&other).unwrap());
    let why = reason(check(&parts.join("."), &jwks(&[&k])));
    assert!(why.contains("signature"), "{why}");

    let mut header = vc_jwt_header(&k);
    header["typ"] = json!("at+jwt");
    let why = reason(check(&jwt(&header, &record(), &k), &jwks(&[&k])));
    assert!(why.contains("typ"), "{why}");
}

#[test]
fn a_status_list_credential_is_not_a_record() {
    let k = key(1);
    let encoded = status_list::encode(status_list::LIST_SIZE, &[]).unwrap();
    let list =
        status_list::credential(LIST, ISSUER, "revocation", &encoded, "2026-01-01T00:00:00Z");
    let why = reason(check(&sign(&list, &k).to_string(), &jwks(&[&k])));
    assert!(why.contains("QualificationVerificationCredential"), "{why}");
}

#[test]
fn a_record_is_valid_from_valid_from_until_just_before_valid_until() {
    let k = key(1);
    let mut early = record();
    early["validFrom"] = json!("2026-11-26T12:00:01Z");
    let why = reason(check(&sign(&early, &k).to_string(), &jwks(&[&k])));
    assert!(why.contains("not valid before"), "{why}");
    let mut late = record();
    late["validUntil"] = json!("2026-11-26T12:00:00Z");
    let why = reason(check(&sign(&late, &k).to_string(), &jwks(&[&k])));
    assert!(why.contains("expired"), "{why}");
}

#[test]
fn what_is_neither_json_nor_a_jws_is_unusable_input() {
    for text in ["", "hello", "{not json", "a.b", "a.b.c.d", "e30.e30.!!"] {
        assert!(matches!(parse(text), Err(Failure::Unusable(_))), "{text:?}");
    }
}

fn signed_list(key: &SigningKey, purpose: &str, set: &[i64]) -> Signed {
    let encoded = status_list::encode(status_list::LIST_SIZE, set).unwrap();
    let list = status_list::credential(LIST, ISSUER, purpose, &encoded, "2026-01-01T00:00:00Z");
    Signed::DataIntegrity(sign(&list, key))
}

#[test]
fn the_status_bit_of_the_record_decides_and_only_a_list_signed_by_the_issuer_counts() {
    let k = key(1);
    let keys = jwks(&[&k]);
    let entries = offline_status::entries(&record()).unwrap();
    assert_eq!(
        entries,
        [StatusEntry {
            purpose: "revocation".into(),
            index: 94_567,
            list: LIST.into()
        }]
    );
    let entry = &entries[0];
    let run = |list: &Signed| offline_status::check(entry, list, &keys, ISSUER, now());
    assert_eq!(
        run(&signed_list(&k, "revocation", &[94_566, 94_568])),
        Ok(())
    );
    assert_eq!(
        run(&signed_list(&k, "revocation", &[94_567])),
        Err(Failure::Invalid("the record is revoked".into()))
    );
    let suspended = StatusEntry {
        purpose: "suspension".into(),
        ..entry.clone()
    };
    assert_eq!(
        offline_status::check(
            &suspended,
            &signed_list(&k, "suspension", &[94_567]),
            &keys,
            ISSUER,
            now()
        ),
        Err(Failure::Invalid("the record is suspended".into()))
    );
    let forged = run(&signed_list(&key(2), "revocation", &[]));
    assert!(matches!(forged, Err(Failure::Invalid(m)) if m.contains("no key")));
    let other_purpose = run(&signed_list(&k, "suspension", &[]));
    assert!(matches!(other_purpose, Err(Failure::Invalid(m)) if m.contains("purpose")));
}

#[test]
fn index_zero_is_the_most_significant_bit_and_an_index_past_the_end_is_refused() {
    let encoded = status_list::encode(16, &[0]).unwrap();
    assert_eq!(offline_status::bit_at(&encoded, 0), Ok(true));
    assert_eq!(offline_status::bit_at(&encoded, 7), Ok(false));
    assert!(offline_status::bit_at(&encoded, 16).is_err());
    assert!(offline_status::bit_at("zabc", 0).is_err());
}

#[test]
fn did_web_resolves_to_the_well_known_document_with_its_port() {
    use crate::records::offline_keys::did_web_url;
    assert_eq!(
        did_web_url(ISSUER).as_deref(),
        Some("https://certverify.example:8443/.well-known/did.json")
    );
    assert_eq!(
        did_web_url("did:web:example.org:platform").as_deref(),
        Some("https://example.org/platform/did.json")
    );
    assert_eq!(did_web_url("did:key:z6Mk"), None);
}
