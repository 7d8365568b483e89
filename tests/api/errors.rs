use serde_json::json;

use crate::helpers::{assert_problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn an_unknown_route_is_a_404_problem() {
    let app = spawn_app().await;
    assert_problem(app.get("/v1/nope", None).await, 404, "not_found").await;
}

#[tokio::test]
async fn a_wrong_method_is_a_405_problem_naming_the_allowed_ones() {
    let app = spawn_app().await;
    let res = app
        .client
        .delete(app.url("/v1/holders"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers().get("allow").unwrap(), "POST");
    assert_problem(res, 405, "method_not_allowed").await;
    let res = app.client.post(app.url("/healthz")).send().await.unwrap();
    assert_problem(res, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn malformed_json_is_a_400_problem() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(app.url("/v1/holders"))
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "malformed_json").await;
}

#[tokio::test]
async fn json_of_the_wrong_shape_is_a_422_problem() {
    let app = spawn_app().await;
    let res = app
        .post_json("/v1/holders", &json!({"email": 5}), None)
        .await;
    assert_problem(res, 422, "invalid_body").await;
}

#[tokio::test]
async fn a_wrong_content_type_is_a_415_problem() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(app.url("/v1/holders"))
        .header("content-type", "text/plain")
        .body("hi")
        .send()
        .await
        .unwrap();
    assert_problem(res, 415, "unsupported_media_type").await;
    let res = app
        .post_json(
            "/v1/oauth/token",
            &json!({"grant_type": "client_credentials"}),
            None,
        )
        .await;
    assert_problem(res, 415, "unsupported_media_type").await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413_problem() {
    let app = spawn_app_with(&[("CERTVERIFY_MAX_BODY_BYTES", "2048")]).await;
    let big = json!({"email": "x".repeat(4096)});
    assert_problem(
        app.post_json("/v1/holders", &big, None).await,
        413,
        "payload_too_large",
    )
    .await;
    let form = format!(
        "grant_type=client_credentials&client_id={}",
        "x".repeat(4096)
    );
    let res = app
        .client
        .post(app.url("/v1/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_problem(res, 413, "payload_too_large").await;
}
