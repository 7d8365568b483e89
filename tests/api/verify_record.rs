//! `certverify verify-record` on records the platform issued, with the keys and status
//! lists it serves.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::records_helpers::{issued_record, Issued};

fn verify(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_certverify"))
        .arg("verify-record")
        .args(args)
        .env_clear()
        .output()
        .expect("binary runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

async fn jwt_form(r: &Issued) -> String {
    let res = r.read_as_jwt().await;
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

#[tokio::test]
async fn an_issued_record_verifies_offline_in_both_forms_with_either_key_source_and_its_status() {
    let r = issued_record().await;
    let dir = tempfile::tempdir().unwrap();
    let view = r.read().await;
    let json_file = write(dir.path(), "record.json", &view.to_string());
    let jwt_file = write(dir.path(), "record.jwt", &jwt_form(&r).await);
    let did = r.w.app.url("/.well-known/did.json");
    let jwks = r.w.app.url("/.well-known/jwks.json");
    let did_file = write(
        dir.path(),
        "did.json",
        &r.w.app.get_json("/.well-known/did.json").await.to_string(),
    );
    for args in [
        vec![json_file.as_str(), "--did", &did, "--status"],
        vec![json_file.as_str(), "--jwks", &jwks],
        vec![json_file.as_str(), "--did", &did_file],
        vec![jwt_file.as_str(), "--jwks", &jwks, "--status"],
    ] {
        let out = verify(&args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}{}",
            stdout(&out),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout(&out).starts_with("valid: urn:uuid:"),
            "{}",
            stdout(&out)
        );
    }

    let mut tampered: Value = view.clone();
    tampered["credential"]["credentialSubject"]["name"] = Value::from("Eve Lima");
    let tampered_file = write(dir.path(), "tampered.json", &tampered.to_string());
    let out = verify(&[&tampered_file, "--did", &did]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).starts_with("invalid:") && stdout(&out).contains("signature"),
        "{}",
        stdout(&out)
    );

    // An access token is a signed thing of another type.
    let token_file = write(dir.path(), "token.jwt", &r.agency);
    let out = verify(&[&token_file, "--jwks", &jwks]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("typ"), "{}", stdout(&out));

    assert_eq!(
        r.admin_action("suspend", "under review").await.status(),
        200
    );
    let out = verify(&[&json_file, "--did", &did, "--status"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out).trim(), "invalid: the record is suspended");
    // Without --status only the signature and dates are checked.
    assert_eq!(verify(&[&json_file, "--did", &did]).status.code(), Some(0));

    assert_eq!(
        r.admin_action("revoke", "certificate withdrawn")
            .await
            .status(),
        200
    );
    let out = verify(&[&jwt_file, "--did", &did, "--status"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out).trim(), "invalid: the record is revoked");
}

#[tokio::test]
async fn unusable_input_exits_2_and_says_why_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = write(dir.path(), "garbage.txt", "this is not a record");
    let record = write(
        dir.path(),
        "record.json",
        r#"{"@context": [], "issuer": "did:web:x"}"#,
    );
    let missing = dir.path().join("missing.json").display().to_string();
    for args in [
        vec![missing.as_str(), "--jwks", &garbage],
        vec![garbage.as_str(), "--jwks", &garbage],
        vec![record.as_str(), "--jwks", "http://127.0.0.1:9/jwks.json"],
        vec![record.as_str(), "--did", &garbage],
    ] {
        let out = verify(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stdout(&out));
        assert!(!out.stderr.is_empty());
    }
}
