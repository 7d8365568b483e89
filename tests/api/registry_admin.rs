use crate::times::JsonBody;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, codes, error_fields, spawn_app, spawn_app_with};

fn fcca() -> Value {
    json!({"code": "acca-fcca", "name_en": "FCCA", "issuing_body_id": "acca", "field": "accounting",
           "categories": ["A", "B", "C"], "title_series": "accounting", "title_level": "associate_senior", "list_version": "1.0"})
}

async fn setup() -> (crate::helpers::TestApp, String) {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let v = json!({"version": "1.0", "title": "List 1.0", "published_on": "2022-01-01", "effective_on": "2022-02-01"});
    assert_eq!(
        app.post_json("/v1/admin/list-versions", &v, Some(&admin))
            .await
            .status(),
        201
    );
    let v3 = json!({"version": "3.0", "title": "List 3.0"});
    assert_eq!(
        app.post_json("/v1/admin/list-versions", &v3, Some(&admin))
            .await
            .status(),
        201
    );
    let body =
        json!({"code": "acca", "name_en": "ACCA", "country": "GB", "verification_mode": "manual"});
    assert_eq!(
        app.post_json("/v1/admin/issuing-bodies", &body, Some(&admin))
            .await
            .status(),
        201
    );
    (app, admin)
}

#[tokio::test]
async fn a_removed_qualification_leaves_the_default_listing_and_shows_under_removed_with_its_reason(
) {
    let (app, admin) = setup().await;
    let created: Value = app
        .post_json("/v1/admin/qualifications", &fcca(), Some(&admin))
        .await
        .json_checked()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let res = app
        .post_json(
            &format!("/v1/admin/qualifications/{id}/remove"),
            &json!({"list_version": "3.0", "reason": "No longer meets the requirements"}),
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert!(codes(&app.get_json("/v1/qualifications").await).is_empty());
    let removed = app.get_json("/v1/qualifications?status=removed").await;
    assert_eq!(codes(&removed), ["acca-fcca"]);
    assert_eq!(
        removed["items"][0]["removal"]["reason"],
        "No longer meets the requirements"
    );
    assert_eq!(removed["items"][0]["removal"]["list_version"], "3.0");
    assert_eq!(
        codes(&app.get_json("/v1/qualifications?status=all").await),
        ["acca-fcca"]
    );
    // Removing twice is a conflict; restoring brings it back, and the history keeps both.
    let again = app
        .post_json(
            &format!("/v1/admin/qualifications/{id}/remove"),
            &json!({"list_version": "3.0", "reason": "x"}),
            Some(&admin),
        )
        .await;
    assert_problem(again, 409, "already_removed").await;
    assert_eq!(
        app.post_json(
            &format!("/v1/admin/qualifications/{id}/restore"),
            &json!({}),
            Some(&admin)
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        codes(&app.get_json("/v1/qualifications").await),
        ["acca-fcca"]
    );
    let detail = app.get_json(&format!("/v1/qualifications/{id}")).await;
    let actions: Vec<&str> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["create", "remove", "restore"]);
    assert_eq!(detail["history"][1]["before"]["status"], "listed");
    assert_eq!(detail["history"][1]["after"]["status"], "removed");
    assert!(detail["removal"].is_null());
    assert_problem(
        app.post_json(
            &format!("/v1/admin/qualifications/{id}/restore"),
            &json!({}),
            Some(&admin),
        )
        .await,
        409,
        "not_removed",
    )
    .await;
}

#[tokio::test]
async fn a_patch_changes_only_what_it_names_and_is_recorded_with_before_and_after() {
    let (app, admin) = setup().await;
    app.post_json("/v1/admin/qualifications", &fcca(), Some(&admin))
        .await;
    let res = app
        .patch_json(
            "/v1/admin/qualifications/acca-fcca",
            &json!({"name_zh": "资深会员", "title_level": "intermediate"}),
            &admin,
        )
        .await;
    assert_eq!(res.status(), 200);
    let q: Value = res.json_checked().await.unwrap();
    assert_eq!(q["name_zh"], "资深会员");
    assert_eq!(q["title_level"], "intermediate");
    assert_eq!(q["name_en"], "FCCA");
    let detail = app.get_json("/v1/qualifications/acca-fcca").await;
    let last = detail["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["action"], "update");
    assert_eq!(last["before"]["title_level"], "associate_senior");
    assert_eq!(last["after"]["title_level"], "intermediate");
    assert!(last["actor"].is_string());
    let res = app
        .patch_json(
            "/v1/admin/qualifications/acca-fcca",
            &json!({"code": "other"}),
            &admin,
        )
        .await;
    assert_problem(res, 422, "validation_failed").await;
    let res = app
        .patch_json(
            "/v1/admin/qualifications/acca-fcca",
            &json!({"categories": ["A"]}),
            &admin,
        )
        .await;
    let problem = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "title_series");
}

#[tokio::test]
async fn validation_errors_name_each_field() {
    let (app, admin) = setup().await;
    let bad = json!({"code": "X Y", "name_en": "", "issuing_body_id": "acca", "field": "accounting", "categories": ["C", "Z"], "list_version": "1.0"});
    let problem = assert_problem(
        app.post_json("/v1/admin/qualifications", &bad, Some(&admin))
            .await,
        422,
        "validation_failed",
    )
    .await;
    let fields = error_fields(&problem);
    assert_eq!(
        fields,
        [
            "code",
            "name_en",
            "categories[1]",
            "title_series",
            "title_level"
        ]
    );
    let mut unknown_version = fcca();
    unknown_version["list_version"] = json!("9.9");
    let problem = assert_problem(
        app.post_json("/v1/admin/qualifications", &unknown_version, Some(&admin))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "list_version");
    let body = json!({"code": "Bad", "name_en": "x", "country": "XX", "verification_mode": "api"});
    let problem = assert_problem(
        app.post_json("/v1/admin/issuing-bodies", &body, Some(&admin))
            .await,
        422,
        "validation_failed",
    )
    .await;
    let fields = error_fields(&problem);
    assert_eq!(fields, ["code", "country", "api_base_url"]);
    assert_problem(app.post_json("/v1/admin/issuing-bodies", &json!({"code": "acca", "name_en": "Again", "country": "GB", "verification_mode": "manual"}), Some(&admin)).await, 409, "code_taken").await;
    assert_problem(
        app.post_json(
            "/v1/admin/qualifications",
            &{
                let mut f = fcca();
                f["surprise"] = json!(1);
                f
            },
            Some(&admin),
        )
        .await,
        422,
        "invalid_body",
    )
    .await;
}

#[tokio::test]
async fn holders_and_agencies_cannot_write_the_registry() {
    let (app, admin) = setup().await;
    let holder = app.holder_token("ana@example.org").await;
    let (id, secret) = app
        .agency(
            &admin,
            &["records:read", "records:search", "eligibility:check"],
        )
        .await;
    let agency = app.client_token(&id, &secret).await;
    for token in [&holder, &agency] {
        for (path, body) in [
            ("/v1/admin/qualifications", fcca()),
            (
                "/v1/admin/list-versions",
                json!({"version": "4.0", "title": "x"}),
            ),
            (
                "/v1/admin/issuing-bodies",
                json!({"code": "x", "name_en": "x", "country": "GB", "verification_mode": "manual"}),
            ),
            ("/v1/admin/registry/import", json!({})),
        ] {
            assert_problem(
                app.post_json(path, &body, Some(token)).await,
                403,
                "wrong_principal",
            )
            .await;
        }
        assert_problem(
            app.patch_json(
                "/v1/admin/issuing-bodies/acca",
                &json!({"status": "suspended"}),
                token,
            )
            .await,
            403,
            "wrong_principal",
        )
        .await;
    }
    assert_problem(
        app.post_json("/v1/admin/qualifications", &fcca(), None)
            .await,
        401,
        "missing_token",
    )
    .await;
}

#[tokio::test]
async fn an_issuing_body_is_suspended_and_its_keys_added_and_retired() {
    let (app, admin) = setup().await;
    let res = app
        .patch_json(
            "/v1/admin/issuing-bodies/acca",
            &json!({"status": "suspended", "name_zh": "英国特许公认会计师公会"}),
            &admin,
        )
        .await;
    assert_eq!(res.status(), 200);
    let body = app.get_json("/v1/issuing-bodies/acca").await;
    assert_eq!(body["status"], "suspended");
    assert_eq!(body["name_zh"], "英国特许公认会计师公会");
    let id = body["id"].as_str().unwrap();
    let key = json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "2026-a"});
    assert_eq!(
        app.post_json(
            &format!("/v1/admin/issuing-bodies/{id}/keys"),
            &key,
            Some(&admin)
        )
        .await
        .status(),
        201
    );
    assert_problem(
        app.post_json(
            &format!("/v1/admin/issuing-bodies/{id}/keys"),
            &key,
            Some(&admin),
        )
        .await,
        409,
        "kid_taken",
    )
    .await;
    assert_eq!(
        app.get_json("/v1/issuing-bodies/acca").await["public_keys"][0]["kid"],
        "2026-a"
    );
    let res = app
        .post_json(
            &format!("/v1/admin/issuing-bodies/{id}/keys/2026-a/retire"),
            &json!({}),
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        app.get_json("/v1/issuing-bodies/acca").await["public_keys"],
        json!([])
    );
    assert_problem(
        app.post_json(
            &format!("/v1/admin/issuing-bodies/{id}/keys/2026-a/retire"),
            &json!({}),
            Some(&admin),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    let bad_key = json!({"kty": "RSA", "crv": "Ed25519", "x": "AAAA", "kid": "k"});
    assert_problem(
        app.post_json(
            &format!("/v1/admin/issuing-bodies/{id}/keys"),
            &bad_key,
            Some(&admin),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn an_api_body_on_plain_http_needs_the_setting_and_a_loopback_address() {
    let (app, admin) = setup().await;
    let body = json!({"code": "sim", "name_en": "Simulator", "country": "GB", "verification_mode": "api", "api_base_url": "http://127.0.0.1:9000"});
    assert_problem(
        app.post_json("/v1/admin/issuing-bodies", &body, Some(&admin))
            .await,
        422,
        "validation_failed",
    )
    .await;
    let app = spawn_app_with(&[("CERTVERIFY_ALLOW_HTTP_ISSUERS", "true")]).await;
    let admin = app.admin_token().await;
    assert_eq!(
        app.post_json("/v1/admin/issuing-bodies", &body, Some(&admin))
            .await
            .status(),
        201
    );
    let remote = json!({"code": "far", "name_en": "Far", "country": "GB", "verification_mode": "api", "api_base_url": "http://verify.example.org"});
    assert_problem(
        app.post_json("/v1/admin/issuing-bodies", &remote, Some(&admin))
            .await,
        422,
        "validation_failed",
    )
    .await;
}
