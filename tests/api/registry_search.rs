use serde_json::json;

use crate::helpers::{assert_problem, codes, error_fields, spawn_app};

#[tokio::test]
async fn category_c_lists_fcca_and_the_cgma_fellow_with_their_title_mapping() {
    let app = spawn_app().await;
    app.import_sample(&app.admin_token().await).await;
    let page = app.get_json("/v1/qualifications?category=C").await;
    let c = codes(&page);
    assert!(
        c.contains(&"acca-fcca".to_owned()) && c.contains(&"cgma-fellow".to_owned()),
        "{c:?}"
    );
    assert!(!c.contains(&"acca-member".to_owned()));
    let fcca = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["code"] == "acca-fcca")
        .unwrap();
    assert_eq!(fcca["title_series"], "accounting");
    assert_eq!(fcca["title_level"], "associate_senior");
    assert_eq!(fcca["categories"], json!(["A", "B", "C"]));
    assert_eq!(fcca["issuing_body"]["code"], "acca");
}

#[tokio::test]
async fn every_filter_narrows_the_list() {
    let app = spawn_app().await;
    app.import_sample(&app.admin_token().await).await;
    let all = codes(&app.get_json("/v1/qualifications?limit=100").await);
    assert_eq!(all.len(), 11);
    for (query, expected) in [
        (
            "category=D",
            vec![
                "demo-financial-analyst",
                "demo-construction-engineer",
                "demo-hr-professional",
            ],
        ),
        (
            "category=b&field=information_technology",
            vec!["acm-fellow"],
        ),
        ("country=us", vec!["acm-fellow"]),
        ("issuing_body=raes", vec!["raes-fellow"]),
        (
            "list_version=3.0&field=biomedicine",
            vec!["demo-biomedical-fellow"],
        ),
        ("field=aerospace&country=GB", vec!["raes-fellow"]),
    ] {
        let mut got = codes(&app.get_json(&format!("/v1/qualifications?{query}")).await);
        let mut want: Vec<String> = expected.into_iter().map(str::to_owned).collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{query}");
    }
}

#[tokio::test]
async fn free_text_matches_english_and_chinese_names_codes_and_abbreviations_in_any_case() {
    let app = spawn_app().await;
    app.import_sample(&app.admin_token().await).await;
    for (q, expected) in [
        ("fcca", vec!["acca-fcca"]),
        ("FRAeS", vec!["raes-fellow"]),
        ("资深会员", vec!["acca-fcca", "cgma-fellow"]),
        ("计算机", vec!["acm-fellow"]),
        ("DEMO CHARTERED", vec!["demo-construction-engineer"]),
        ("100%", vec![]),
    ] {
        let url = format!(
            "/v1/qualifications?q={}",
            url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
        );
        let mut got = codes(&app.get_json(&url).await);
        got.sort();
        assert_eq!(got, expected, "{q}");
    }
}

#[tokio::test]
async fn pages_never_repeat_or_skip_a_row_while_rows_are_added() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    app.import_sample(&admin).await;
    let before = codes(&app.get_json("/v1/qualifications?limit=100").await);
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut added = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/qualifications?limit=3&cursor={c}"),
            None => "/v1/qualifications?limit=3".to_owned(),
        };
        let page = app.get_json(&path).await;
        seen.extend(codes(&page));
        // Another admin adds a row between every two pages.
        let body = json!({"code": format!("new-{added}"), "name_en": format!("New {added}"), "issuing_body_id": "acm",
                          "field": "information_technology", "categories": ["B"], "list_version": "3.0"});
        assert_eq!(
            app.post_json("/v1/admin/qualifications", &body, Some(&admin))
                .await
                .status(),
            201
        );
        added += 1;
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let unique: std::collections::BTreeSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "a row was repeated: {seen:?}");
    for code in &before {
        assert!(seen.contains(code), "{code} was skipped");
    }
}

#[tokio::test]
async fn public_reads_carry_an_etag_and_answer_304_when_unchanged() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    app.import_sample(&admin).await;
    for path in [
        "/v1/qualifications?category=A",
        "/v1/issuing-bodies",
        "/v1/list-versions",
        "/v1/qualifications/acca-fcca",
        "/v1/issuing-bodies/acca",
    ] {
        let res = app.get(path, None).await;
        assert!(
            res.headers()
                .get("cache-control")
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("public"),
            "{path}"
        );
        let etag = res
            .headers()
            .get("etag")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let again = app
            .client
            .get(app.url(path))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{path}");
        assert_eq!(again.headers().get("etag").unwrap().to_str().unwrap(), etag);
    }
    let res = app.get("/v1/qualifications/acca-fcca", None).await;
    let etag = res
        .headers()
        .get("etag")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    app.patch_json(
        "/v1/admin/qualifications/acca-fcca",
        &json!({"abbreviation": "FCCA."}),
        &admin,
    )
    .await;
    let changed = app
        .client
        .get(app.url("/v1/qualifications/acca-fcca"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
}

#[tokio::test]
async fn bad_search_parameters_are_a_400_naming_each() {
    let app = spawn_app().await;
    let problem = assert_problem(
        app.get("/v1/qualifications?category=E&limit=500&status=gone", None)
            .await,
        400,
        "invalid_query",
    )
    .await;
    let fields = error_fields(&problem);
    assert_eq!(fields, ["category", "status", "limit"]);
    assert_problem(
        app.get("/v1/qualifications?limit=abc", None).await,
        400,
        "invalid_query",
    )
    .await;
    assert_problem(
        app.get("/v1/qualifications/no-such-code", None).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn the_public_issuing_body_shows_public_material_only() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let key = json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "k1"});
    let body = json!({"code": "acca", "name_en": "ACCA", "country": "GB", "verification_mode": "manual", "public_keys": [key]});
    assert_eq!(
        app.post_json("/v1/admin/issuing-bodies", &body, Some(&admin))
            .await
            .status(),
        201
    );
    let view = app.get_json("/v1/issuing-bodies/acca").await;
    assert_eq!(view["public_keys"], json!([key]));
    let members: std::collections::BTreeSet<&str> = view
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        members,
        [
            "api_base_url",
            "code",
            "country",
            "id",
            "name_en",
            "name_zh",
            "public_keys",
            "status",
            "verification_mode",
            "website"
        ]
        .into_iter()
        .collect()
    );
}
