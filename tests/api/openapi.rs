use crate::times::JsonBody;
use serde_json::Value;

use crate::helpers::spawn_app;

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");

/// Fails when the served document drifts from openapi/openapi.json.
/// Regenerate with `UPDATE_OPENAPI=1 cargo test openapi` and commit the file.
#[tokio::test]
async fn the_served_document_matches_the_committed_one() {
    let app = spawn_app().await;
    let served: Value = app
        .get("/openapi.json", None)
        .await
        .json_checked()
        .await
        .unwrap();
    let pretty = serde_json::to_string_pretty(&sorted(served)).unwrap() + "\n";
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(COMMITTED, &pretty).unwrap();
    }
    let committed = std::fs::read_to_string(COMMITTED).expect("openapi/openapi.json is committed");
    assert!(committed == pretty, "openapi/openapi.json differs from the served document; run UPDATE_OPENAPI=1 cargo test openapi");
}

/// The document with every object's keys in order. Why: thirtyfour (a dev-dependency)
/// turns on serde_json's `preserve_order`, so the test build keeps utoipa's insertion
/// order where the service sorts; the committed file is the sorted form either way.
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// Public operations have no security requirement (generators read `[{}]` as "needs a
/// client"); secured ones name theirs and can answer 401 and 403; every response has a
/// description (OpenAPI requires one), every operation a unique id and the storage 503.
#[tokio::test]
async fn every_operation_states_its_security_ids_and_error_responses() {
    let app = spawn_app().await;
    let doc: Value = app
        .get("/openapi.json", None)
        .await
        .json_checked()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let mut ids = std::collections::HashSet::new();
    let mut count = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            count += 1;
            let id = op["operationId"].as_str().unwrap_or_default();
            assert!(
                id.len() > 4 && id.chars().all(|c| c.is_ascii_alphanumeric()),
                "{method} {path}: operationId {id:?}"
            );
            assert!(ids.insert(id.to_owned()), "operationId {id} twice");
            let responses = op["responses"].as_object().unwrap();
            for (status, response) in responses {
                let description = response["description"].as_str().unwrap_or_default();
                assert!(!description.is_empty(), "{method} {path} {status}");
            }
            assert!(responses.contains_key("500"), "{method} {path}");
            if !["/healthz", "/metrics"].contains(&path.as_str()) {
                assert!(responses.contains_key("503"), "{method} {path}");
            }
            match op.get("security") {
                None => {}
                Some(security) => {
                    let security = security.as_array().unwrap();
                    assert!(
                        !security.is_empty()
                            && security.iter().all(|s| !s.as_object().unwrap().is_empty()),
                        "{method} {path}: an empty security requirement"
                    );
                    assert!(
                        responses.contains_key("401") && responses.contains_key("403"),
                        "{method} {path}"
                    );
                }
            }
            if op.get("requestBody").is_some() {
                assert!(
                    responses.contains_key("400") && responses.contains_key("413"),
                    "{method} {path}"
                );
            }
        }
    }
    assert!(count >= 49, "{count} operations");
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

/// utoipa names a schema after its Rust type and keeps the last of two with one name, so
/// a second `Decision` silently takes the first one's place in the document. Every type
/// deriving `ToSchema` (or renamed with `#[schema(as = …)]`) has a name of its own.
#[test]
fn no_two_types_share_a_schema_name() {
    fn walk(dir: &std::path::Path, files: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, files);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut seen: std::collections::HashMap<String, String> = Default::default();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if !(line.trim_start().starts_with("#[derive(") && line.contains("ToSchema")) {
                continue;
            }
            let mut renamed = None;
            for next in &lines[i + 1..] {
                let next = next.trim_start();
                if let Some(rest) = next.strip_prefix("#[schema(as = ") {
                    renamed = rest.split([')', ',']).next().map(str::to_owned);
                }
                let item = next
                    .strip_prefix("pub struct ")
                    .or_else(|| next.strip_prefix("pub enum "))
                    .or_else(|| next.strip_prefix("struct "))
                    .or_else(|| next.strip_prefix("enum "));
                if let Some(item) = item {
                    let ident: String = item
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    let name = renamed.take().unwrap_or(ident);
                    let at = format!("{}:{}", file.display(), i + 1);
                    if let Some(first) = seen.insert(name.clone(), at.clone()) {
                        panic!("schema name {name} twice: {first} and {at}");
                    }
                    break;
                }
                if !next.starts_with("#[") && !next.starts_with("///") {
                    break;
                }
            }
        }
    }
    assert!(seen.len() > 40, "{} schema types found", seen.len());
}
