use crate::times::JsonBody;
use certverify::db::schema::holders;
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::helpers::{
    assert_problem, error_fields, holder_body, spawn_app, spawn_app_with, PASSWORD,
};

#[tokio::test]
async fn registering_answers_202_and_the_profile_never_shows_the_document_number() {
    let app = spawn_app().await;
    let res = app.register_holder("ana.lima@example.org").await;
    assert_eq!(res.status(), 202);
    let body: Value = res.json_checked().await.unwrap();
    assert_eq!(body, json!({"status": "accepted"}));
    let token = app
        .holder_token_after_registration("ana.lima@example.org")
        .await;
    let body: Value = app.get_json_as("/v1/me", &token).await;
    assert_eq!(body["email"], "ana.lima@example.org");
    assert_eq!(body["identity_kind"], "foreign_national");
    assert_eq!(body["email_verified"], true);
    assert_eq!(
        body["identity_document"],
        json!({"type": "passport", "last4": "4567"})
    );
    assert!(!body.to_string().contains("FZ1234567") && !body.to_string().contains("123-4567"));
}

#[tokio::test]
async fn the_document_number_is_stored_only_as_a_keyed_hash_and_its_last_four() {
    let app = spawn_app().await;
    assert_eq!(app.register_holder("ana@example.org").await.status(), 202);
    let (hmac, last4, password_hash): (String, String, String) = app.with_db(|conn| {
        holders::table
            .select((
                holders::identity_document_hmac,
                holders::identity_document_last4,
                holders::password_hash,
            ))
            .first(conn)
            .unwrap()
    });
    assert_eq!(hmac.len(), 64);
    assert!(!hmac.contains("1234567"));
    assert_eq!(last4, "4567");
    assert!(password_hash.starts_with("$argon2id$"), "{password_hash}");
    assert!(!password_hash.contains(PASSWORD));
}

#[tokio::test]
async fn every_invalid_field_is_named() {
    let app = spawn_app().await;
    let mut body = holder_body("not-an-email");
    body["password"] = json!("short");
    body["nationality"] = json!("ZZ");
    body["identity_kind"] = json!("martian");
    let problem = assert_problem(
        app.post_json("/v1/holders", &body, None).await,
        422,
        "validation_failed",
    )
    .await;
    let fields = error_fields(&problem);
    assert_eq!(
        fields,
        ["email", "password", "nationality", "identity_kind"]
    );
}

/// A taken address (in any case) gets the same answer as a free one; its owner is told by
/// mail and no second account appears.
#[tokio::test]
async fn registering_a_taken_email_in_any_case_answers_alike_and_mails_the_owner() {
    let app = spawn_app().await;
    let first = app.register_holder("Ana@Example.org").await;
    assert_eq!(first.status(), 202);
    let first: Value = first.json_checked().await.unwrap();
    let again = app.register_holder("ana@example.ORG").await;
    assert_eq!(again.status(), 202);
    let again: Value = again.json_checked().await.unwrap();
    assert_eq!(first, again);
    let notice = app.wait_for_mail("ana@example.org", "/account/reset").await;
    assert!(notice.contains("already have an account"), "{notice}");
    assert!(!notice.contains("/account/verify-email/"), "{notice}");
    let count: i64 = app.with_db(|conn| holders::table.count().get_result(conn).unwrap());
    assert_eq!(count, 1);
}

#[tokio::test]
async fn a_holder_logs_in_and_reads_their_profile() {
    let app = spawn_app().await;
    let token = app.holder_token("ana@example.org").await;
    let res = app.get("/v1/me", Some(&token)).await;
    assert_eq!(res.status(), 200);
    let me: Value = res.json_checked().await.unwrap();
    assert_eq!(me["full_name"], "Ana Lima");
    assert_eq!(me["date_of_birth"], "1988-04-02");
    assert_eq!(me["shanghai_hukou"], false);
}

#[tokio::test]
async fn login_accepts_the_email_in_any_case_and_answers_with_a_bearer_token() {
    let app = spawn_app().await;
    app.register_holder("ana@example.org").await;
    let res = app
        .post_json(
            "/v1/auth/login",
            &json!({"email": "ANA@example.org", "password": PASSWORD}),
            None,
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers().get("cache-control").unwrap(), "no-store");
    let body: Value = res.json_checked().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_401() {
    let app = spawn_app().await;
    app.register_holder("ana@example.org").await;
    let wrong = app
        .post_json(
            "/v1/auth/login",
            &json!({"email": "ana@example.org", "password": "wrong password!"}),
            None,
        )
        .await;
    let a = assert_problem(wrong, 401, "invalid_credentials").await;
    let unknown = app
        .post_json(
            "/v1/auth/login",
            &json!({"email": "bob@example.org", "password": PASSWORD}),
            None,
        )
        .await;
    let b = assert_problem(unknown, 401, "invalid_credentials").await;
    assert_eq!(a["detail"], b["detail"]);
}

#[tokio::test]
async fn login_is_rate_limited_per_client_and_address() {
    let app = spawn_app_with(&[("CERTVERIFY_AUTH_RATE_LIMIT_PER_MINUTE", "3")]).await;
    let attempt = json!({"email": "ana@example.org", "password": "wrong password!"});
    for _ in 0..3 {
        assert_eq!(
            app.post_json("/v1/auth/login", &attempt, None)
                .await
                .status(),
            401
        );
    }
    let res = app.post_json("/v1/auth/login", &attempt, None).await;
    let retry_after: u64 = res
        .headers()
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_problem(res, 429, "rate_limited").await;
}

fn header<'a>(res: &'a reqwest::Response, name: &str) -> &'a str {
    res.headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name}"))
        .to_str()
        .unwrap()
}

/// The issue's case: one account's attempts exhausted, and the address's by other
/// accounts; the right password is then refused with the longer wait (the account's),
/// and every answer states both limits (draft-ietf-httpapi-ratelimit-headers).
#[tokio::test]
async fn a_login_refused_by_both_limits_names_the_longer_wait_and_both_policies() {
    let app = spawn_app_with(&[("CERTVERIFY_AUTH_RATE_LIMIT_PER_MINUTE", "2")]).await;
    assert_eq!(app.register_holder("ana@example.org").await.status(), 202);
    let wrong = |email: &str| json!({"email": email, "password": "wrong password!"});
    let first = app
        .post_json("/v1/auth/login", &wrong("ana@example.org"), None)
        .await;
    assert_eq!(first.status(), 401);
    assert_eq!(
        header(&first, "ratelimit-policy"),
        r#""account";q=2;w=60, "address";q=10;w=60"#
    );
    assert_eq!(
        header(&first, "ratelimit"),
        r#""account";r=1;t=30, "address";r=9;t=6"#
    );
    app.post_json("/v1/auth/login", &wrong("ana@example.org"), None)
        .await;
    // The address's other eight attempts, by other accounts.
    for other in ["b", "c", "d", "e"] {
        for _ in 0..2 {
            let res = app
                .post_json(
                    "/v1/auth/login",
                    &wrong(&format!("{other}@example.org")),
                    None,
                )
                .await;
            assert_eq!(res.status(), 401);
        }
    }
    let right = json!({"email": "ana@example.org", "password": PASSWORD});
    let res = app.post_json("/v1/auth/login", &right, None).await;
    let retry_after: u64 = header(&res, "retry-after").parse().unwrap();
    // The account's next attempt is 30 s away, the address's 6 s.
    assert!((25..=30).contains(&retry_after), "{retry_after}");
    let current = header(&res, "ratelimit").to_owned();
    assert!(current.starts_with(r#""account";r=0;"#), "{current}");
    assert!(current.contains(r#""address";r=0;"#), "{current}");
    assert_problem(res, 429, "rate_limited").await;
}
