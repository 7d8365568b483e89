use crate::times::JsonBody;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use certverify::db::schema::service_accounts;
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, error_fields, spawn_app, spawn_app_with, TestApp};

async fn token_request(
    app: &TestApp,
    form: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> reqwest::Response {
    let mut req = app.client.post(app.url("/v1/oauth/token")).form(form);
    if let Some((id, secret)) = basic {
        req = req.header(
            "authorization",
            format!("Basic {}", STANDARD.encode(format!("{id}:{secret}"))),
        );
    }
    req.send().await.unwrap()
}

async fn assert_oauth_error(res: reqwest::Response, status: u16, error: &str) {
    assert_eq!(res.status().as_u16(), status);
    assert_eq!(res.headers().get("cache-control").unwrap(), "no-store");
    let body: Value = res.json_checked().await.unwrap();
    assert_eq!(body["error"], error, "{body}");
    assert_eq!(body["code"], error, "{body}");
}

#[tokio::test]
async fn an_admin_registers_an_agency_which_gets_a_token_with_its_scopes() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let res = app
        .post_json(
            "/v1/admin/agencies",
            &json!({"name": "HR Bureau", "scopes": ["eligibility:check", "records:read"]}),
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json_checked().await.unwrap();
    assert!(created["client_id"].as_str().unwrap().starts_with("agc_"));
    assert_eq!(
        created["scopes"],
        json!(["eligibility:check", "records:read"])
    );
    let (id, secret) = (
        created["client_id"].as_str().unwrap(),
        created["client_secret"].as_str().unwrap(),
    );

    // Client authentication by HTTP Basic.
    let res = token_request(
        &app,
        &[("grant_type", "client_credentials")],
        Some((id, secret)),
    )
    .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json_checked().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "eligibility:check records:read");
    assert_eq!(body["expires_in"], 900);

    // A subset of the granted scopes may be asked for.
    let res = token_request(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
            ("scope", "records:read"),
        ],
        None,
    )
    .await;
    assert_eq!(
        res.json_checked::<Value>().await.unwrap()["scope"],
        "records:read"
    );
}

#[tokio::test]
async fn the_agency_secret_is_stored_only_as_an_argon2_hash() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (id, secret) = app.agency(&admin, &["records:read"]).await;
    let stored: String = app.with_db(|conn| {
        service_accounts::table
            .filter(service_accounts::client_id.eq(&id))
            .select(service_accounts::secret_hash)
            .first(conn)
            .unwrap()
    });
    assert!(stored.starts_with("$argon2id$"));
    assert!(!stored.contains(&secret));
}

#[tokio::test]
async fn a_wrong_secret_or_unknown_client_is_invalid_client() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (id, _) = app.agency(&admin, &["records:read"]).await;
    let res = token_request(
        &app,
        &[("grant_type", "client_credentials")],
        Some((&id, "wrong")),
    )
    .await;
    assert!(res
        .headers()
        .get("www-authenticate")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("Basic"));
    assert_oauth_error(res, 401, "invalid_client").await;
    let res = token_request(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "agc_nobody"),
            ("client_secret", "x"),
        ],
        None,
    )
    .await;
    assert_oauth_error(res, 401, "invalid_client").await;
    assert_oauth_error(
        token_request(&app, &[("grant_type", "client_credentials")], None).await,
        401,
        "invalid_client",
    )
    .await;
}

#[tokio::test]
async fn grant_and_scope_errors_follow_rfc_6749() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (id, secret) = app.agency(&admin, &["records:read"]).await;
    let res = token_request(
        &app,
        &[
            ("grant_type", "password"),
            ("client_id", &id),
            ("client_secret", &secret),
        ],
        None,
    )
    .await;
    assert_oauth_error(res, 400, "unsupported_grant_type").await;
    let res = token_request(
        &app,
        &[("client_id", &id), ("client_secret", &secret)],
        None,
    )
    .await;
    assert_oauth_error(res, 400, "invalid_request").await;
    let res = token_request(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("scope", "records:search"),
        ],
        Some((&id, &secret)),
    )
    .await;
    assert_oauth_error(res, 400, "invalid_scope").await;
    let res = token_request(
        &app,
        &[("grant_type", "client_credentials"), ("client_id", &id)],
        Some((&id, &secret)),
    )
    .await;
    assert_oauth_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn an_agency_can_only_be_given_agency_scopes() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let res = app
        .post_json(
            "/v1/admin/agencies",
            &json!({"name": " ", "scopes": ["admin", "records:read"]}),
            Some(&admin),
        )
        .await;
    let problem = assert_problem(res, 422, "validation_failed").await;
    let fields = error_fields(&problem);
    assert_eq!(fields, ["name", "scopes[0]"]);
}

#[tokio::test]
async fn the_token_endpoint_is_rate_limited_per_client_and_address() {
    let app = spawn_app_with(&[("CERTVERIFY_AUTH_RATE_LIMIT_PER_MINUTE", "2")]).await;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", "agc_x"),
        ("client_secret", "nope"),
    ];
    for _ in 0..2 {
        assert_eq!(token_request(&app, &form, None).await.status(), 401);
    }
    let res = token_request(&app, &form, None).await;
    assert!(res.headers().get("retry-after").is_some());
    assert_eq!(
        res.headers()["ratelimit-policy"],
        r#""account";q=2;w=60, "address";q=10;w=60"#
    );
    assert!(res.headers().contains_key("ratelimit"));
    assert_problem(res, 429, "rate_limited").await;
}
