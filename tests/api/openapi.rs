use serde_json::Value;

use crate::helpers::spawn_app;

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");

/// Fails when the served document drifts from openapi/openapi.json.
/// Regenerate with `UPDATE_OPENAPI=1 cargo test openapi` and commit the file.
#[tokio::test]
async fn the_served_document_matches_the_committed_one() {
    let app = spawn_app().await;
    let served: Value = app.get("/openapi.json", None).await.json().await.unwrap();
    let pretty = serde_json::to_string_pretty(&served).unwrap() + "\n";
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(COMMITTED, &pretty).unwrap();
    }
    let committed = std::fs::read_to_string(COMMITTED).expect("openapi/openapi.json is committed");
    assert!(committed == pretty, "openapi/openapi.json differs from the served document; run UPDATE_OPENAPI=1 cargo test openapi");
}

#[tokio::test]
async fn every_operation_states_its_security_and_error_responses() {
    let app = spawn_app().await;
    let doc: Value = app.get("/openapi.json", None).await.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let mut count = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            count += 1;
            let security = op["security"]
                .as_array()
                .unwrap_or_else(|| panic!("{method} {path} has no security"));
            let responses = op["responses"].as_object().unwrap();
            assert!(responses.contains_key("500"), "{method} {path}");
            let secured = security.iter().any(|s| !s.as_object().unwrap().is_empty());
            if secured {
                assert!(
                    responses.contains_key("401") && responses.contains_key("403"),
                    "{method} {path}"
                );
            }
            if op.get("requestBody").is_some() {
                assert!(
                    responses.contains_key("400") && responses.contains_key("413"),
                    "{method} {path}"
                );
            }
        }
    }
    assert!(count >= 9, "{count} operations");
}

#[tokio::test]
async fn the_docs_ui_is_served_without_any_external_resource() {
    let app = spawn_app().await;
    let res = app.get("/docs", None).await;
    assert!(res.status().is_redirection());
    let html = app.get("/docs/", None).await.text().await.unwrap();
    assert!(html.contains("swagger"), "{html}");
    assert!(
        !html.contains("https://"),
        "the page must not load anything from the internet"
    );
    for asset in [
        "/docs/swagger-ui-bundle.js",
        "/docs/swagger-ui.css",
        "/docs/swagger-initializer.js",
    ] {
        let res = app.get(asset, None).await;
        assert_eq!(res.status(), 200, "{asset}");
        let text = res.text().await.unwrap();
        if asset.ends_with("initializer.js") {
            assert!(text.contains("/openapi.json"), "{text}");
        }
    }
}
