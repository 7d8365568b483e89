//! Records verified per second by the offline verifier (what `certverify verify-record`
//! runs per record): N credentials of the record's shape signed in-process, then verified
//! as Data Integrity JSON and as vc+jwt. `cargo bench --bench verify`.

use std::time::Instant;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use certverify::auth::keys::{jwk_of, kid_of};
use certverify::records::offline::{self, Signed};
use certverify::records::offline_keys::KeySet;
use certverify::records::{did, proof};
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{json, Value};

const RECORDS: usize = 5_000;
const ISSUER: &str = "did:web:certverify.example";

fn credential(i: usize) -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": format!("urn:uuid:00000000-0000-4000-8000-{i:012}"),
        "type": ["VerifiableCredential", "QualificationVerificationCredential"],
        "issuer": ISSUER,
        "validFrom": "2026-01-01T00:00:00Z", "validUntil": "2099-01-01T00:00:00Z",
        "credentialSubject": {
            "name": format!("Holder {i}"), "nationality": "GB",
            "identityDocument": {"type": "passport", "digest": "n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg", "salt": "c2FsdHNhbHRzYWx0c2FsdA"},
            "qualification": {"id": "q1", "code": "acca-fcca", "name": "FCCA", "nameZh": "英国特许公认会计师公会资深会员",
                "categories": ["A", "B", "C"], "listVersion": "3.0",
                "issuingBody": {"code": "acca", "name": "ACCA", "country": "GB"}},
            "certificate": {"number": format!("FCCA-{i}"), "issuedOn": "2019-06-30", "expiresOn": null},
            "verification": {"method": "issuer_api", "confirmedAt": "2026-01-01T00:00:00Z", "requestId": "r1"}
        },
        "credentialStatus": [
            {"type": "BitstringStatusListEntry", "statusPurpose": "revocation", "statusListIndex": i.to_string(), "statusListCredential": "https://certverify.example/v1/status-lists/r"},
            {"type": "BitstringStatusListEntry", "statusPurpose": "suspension", "statusListIndex": i.to_string(), "statusListCredential": "https://certverify.example/v1/status-lists/s"}
        ]
    })
}

fn main() -> anyhow::Result<()> {
    let key = SigningKey::generate(&mut rand_core::OsRng);
    let method = did::method_id(ISSUER, &kid_of(&key.verifying_key()));
    let keys = KeySet::from_jwks(&json!({"keys": [jwk_of(&key.verifying_key())]}))
        .map_err(anyhow::Error::msg)?;
    let options = proof::ProofOptions {
        verification_method: method.clone(),
        created: "2026-01-01T00:00:00Z".into(),
        proof_purpose: "assertionMethod".into(),
    };
    let header = URL_SAFE_NO_PAD.encode(serde_json::to_vec(
        &json!({"alg": "EdDSA", "typ": "vc+jwt", "cty": "vc", "kid": method}),
    )?);
    let mut json_records = Vec::with_capacity(RECORDS);
    let mut jwt_records = Vec::with_capacity(RECORDS);
    for i in 0..RECORDS {
        let unsigned = credential(i);
        json_records.push(proof::sign(&unsigned, &options, &key)?.to_string());
        let input = format!(
            "{header}.{}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&unsigned)?)
        );
        let signature = URL_SAFE_NO_PAD.encode(key.sign(input.as_bytes()).to_bytes());
        jwt_records.push(format!("{input}.{signature}"));
    }
    let now = chrono::Utc::now();
    for (form, records) in [
        ("Data Integrity JSON", &json_records),
        ("vc+jwt", &jwt_records),
    ] {
        let started = Instant::now();
        for text in records {
            let signed: Signed = offline::parse(text)?;
            offline::verify_record(&signed, &keys, now)?;
        }
        let elapsed = started.elapsed();
        println!(
            "verify-record, {form}: {RECORDS} records in {:.2} s = {:.0} records/s (parse, signature, type, dates; one core)",
            elapsed.as_secs_f64(),
            RECORDS as f64 / elapsed.as_secs_f64()
        );
    }
    Ok(())
}
