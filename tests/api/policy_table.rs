//! The services table: served publicly, and replaceable by a file checked at start-up.

use crate::times::JsonBody;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn the_services_table_is_public_cacheable_and_filtered_by_category() {
    let app = spawn_app().await;
    let res = app.get("/v1/policy/services", None).await;
    assert_eq!(res.status(), 200);
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    assert!(res.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("max-age"));
    let all: Value = res.json_checked().await.unwrap();
    assert_eq!(all["policy_version"], "2026-11-26.1");
    assert_eq!(all["items"].as_array().unwrap().len(), 16);
    assert!(all["items"][0]["notice"].is_string());
    let again = app
        .client
        .get(app.url("/v1/policy/services"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    let c = app.get_json("/v1/policy/services?category=c").await;
    let codes: Vec<&str> = c["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["C.professional_title"]);
    assert_eq!(
        app.get_json("/v1/policy/services?category=A").await["items"]
            .as_array()
            .unwrap()
            .len(),
        7
    );
    assert_problem(
        app.get("/v1/policy/services?category=E", None).await,
        400,
        "invalid_query",
    )
    .await;
}

const EMBEDDED: &str = include_str!("../../src/policy/services.json");

#[tokio::test]
async fn a_policy_file_replaces_the_embedded_table() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("services.json");
    let mut table: Value = serde_json::from_str(EMBEDDED).unwrap();
    table["policy_version"] = json!("2027-01-01.1");
    table["services"][0]["limits"]["validity_years_max"] = json!(3);
    std::fs::write(&path, table.to_string()).unwrap();
    let app = spawn_app_with(&[("CERTVERIFY_POLICY_FILE", path.to_str().unwrap())]).await;
    let served = app.get_json("/v1/policy/services?category=A").await;
    assert_eq!(served["policy_version"], "2027-01-01.1");
    assert_eq!(served["items"][0]["limits"]["validity_years_max"], 3);
}

#[tokio::test]
async fn a_bad_policy_file_stops_the_start_with_a_message_naming_the_setting_and_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let mut table: Value = serde_json::from_str(EMBEDDED).unwrap();
    let services = table["services"].as_array_mut().unwrap();
    services.retain(|s| s["code"] != "B.visa.talent_r");
    let cases = [
        (
            "missing.json",
            table.to_string(),
            "missing services: B.visa.talent_r",
        ),
        (
            "garbage.json",
            "{not json".to_owned(),
            "not of the expected shape",
        ),
    ];
    for (name, text, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let app = spawn_app().await;
        let mut env = app.env.clone();
        env.push(("CERTVERIFY_POLICY_FILE".into(), path.display().to_string()));
        env.retain(|(k, _)| k != "CERTVERIFY_LISTEN");
        env.push(("CERTVERIFY_LISTEN".into(), "127.0.0.1:0".into()));
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_certverify"))
            .arg("serve")
            .env_clear()
            .envs(env)
            .output()
            .unwrap();
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("CERTVERIFY_POLICY_FILE"), "{stderr}");
        assert!(stderr.contains(expected), "{stderr}");
    }
    let absent = dir.path().join("absent.json");
    let settings = certverify::config::Settings::from_vars([(
        "CERTVERIFY_POLICY_FILE".to_owned(),
        absent.display().to_string(),
    )])
    .unwrap();
    let error = certverify::startup::load_policy(&settings)
        .unwrap_err()
        .to_string();
    assert!(error.contains("cannot read"), "{error}");
}
