//! Records: issued in the confirming transaction, read by agencies as JSON or vc+jwt,
//! verifiable with the published keys, before and after key rotation.

use crate::times::JsonBody;
use certverify::db::schema::{audit_log, record_access, records};
use certverify::records::proof;
use diesel::prelude::*;
use serde_json::Value;

use crate::helpers::assert_problem;
use crate::records_helpers::{did_keys, identity_digest, issued_record};

#[tokio::test]
async fn a_confirmed_request_becomes_one_signed_record_that_verifies_with_the_did_document() {
    let r = issued_record().await;
    let view = r.read().await;
    assert_eq!(view["id"], r.record_id);
    assert_eq!(view["status"], "valid");
    assert_eq!(view["status_reason"], Value::Null);
    let vc = &view["credential"];
    let did = format!(
        "did:web:{}",
        r.w.app
            .url("")
            .trim_start_matches("http://")
            .replace(':', "%3A")
    );
    assert_eq!(vc["issuer"], did);
    assert_eq!(vc["id"], format!("urn:uuid:{}", r.record_id));
    assert_eq!(vc["type"][1], "QualificationVerificationCredential");
    let subject = &vc["credentialSubject"];
    assert_eq!(subject["name"], "Ana Lima");
    assert_eq!(subject["qualification"]["code"], "acca-fcca");
    assert_eq!(
        subject["qualification"]["categories"],
        serde_json::json!(["A", "B", "C"])
    );
    assert_eq!(subject["certificate"]["number"], "FCCA-1001");
    assert_eq!(subject["verification"]["method"], "issuer_api");
    assert_eq!(subject["verification"]["requestId"], r.request_id);
    let doc = &subject["identityDocument"];
    assert_eq!(
        doc["digest"],
        identity_digest(doc["salt"].as_str().unwrap(), "PASSPORT:BR:FZ1234567"),
        "an agency holding the passport recomputes the digest"
    );
    assert!(
        !vc.to_string().contains("FZ1234567"),
        "no part of the number is in the record"
    );

    let keys = did_keys(&r.w.app.get_json("/.well-known/did.json").await);
    proof::verify(vc, "assertionMethod", |m| keys.get(m).copied()).expect("the record verifies");
    let mut tampered = vc.clone();
    tampered["credentialSubject"]["name"] = "Someone Else".into();
    assert!(proof::verify(&tampered, "assertionMethod", |m| keys.get(m).copied()).is_err());

    let count: i64 = r.w.app.with_db(|conn| {
        records::table
            .filter(records::request_id.eq(&r.request_id))
            .count()
            .get_result(conn)
            .unwrap()
    });
    assert_eq!(count, 1, "exactly one record per request");
}

#[tokio::test]
async fn an_agency_gets_the_vc_jwt_form_when_it_asks_for_it() {
    let r = issued_record().await;
    let res = r.read_as_jwt().await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/vc+jwt");
    let jwt = res.text().await.unwrap();
    let header = jsonwebtoken::decode_header(&jwt).unwrap();
    assert_eq!(header.typ.as_deref(), Some("vc+jwt"));
    assert_eq!(header.cty.as_deref(), Some("vc"));
    let kid = header.kid.unwrap();
    let fragment = kid.split_once('#').unwrap().1;
    let jwks = r.w.app.get_json("/.well-known/jwks.json").await;
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == fragment)
        .expect("the kid is published");
    let key = jsonwebtoken::DecodingKey::from_ed_components(jwk["x"].as_str().unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    let payload = jsonwebtoken::decode::<Value>(&jwt, &key, &validation)
        .unwrap()
        .claims;
    assert_eq!(payload["id"], format!("urn:uuid:{}", r.record_id));
    assert!(payload.get("proof").is_none());

    // The same signed thing is no access token: its typ says so.
    let as_bearer = r.w.app.get("/v1/me", Some(&jwt)).await;
    assert_problem(as_bearer, 401, "invalid_token").await;
}

#[tokio::test]
async fn every_agency_read_is_logged_with_its_purpose() {
    let r = issued_record().await;
    r.w.app
        .get_json_as(
            &format!(
                "/v1/records/{}?purpose=work%20permit%20application",
                r.record_id
            ),
            &r.agency,
        )
        .await;
    r.read().await;
    let (via, purposes): (Vec<String>, Vec<Option<String>>) = r.w.app.with_db(|conn| {
        record_access::table
            .filter(record_access::record_id.eq(&r.record_id))
            .order(record_access::at)
            .select((record_access::via, record_access::purpose))
            .load::<(String, Option<String>)>(conn)
            .unwrap()
            .into_iter()
            .unzip()
    });
    assert_eq!(via, ["id", "id"]);
    assert_eq!(purposes, [Some("work permit application".to_owned()), None]);
    let audited: i64 = r.w.app.with_db(|conn| {
        audit_log::table
            .filter(audit_log::action.eq("record.read"))
            .filter(audit_log::subject.eq(&r.record_id))
            .count()
            .get_result(conn)
            .unwrap()
    });
    assert_eq!(audited, 2);
}

#[tokio::test]
async fn rotated_keys_still_verify_old_records_and_a_revoked_key_does_not() {
    let r = issued_record().await;
    let old = r.read().await["credential"].clone();
    let old_method = old["proof"]["verificationMethod"]
        .as_str()
        .unwrap()
        .to_owned();
    let old_kid = old_method.split_once('#').unwrap().1.to_owned();

    let refused = r.w.app.cli(&["keys", "revoke", &old_kid]);
    assert!(
        !refused.status.success(),
        "the active key cannot be revoked before a rotation"
    );

    let rotated = r.w.app.cli(&["keys", "rotate"]);
    assert!(
        rotated.status.success(),
        "{}",
        String::from_utf8_lossy(&rotated.stderr)
    );
    let rotated: Value = serde_json::from_slice(&rotated.stdout).unwrap();
    assert_eq!(rotated["retired"], serde_json::json!([old_kid]));
    let new_kid = rotated["kid"].as_str().unwrap();

    // An instance started on the new key file signs with the new key and still publishes
    // the retired one.
    let keys = published_by(&r.w.app.another_instance().await).await;
    assert_eq!(keys.len(), 2);
    assert!(keys.contains_key(new_kid));
    proof::verify(&old, "assertionMethod", |m| keys.get(kid_of(m)).copied())
        .expect("a record signed by a retired key still verifies");

    let revoked = r.w.app.cli(&["keys", "revoke", &old_kid]);
    assert!(
        revoked.status.success(),
        "{}",
        String::from_utf8_lossy(&revoked.stderr)
    );
    let revoked: Value = serde_json::from_slice(&revoked.stdout).unwrap();
    assert_eq!(revoked["records_to_reissue"], 1);
    assert_eq!(revoked["record_ids"], serde_json::json!([r.record_id]));

    let third = r.w.app.another_instance().await;
    let keys = published_by(&third).await;
    assert_eq!(keys.len(), 1, "a revoked key is unpublished");
    assert!(matches!(
        proof::verify(&old, "assertionMethod", |m| keys.get(kid_of(m)).copied()),
        Err(proof::ProofError::UnknownKey(_))
    ));
    let jwks: Value = reqwest::get(format!("{third}/.well-known/jwks.json"))
        .await
        .unwrap()
        .json_checked()
        .await
        .unwrap();
    assert!(jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .all(|k| k["kid"] != old_kid.as_str()));
}

fn kid_of(method: &str) -> &str {
    method.split_once('#').map_or(method, |(_, kid)| kid)
}

/// The keys an instance's did.json publishes, by kid: each test instance has its own
/// address, hence its own did:web, so keys are matched by kid.
async fn published_by(
    instance: &str,
) -> std::collections::HashMap<String, ed25519_dalek::VerifyingKey> {
    let did_doc: Value = reqwest::get(format!("{instance}/.well-known/did.json"))
        .await
        .unwrap()
        .json_checked()
        .await
        .unwrap();
    did_keys(&did_doc)
        .into_iter()
        .map(|(m, k)| (kid_of(&m).to_owned(), k))
        .collect()
}

#[tokio::test]
async fn every_state_change_and_the_review_decision_are_in_the_audit_log() {
    let w = crate::requests_helpers::world(&[], None).await;
    let id = w.submit_ok("FCCA-1001", "Ana Lima").await;
    w.wait_for(&id, "manual_review").await;
    let res = w
        .app
        .post_json(
            &format!("/v1/admin/verification-requests/{id}/decision"),
            &serde_json::json!({"decision": "confirmed", "note": "phoned ACCA"}),
            Some(&w.admin),
        )
        .await;
    assert_eq!(res.status(), 200);
    let rows: Vec<(String, String, String)> = w.app.with_db(|conn| {
        audit_log::table
            .filter(audit_log::subject.eq(&id))
            .order(audit_log::id)
            .select((audit_log::action, audit_log::actor, audit_log::details))
            .load(conn)
            .unwrap()
    });
    let states: Vec<String> = rows
        .iter()
        .filter(|(action, _, _)| action == "request.state_changed")
        .map(|(_, _, d)| {
            serde_json::from_str::<Value>(d).unwrap()["state"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        states,
        ["submitted", "manual_review", "confirmed", "issued"]
    );
    let decision = rows
        .iter()
        .find(|(action, _, _)| action == "review.decided")
        .expect("the decision is audited");
    assert!(decision.1.starts_with("admin:"));
    assert_eq!(
        serde_json::from_str::<Value>(&decision.2).unwrap()["note"],
        "phoned ACCA"
    );
}

#[tokio::test]
async fn a_burst_of_concurrent_reads_is_logged_read_for_read() {
    let r = issued_record().await;
    let reads = (0..40).map(|i| {
        let app = &r.w.app;
        let path = format!("/v1/records/{}?purpose=burst-{i}", r.record_id);
        let token = r.agency.clone();
        async move { app.get(&path, Some(&token)).await.status().as_u16() }
    });
    let statuses = futures_util::future::join_all(reads).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let (logged, audited): (i64, i64) = r.w.app.with_db(|conn| {
        let logged = record_access::table
            .filter(record_access::record_id.eq(&r.record_id))
            .count()
            .get_result(conn)
            .unwrap();
        let audited = audit_log::table
            .filter(audit_log::action.eq("record.read"))
            .filter(audit_log::subject.eq(&r.record_id))
            .count()
            .get_result(conn)
            .unwrap();
        (logged, audited)
    });
    assert_eq!(
        (logged, audited),
        (40, 40),
        "every answered read was logged before its answer"
    );
}

#[tokio::test]
async fn a_retired_key_may_not_sign_again() {
    use ed25519_dalek::pkcs8::EncodePrivateKey;
    let r = issued_record().await;
    let rotated = r.w.app.cli(&["keys", "rotate"]);
    assert!(rotated.status.success());
    let dir = tempfile::tempdir().unwrap();
    let old_file = dir.path().join("test-old-platform-key.pem");
    std::fs::write(
        &old_file,
        r.w.app
            .signing_key
            .to_pkcs8_pem(Default::default())
            .unwrap()
            .as_bytes(),
    )
    .unwrap();
    let mut env = r.w.app.env.clone();
    env.retain(|(k, _)| k != "CERTVERIFY_KEY_FILE");
    env.push(("CERTVERIFY_KEY_FILE".into(), old_file.display().to_string()));
    let settings = certverify::config::Settings::from_vars(env).unwrap();
    let refused = certverify::startup::Application::build(settings).await;
    let message = format!("{:#}", refused.err().expect("the retired key is refused"));
    assert!(message.contains("retired"), "{message}");
}

/// A concurrent issuer that took the same status-list index (or any unique key) makes the
/// insert report "taken" rather than fail: the confirming transaction stays usable and
/// draws again, where a failed INSERT would abort it on PostgreSQL.
#[tokio::test]
async fn an_insert_refused_by_a_unique_index_reports_taken_and_leaves_the_transaction_usable() {
    let r = issued_record().await;
    let (taken, still_usable) = r.w.app.with_db(|conn| {
        certverify::db::write_transaction(conn, |conn| -> QueryResult<(bool, i64)> {
            let existing = certverify::records::find(conn, &r.record_id)?.unwrap();
            let rival = certverify::records::RecordRow {
                id: uuid::Uuid::new_v4().to_string(),
                ..existing
            };
            let inserted = certverify::records::issue::insert_unless_taken(conn, &rival)?;
            let count = records::table.count().get_result(conn)?;
            Ok((!inserted, count))
        })
        .unwrap()
    });
    assert!(taken);
    assert_eq!(still_usable, 1);
}
