use crate::helpers::{assert_problem, spawn_app};
use crate::times::JsonBody;

#[tokio::test]
async fn healthz_says_the_process_is_up() {
    let app = spawn_app().await;
    let res = app.get("/healthz", None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json_checked::<serde_json::Value>().await.unwrap()["status"],
        "up"
    );
}

#[tokio::test]
async fn readyz_is_ready_once_the_database_is_migrated() {
    let app = spawn_app().await;
    let res = app.get("/readyz", None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json_checked::<serde_json::Value>().await.unwrap()["status"],
        "ready"
    );
}

#[tokio::test]
async fn readyz_is_503_when_the_schema_is_behind_the_binary() {
    let app = spawn_app().await;
    app.with_db(|conn| certverify::db::migrations::revert_all(conn).unwrap());
    assert_problem(app.get("/readyz", None).await, 503, "migrations_pending").await;
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_status() {
    let app = spawn_app().await;
    app.get("/healthz", None).await;
    app.get("/no/such/route", None).await;
    let text = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        text.contains(
            r#"certverify_http_requests_total{method="GET",route="/healthz",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(text.contains(r#"route="unmatched",status="404""#), "{text}");
    assert!(
        text.contains("certverify_http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(
        text.contains(r#"certverify_db_pool_connections{state="max"}"#),
        "{text}"
    );
}

#[tokio::test]
async fn every_response_carries_its_own_request_id() {
    let app = spawn_app().await;
    let a = app.get("/healthz", None).await;
    let b = app.get("/nothing-here", None).await;
    let id = |r: &reqwest::Response| {
        r.headers()
            .get("x-request-id")
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let (a, b) = (id(&a).expect("id on success"), id(&b).expect("id on error"));
    assert!(!a.is_empty());
    assert_ne!(a, b);
}
