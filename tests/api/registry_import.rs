use crate::times::JsonBody;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, codes, error_fields, spawn_app, SAMPLE};

async fn import(
    app: &crate::helpers::TestApp,
    admin: &str,
    content_type: &str,
    body: String,
) -> reqwest::Response {
    app.client
        .post(app.url("/v1/admin/registry/import"))
        .bearer_auth(admin)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_second_import_of_the_same_file_changes_nothing_and_says_so() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let first = app.import_sample(&admin).await;
    assert_eq!(first["changed"], true);
    assert_eq!(first["qualifications"]["created"], 11);
    assert_eq!(first["issuing_bodies"]["created"], 7);
    let second = app.import_sample(&admin).await;
    assert_eq!(second["changed"], false);
    assert_eq!(
        second["qualifications"],
        json!({"created": 0, "updated": 0, "unchanged": 11})
    );
    assert_eq!(
        second["issuing_bodies"],
        json!({"created": 0, "updated": 0, "unchanged": 7})
    );
    let detail = app.get_json("/v1/qualifications/acca-fcca").await;
    assert_eq!(
        detail["history"].as_array().unwrap().len(),
        1,
        "no change is recorded for an unchanged row"
    );
}

#[tokio::test]
async fn a_file_with_bad_rows_is_refused_whole_naming_each_row_and_field() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let mut doc: Value = serde_json::from_str(SAMPLE).unwrap();
    doc["qualifications"][3]["categories"] = json!(["Q"]);
    doc["qualifications"][5]["field"] = json!("Not A Slug");
    doc["issuing_bodies"][1]["country"] = json!("ZZ");
    let problem = assert_problem(
        import(&app, &admin, "application/json", doc.to_string()).await,
        422,
        "validation_failed",
    )
    .await;
    let fields = error_fields(&problem);
    assert_eq!(
        fields,
        [
            "issuing_bodies[1].country",
            "qualifications[3].categories[0]",
            "qualifications[5].field"
        ]
    );
    assert!(
        codes(&app.get_json("/v1/qualifications?status=all").await).is_empty(),
        "nothing is written"
    );
    assert_eq!(app.get_json("/v1/issuing-bodies").await["items"], json!([]));
    assert_eq!(app.get_json("/v1/list-versions").await["items"], json!([]));
}

#[tokio::test]
async fn a_row_naming_an_unknown_body_or_version_stops_the_whole_import() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let mut doc: Value = serde_json::from_str(SAMPLE).unwrap();
    doc["qualifications"][10]["issuing_body"] = json!("nobody");
    doc["qualifications"][3]["list_version"] = json!("9.0");
    let problem = assert_problem(
        import(&app, &admin, "application/json", doc.to_string()).await,
        422,
        "validation_failed",
    )
    .await;
    let fields = error_fields(&problem);
    assert_eq!(
        fields,
        [
            "qualifications[3].list_version",
            "qualifications[10].issuing_body"
        ]
    );
    assert!(codes(&app.get_json("/v1/qualifications?status=all").await).is_empty());
}

#[tokio::test]
async fn export_then_import_round_trips() {
    let source = spawn_app().await;
    let admin = source.admin_token().await;
    source.import_sample(&admin).await;
    source
        .post_json(
            "/v1/admin/qualifications/acm-fellow/remove",
            &json!({"list_version": "3.0", "reason": "Sample removal"}),
            Some(&admin),
        )
        .await;
    let out = source.cli(&["registry", "export"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let exported = String::from_utf8(out.stdout).unwrap();

    let target = spawn_app().await;
    let target_admin = target.admin_token().await;
    let res = import(&target, &target_admin, "application/json", exported.clone()).await;
    assert_eq!(res.status(), 200);
    let again = String::from_utf8(target.cli(&["registry", "export"]).stdout).unwrap();
    assert_eq!(again, exported);
    let removed = target.get_json("/v1/qualifications?status=removed").await;
    assert_eq!(codes(&removed), ["acm-fellow"]);
    assert_eq!(removed["items"][0]["removal"]["reason"], "Sample removal");
    // Importing the export back into its source changes nothing.
    let report: Value = import(&source, &admin, "application/json", exported)
        .await
        .json_checked()
        .await
        .unwrap();
    assert_eq!(report["changed"], false);
}

#[tokio::test]
async fn qualifications_can_be_imported_as_csv() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    app.import_sample(&admin).await;
    let csv = "code,name_en,name_zh,abbreviation,issuing_body,field,categories,title_series,title_level,list_version,demo\n\
               demo-csv-one,Demo CSV One,演示一,DC1,acca,accounting,A|C,accounting,junior,3.0,true\n\
               demo-csv-two,Demo CSV Two,,,acm,information_technology,B,,,3.0,true\n";
    let res = import(&app, &admin, "text/csv", csv.into()).await;
    assert_eq!(res.status(), 200);
    let report: Value = res.json_checked().await.unwrap();
    assert_eq!(report["qualifications"]["created"], 2);
    let one = app.get_json("/v1/qualifications/demo-csv-one").await;
    assert_eq!(one["categories"], json!(["A", "C"]));
    assert_eq!(one["title_level"], "junior");
    let bad = "code,name_en,issuing_body,field,categories,list_version\nok-row,Fine,acca,accounting,A,3.0\nbad-row,Bad,acca,accounting,,3.0\n";
    let problem = assert_problem(
        import(&app, &admin, "text/csv", bad.into()).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "qualifications[1]");
    assert_problem(
        app.get("/v1/qualifications/ok-row", None).await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        import(&app, &admin, "application/xml", "<x/>".into()).await,
        415,
        "unsupported_media_type",
    )
    .await;
    assert_problem(
        import(&app, &admin, "application/json", "{not json".into()).await,
        400,
        "malformed_json",
    )
    .await;
}

#[tokio::test]
async fn the_cli_imports_the_sample_and_a_second_run_changes_nothing() {
    let app = spawn_app().await;
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/registry-sample.json");
    let first = app.cli(&["registry", "import", sample]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let report: Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(report["changed"], true);
    let second = app.cli(&["registry", "import", sample]);
    let report: Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(report["changed"], false);
    assert!(String::from_utf8_lossy(&second.stderr).contains("nothing changed"));
    let fcca = app.get_json("/v1/qualifications?category=C&q=fcca").await;
    assert_eq!(fcca["items"][0]["title_level"], "associate_senior");
    let bad = app.cli(&["registry", "import", "/nonexistent.json"]);
    assert!(!bad.status.success());
}

/// A large import leaves the planner fresh statistics at once (PostgreSQL's ANALYZE), so
/// searches use their indexes without waiting for autovacuum.
#[tokio::test]
async fn a_large_import_is_analyzed_at_once_on_postgresql() {
    if crate::helpers::postgres_url().is_none() {
        eprintln!("PostgreSQL only: SQLite keeps no planner statistics of ours");
        return;
    }
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let mut doc: Value = serde_json::from_str(SAMPLE).unwrap();
    let template = doc["qualifications"][0].clone();
    doc["qualifications"] = (0..500)
        .map(|i| {
            let mut q = template.clone();
            q["code"] = json!(format!("bulk-{i:03}"));
            q["name_en"] = json!(format!("Bulk qualification {i}"));
            q
        })
        .collect();
    let res = import(&app, &admin, "application/json", doc.to_string()).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let analyzed: bool = app.with_db(|conn| {
        use diesel::prelude::*;
        diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(
            "(SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables \
             WHERE relname = 'qualifications')",
        ))
        .get_result(conn)
        .unwrap()
    });
    assert!(analyzed);
}
