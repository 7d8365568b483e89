//! Pages for people (src/web): both languages, the language rule, the security headers,
//! escaping, and the 404 page beside the API's problem documents.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};
use crate::sharing_helpers::issued;
use crate::times::JsonBody;

async fn page(
    app: &TestApp,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, String, reqwest::header::HeaderMap) {
    let mut req = app.client.get(app.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, res.text().await.unwrap(), headers)
}

/// What every page must be: HTML, the headers of DESIGN.md, no untranslated key.
fn assert_page(body: &str, headers: &reqwest::header::HeaderMap, lang: &str) {
    let h = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        h("content-type").starts_with("text/html"),
        "{}",
        h("content-type")
    );
    let csp = h("content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("http"),
        "{csp}"
    );
    assert_eq!(h("x-content-type-options"), "nosniff");
    assert_eq!(h("referrer-policy"), "same-origin");
    assert!(body.contains(&format!("<html lang=\"{lang}\">")), "{body}");
    assert!(!body.contains('⟦'), "a key shown instead of text: {body}");
    assert!(!body.contains("<script"), "pages carry no script: {body}");
    let other = if lang == "en" { "zh-CN" } else { "en" };
    assert!(
        body.contains(&format!("lang={other}\"")),
        "no switch to {other}: {body}"
    );
}

#[tokio::test]
async fn the_start_page_greets_in_chinese_by_default_and_in_english_when_asked() {
    let app = spawn_app().await;
    let (status, zh, headers) = page(&app, "/", &[]).await;
    assert_eq!(status, 200);
    assert_page(&zh, &headers, "zh-CN");
    assert!(zh.contains("核验境外职业资格证书"), "{zh}");
    for link in [
        "/account/register",
        "/check",
        "/verify",
        "/registry",
        "/docs/",
    ] {
        assert!(zh.contains(&format!("href=\"{link}\"")), "{link}");
    }
    let head = app.client.head(app.url("/")).send().await.unwrap();
    assert_eq!(head.status(), 200);
    let (_, en, headers) = page(&app, "/?lang=en", &[]).await;
    assert_page(&en, &headers, "en");
    assert!(en.contains("Verify overseas occupational qualifications"));
    let cookie = headers.get("set-cookie").unwrap().to_str().unwrap();
    assert!(cookie.starts_with("lang=en;"), "{cookie}");
}

#[tokio::test]
async fn the_language_comes_from_the_query_then_the_cookie_then_accept_language() {
    let app = spawn_app().await;
    let lang_of = |body: &str| {
        body.split("<html lang=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned()
    };
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case] = &[
        ("/", &[("accept-language", "en-US,en;q=0.9")], "en"),
        ("/", &[("accept-language", "fr-FR, zh-TW;q=0.5")], "zh-CN"),
        ("/", &[("accept-language", "fr-FR, de")], "zh-CN"),
        (
            "/",
            &[("cookie", "lang=en"), ("accept-language", "zh-CN")],
            "en",
        ),
        ("/?lang=zh", &[("cookie", "lang=en")], "zh-CN"),
        ("/?lang=zh-CN", &[("accept-language", "en")], "zh-CN"),
        ("/?lang=xx", &[("accept-language", "en")], "en"),
    ];
    for (path, headers, want) in cases {
        let (_, body, _) = page(&app, path, headers).await;
        assert_eq!(lang_of(&body), *want, "{path} {headers:?}");
    }
}

#[tokio::test]
async fn an_unknown_page_is_a_404_page_while_the_api_keeps_problem_documents() {
    let app = spawn_app().await;
    let (status, body, headers) = page(&app, "/no/such/page?lang=en", &[]).await;
    assert_eq!(status, 404);
    assert_page(&body, &headers, "en");
    assert!(body.contains("Page not found"));
    let (status, body, _) = page(&app, "/nothing", &[]).await;
    assert_eq!(status, 404);
    assert!(body.contains("页面不存在"));
    let (status, body, headers) = page(&app, "/v1/no-such-thing", &[]).await;
    assert_eq!(status, 404);
    assert_eq!(headers["content-type"], "application/problem+json");
    assert!(body.contains("not_found"));
}

#[tokio::test]
async fn the_stylesheet_is_cached_for_a_year_under_its_digest() {
    let app = spawn_app().await;
    let (_, body, _) = page(&app, "/", &[]).await;
    let href = body
        .split("rel=\"stylesheet\" href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    assert!(
        href.starts_with("/assets/site.") && href.ends_with(".css"),
        "{href}"
    );
    let res = app.client.get(app.url(href)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/css; charset=utf-8");
    assert_eq!(
        res.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    let (status, _, _) = page(&app, "/assets/site.0000.css", &[]).await;
    assert_eq!(status, 404);
}

async fn registry_app() -> (TestApp, String) {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    for (path, body) in [
        (
            "/v1/admin/list-versions",
            json!({"version": "3.0", "title": "List 3.0"}),
        ),
        (
            "/v1/admin/issuing-bodies",
            json!({"code": "acca", "name_en": "ACCA", "name_zh": "特许公认会计师公会", "country": "GB", "verification_mode": "manual"}),
        ),
    ] {
        assert_eq!(
            app.post_json(path, &body, Some(&admin)).await.status(),
            201,
            "{path}"
        );
    }
    (app, admin)
}

async fn create(app: &TestApp, admin: &str, body: Value) -> String {
    let res = app
        .post_json("/v1/admin/qualifications", &body, Some(admin))
        .await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json_checked().await.unwrap();
    created["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_registry_searches_and_a_qualification_shows_what_each_category_opens() {
    let (app, admin) = registry_app().await;
    let id = create(&app, &admin, json!({"code": "acca-fcca", "name_en": "Fellow Chartered Certified Accountant",
        "name_zh": "资深特许公认会计师", "issuing_body_id": "acca", "field": "accounting",
        "categories": ["A", "C"], "title_series": "accounting", "title_level": "associate_senior", "list_version": "3.0"})).await;
    create(
        &app,
        &admin,
        json!({"code": "other", "name_en": "Other One", "issuing_body_id": "acca",
        "field": "aerospace", "categories": ["B"], "list_version": "3.0"}),
    )
    .await;

    // Empty fields, as a form sends them, count as not given.
    let (status, zh, headers) = page(
        &app,
        "/registry?q=%E4%BC%9A%E8%AE%A1&issuing_body=&category=&field=&country=",
        &[],
    )
    .await;
    assert_eq!(status, 200);
    assert_page(&zh, &headers, "zh-CN");
    assert!(
        zh.contains("资深特许公认会计师") && !zh.contains("Other One"),
        "{zh}"
    );
    let (_, en, _) = page(&app, "/registry?lang=en&category=B&country=gb", &[]).await;
    assert!(
        en.contains("Other One") && !en.contains("Fellow Chartered"),
        "{en}"
    );
    let (status, bad, _) = page(&app, "/registry?lang=en&category=E", &[]).await;
    assert_eq!(status, 200);
    assert!(
        bad.contains("There is a problem") && bad.contains("href=\"#category\""),
        "{bad}"
    );

    let (status, zh, headers) = page(&app, &format!("/registry/{id}"), &[]).await;
    assert_eq!(status, 200);
    assert_page(&zh, &headers, "zh-CN");
    assert!(
        zh.contains("多次入境签证")
            && zh.contains("直接申报职称")
            && zh.contains("特许公认会计师公会"),
        "{zh}"
    );
    assert!(
        !zh.contains("外国高端人才（A 类）工作许可"),
        "category B is not this one's"
    );
    let (_, en, headers) = page(&app, "/registry/acca-fcca?lang=en", &[]).await;
    assert_page(&en, &headers, "en");
    assert!(
        en.contains("Multiple-entry visa")
            && en.contains("Direct application for a professional title"),
        "{en}"
    );
    assert!(
        en.contains("On the current list") && en.contains("Added to the list"),
        "{en}"
    );

    let (status, body, _) = page(&app, "/registry/no-such-thing?lang=en", &[]).await;
    assert_eq!(status, 404);
    assert!(body.contains("Page not found"));
}

#[tokio::test]
async fn a_removed_qualification_says_so_and_since_when() {
    let (app, admin) = registry_app().await;
    let id = create(
        &app,
        &admin,
        json!({"code": "gone", "name_en": "Gone", "issuing_body_id": "acca",
        "field": "accounting", "categories": ["A"], "list_version": "3.0"}),
    )
    .await;
    let res = app
        .post_json(
            &format!("/v1/admin/qualifications/{id}/remove"),
            &json!({"list_version": "3.0", "reason": "No longer meets the requirements"}),
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), 200);
    let today = chrono::Utc::now().date_naive();
    let (_, en, _) = page(&app, &format!("/registry/{id}?lang=en"), &[]).await;
    let since = format!("Removed from the list since {}", today.format("%-d %B %Y"));
    assert!(
        en.contains(&since) && en.contains("No longer meets the requirements"),
        "{en}"
    );
    let (_, zh, _) = page(&app, &format!("/registry/{id}?lang=zh"), &[]).await;
    assert!(
        zh.contains(&format!("自{}起已移出清单", today.format("%Y年%-m月%-d日"))),
        "{zh}"
    );
    let (_, listed, _) = page(&app, "/registry?lang=en", &[]).await;
    assert!(!listed.contains("Gone"));
    let (_, all, _) = page(&app, "/registry?lang=en&status=all", &[]).await;
    assert!(
        all.contains("Gone") && all.contains("Removed from the list"),
        "{all}"
    );
}

#[tokio::test]
async fn names_are_escaped_on_every_page_that_shows_them() {
    let (app, admin) = registry_app().await;
    let id = create(
        &app,
        &admin,
        json!({"code": "xss", "name_en": "<script>alert(1)</script>", "issuing_body_id": "acca",
        "field": "accounting", "categories": ["A"], "list_version": "3.0"}),
    )
    .await;
    for path in [
        "/registry?lang=en".to_owned(),
        format!("/registry/{id}?lang=en"),
    ] {
        let (_, body, _) = page(&app, &path, &[]).await;
        assert!(
            body.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
                || body.contains("&#60;script&#62;"),
            "{path}: {body}"
        );
        assert!(!body.contains("<script>"), "{path}");
    }
}

#[tokio::test]
async fn a_share_code_is_checked_on_a_page_in_either_language_with_any_case_and_hyphens() {
    let it = issued(&[]).await;
    let made = it.share_code().await;
    let code = made["code"].as_str().unwrap();
    let typed = code.replace('-', "").to_lowercase();
    let app = &it.w.app;

    // The form posts and is redirected to the code's page; nothing is followed here.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = client
        .post(app.url("/check"))
        .form(&[("code", format!(" {typed} "))])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], format!("/check/{typed}"));
    let res = client
        .post(app.url("/check?lang=en"))
        .form(&[("code", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("Enter the verification code"));

    let (status, zh, headers) = page(app, &format!("/check/{typed}"), &[]).await;
    assert_eq!(status, 200);
    assert_page(&zh, &headers, "zh-CN");
    assert!(
        zh.contains("Ana Lima") && zh.contains("有效：发证机构已确认该资格"),
        "{zh}"
    );
    let (_, en, headers) = page(app, &format!("/check/{code}?lang=en"), &[]).await;
    assert_page(&en, &headers, "en");
    assert!(
        en.contains("Ana Lima") && en.contains("Valid: the issuing body confirmed"),
        "{en}"
    );
    // What GET /v1/share-codes/{code} shows, and nothing more.
    let api = app.get_json(&format!("/v1/share-codes/{typed}")).await;
    assert!(en.contains(api["qualification"]["name"].as_str().unwrap()));
    assert!(
        !en.contains("date_of_birth") && !en.contains("FCCA-1001"),
        "{en}"
    );

    for wrong in ["0000-0000-0000-0000", "not-a-code"] {
        let (status, body, headers) = page(app, &format!("/check/{wrong}?lang=en"), &[]).await;
        assert_eq!(status, 404, "{wrong}");
        assert_page(&body, &headers, "en");
        assert!(body.contains("No such verification code"), "{body}");
    }
}

#[tokio::test]
async fn the_check_page_is_rate_limited_like_the_api() {
    let it = issued(&[("CERTVERIFY_SHARE_CODE_RATE_LIMIT_PER_MINUTE", "2")]).await;
    let app = &it.w.app;
    let mut last = 0;
    for _ in 0..4 {
        let (status, body, headers) = page(app, "/check/0000-0000-0000-0000?lang=en", &[]).await;
        last = status;
        if status == 429 {
            assert!(body.contains("Too many checks"));
            assert!(headers.contains_key("retry-after"));
        }
    }
    assert_eq!(last, 429);
}
