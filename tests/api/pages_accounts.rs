//! The account pages (`/account/…`) against the real server, as a browser uses them:
//! register, the link from the real mail file, login and logout; CSRF, field errors in both
//! languages, escaping, where login goes next, and what wrong credentials tell.

use certverify::db::schema::holders;
use diesel::prelude::*;

use crate::helpers::{spawn_app, spawn_app_with, TestApp, PASSWORD};
use crate::mail_helpers::link_token;
use crate::pages_accounts_helpers::{
    assert_page, hidden, holder_count, login, register, registration, sessions_of, Browser, Page,
};

#[tokio::test]
async fn a_holder_registers_confirms_by_the_button_logs_in_with_a_new_session_and_logs_out() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    let form = browser.get("/account/register?lang=en").await;
    assert_eq!(form.status, 200);
    assert_page(&form, "en");
    assert!(
        form.body.contains("href=\"/account/login\""),
        "nav offers login"
    );
    let sent = register(&browser, "ana@example.org").await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    assert!(sent.body.contains("Check your email"), "{}", sent.body);
    assert!(sent.body.contains("ana@example.org"));

    let mail = app
        .wait_for_mail("ana@example.org", "/account/verify-email/")
        .await;
    let token = link_token(&mail, "/account/verify-email/");
    let path = format!("/account/verify-email/{token}");
    // Opening the link (as a mail scanner does) only shows the button.
    let confirm = browser.get(&path).await;
    assert_eq!(confirm.status, 200);
    assert_page(&confirm, "en");
    assert!(confirm.body.contains(&format!("action=\"{path}\"")));
    let verified = |app: &TestApp| -> bool {
        app.with_db(|conn| {
            holders::table
                .select(holders::email_verified_at)
                .first::<Option<chrono::NaiveDateTime>>(conn)
                .unwrap()
                .is_some()
        })
    };
    assert!(!verified(&app));
    let done = browser.post(&path, &[("csrf", &confirm.csrf())]).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("Your address is confirmed"));
    assert!(done.body.contains("href=\"/account/login\""));
    assert!(verified(&app));
    let again = browser.post(&path, &[("csrf", &confirm.csrf())]).await;
    assert_eq!(again.status, 400);
    assert!(again.body.contains("This link cannot be used"));

    // A session id planted before login is never the logged-in one.
    browser.set_cookie("cv_session", "planted-by-someone-else-0000000000000000000");
    let before_csrf = browser.cookie("cv_csrf").unwrap();
    let res = login(
        &browser,
        "ana@example.org",
        PASSWORD,
        "/portal/requests/1?x=1",
    )
    .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(res.header("location"), "/portal/requests/1?x=1");
    let set = res.header("set-cookie");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    let session = browser.cookie("cv_session").unwrap();
    assert_ne!(session, "planted-by-someone-else-0000000000000000000");
    assert_ne!(session, before_csrf);
    assert_eq!(session.len(), 43);
    let rows = sessions_of(&app);
    assert_eq!(rows.len(), 1);
    // The navigation offers the portal now.
    let start = browser.get("/?lang=en").await;
    assert!(start.body.contains("href=\"/portal\""));
    assert!(!start.body.contains("href=\"/account/login\""));

    // Logout needs the session's own token.
    let refused = browser.post("/account/logout", &[("csrf", "wrong")]).await;
    assert_eq!(refused.status, 403);
    assert_eq!(sessions_of(&app).len(), 1);
    let csrf = rows[0].1.clone();
    let out = browser.post("/account/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 303);
    assert_eq!(out.header("location"), "/");
    assert!(out.header("set-cookie").contains("Max-Age=0"));
    assert!(browser.cookie("cv_session").is_none());
    assert!(sessions_of(&app).is_empty());
    // The old id opens nothing: logging out with it again ends nothing and only redirects.
    browser.set_cookie("cv_session", &session);
    let stale = browser.post("/account/logout", &[("csrf", &csrf)]).await;
    assert_eq!(stale.status, 303);
}

#[tokio::test]
async fn registering_a_taken_address_answers_alike_and_mails_its_owner() {
    let app = spawn_app().await;
    assert_eq!(app.register_holder("ana@example.org").await.status(), 202);
    app.wait_for_mail("ana@example.org", "/account/verify-email/")
        .await;
    let browser = Browser::new(&app);
    let taken = register(&browser, "ana@example.org").await;
    let new = register(&browser, "bea@example.org").await;
    assert_eq!(taken.status, 200);
    assert_eq!(new.status, 200);
    let strip = |page: &Page, email: &str| page.body.replace(email, "EMAIL");
    assert_eq!(
        strip(&taken, "ana@example.org"),
        strip(&new, "bea@example.org")
    );
    let owner = app
        .wait_for_mail("ana@example.org", "Someone tried to register")
        .await;
    assert!(!owner.contains("/account/verify-email/"));
    assert_eq!(holder_count(&app), 2);
}

#[tokio::test]
async fn forms_with_a_missing_or_wrong_token_or_a_foreign_origin_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    let csrf = browser.get("/account/register?lang=en").await.csrf();
    let wrong = "x".repeat(43);
    for form in [
        registration("ana@example.org", ""),
        registration("ana@example.org", &wrong),
    ] {
        let page = browser.post("/account/register", &form).await;
        assert_eq!(page.status, 403);
        assert_page(&page, "en");
        assert!(page.body.contains("nothing was changed"), "{}", page.body);
    }
    // The right token from a browser without the cookie.
    let stranger = Browser::new(&app);
    let page = stranger
        .post("/account/register", &registration("ana@example.org", &csrf))
        .await;
    assert_eq!(page.status, 403);
    // The right token and cookie, posted from another site.
    let mut evil = Browser::new(&app);
    evil.origin = "https://evil.example".into();
    let csrf = evil.get("/account/register").await.csrf();
    let page = evil
        .post("/account/register", &registration("ana@example.org", &csrf))
        .await;
    assert_eq!(page.status, 403);
    assert_page(&page, "zh-CN");
    app.register_holder("bea@example.org").await;
    let page = evil
        .post(
            "/account/login",
            &[
                ("csrf", &csrf),
                ("email", "bea@example.org"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, 403);
    assert!(evil.cookie("cv_session").is_none());
    let page = evil
        .post(
            "/account/reset",
            &[("csrf", &csrf), ("email", "bea@example.org")],
        )
        .await;
    assert_eq!(page.status, 403);
    assert_eq!(holder_count(&app), 1, "only the API's registration");
    assert!(app.mails_to("ana@example.org").is_empty());
    app.wait_for_mail("bea@example.org", "/account/verify-email/")
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let mails = app.mails_to("bea@example.org");
    assert_eq!(mails.len(), 1, "only the verification mail");
    assert!(sessions_of(&app).is_empty());
}

#[tokio::test]
async fn every_invalid_field_is_named_in_the_error_summary_in_both_languages() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    for (lang, expected) in [
        (
            "en",
            [
                "Enter an email address like name@example.com.",
                "Enter a password of at least 12 characters.",
                "Enter your nationality as a two-letter code",
            ],
        ),
        (
            "zh-CN",
            [
                "请输入有效的电子邮箱",
                "密码至少需要 12 个字符。",
                "请用两位字母代码填写国籍",
            ],
        ),
    ] {
        let csrf = browser
            .get(&format!("/account/register?lang={lang}"))
            .await
            .csrf();
        let page = browser
            .post(
                "/account/register",
                &[
                    ("csrf", &csrf),
                    ("email", "not-an-address"),
                    ("password", "short"),
                    ("full_name", ""),
                    ("date_of_birth", "1988-13-40"),
                    ("nationality", "XX"),
                    ("identity_document_type", "X"),
                    ("identity_document_number", "!"),
                    ("residence_country", "ZZ"),
                ],
            )
            .await;
        assert_eq!(page.status, 400, "{}", page.body);
        assert_page(&page, lang);
        let summary = page
            .body
            .split("class=\"error-summary\"")
            .nth(1)
            .expect("an error summary")
            .split("</div>")
            .next()
            .unwrap()
            .to_owned();
        let ids = [
            "email",
            "password",
            "full_name",
            "date_of_birth",
            "nationality",
            "identity_kind",
            "identity_document_type",
            "identity_document_number",
            "residence_country",
        ];
        let mut last = 0;
        for id in ids {
            let link = format!("href=\"#{id}\"");
            let at = summary
                .find(&link)
                .unwrap_or_else(|| panic!("{id}: {summary}"));
            assert!(at >= last, "{id} out of the form's order");
            last = at;
            assert!(page.body.contains(&format!("id=\"{id}-error\"")), "{id}");
            assert!(page.body.contains(&format!("id=\"{id}\"")), "{id} input");
        }
        for text in expected {
            assert!(summary.contains(text), "{text}: {summary}");
        }
        // What was typed comes back, except the password.
        assert!(page.body.contains("value=\"not-an-address\""));
        assert!(!page.body.contains("value=\"short\""));
    }
    // The cross-field checks, named too.
    let csrf = browser.get("/account/register?lang=en").await.csrf();
    let mut form = registration("ana@example.org", &csrf);
    form.retain(|(k, _)| *k != "identity_kind");
    form.push(("identity_kind", "mainland"));
    form.push(("shanghai_hukou", "yes"));
    let page = browser.post("/account/register", &form).await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("href=\"#identity_kind\""));
    assert!(page.body.contains("does not fit the nationality"));
    let mut form = registration("ana@example.org", &csrf);
    form.push(("shanghai_hukou", "yes"));
    let page = browser.post("/account/register", &form).await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("href=\"#shanghai_hukou\""));
    assert_eq!(holder_count(&app), 0);
}

#[tokio::test]
async fn a_name_or_address_containing_markup_is_shown_escaped() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    let csrf = browser.get("/account/register?lang=en").await.csrf();
    let mut form = registration("bad address", &csrf);
    form.retain(|(k, _)| *k != "full_name");
    form.push(("full_name", "<script>alert(1)</script>"));
    let page = browser.post("/account/register", &form).await;
    assert_eq!(page.status, 400);
    assert!(!page.body.contains("<script"), "{}", page.body);
    assert!(page
        .body
        .contains("&#60;script&#62;alert(1)&#60;/script&#62;"));
    let sent = browser
        .post(
            "/account/register",
            &registration("<script>x</script>@example.org", &csrf),
        )
        .await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    assert!(!sent.body.contains("<script"));
    assert!(sent
        .body
        .contains("&#60;script&#62;x&#60;/script&#62;@example.org"));
}

#[tokio::test]
async fn a_next_that_leaves_the_site_is_not_followed_after_login() {
    let app = spawn_app().await;
    app.holder_token("ana@example.org").await;
    let browser = Browser::new(&app);
    let form = browser.get("/account/login?next=//evil.example").await;
    assert_eq!(hidden(&form.body, "next"), None);
    for next in [
        "//evil.example",
        "https://evil.example/",
        "/\\evil.example",
        "",
    ] {
        let res = login(&browser, "ana@example.org", PASSWORD, next).await;
        assert_eq!(res.status, 303);
        assert_eq!(res.header("location"), "/portal", "{next}");
    }
    let form = browser.get("/account/login?next=/portal/records/1").await;
    assert_eq!(
        hidden(&form.body, "next").as_deref(),
        Some("/portal/records/1")
    );
}

#[tokio::test]
async fn wrong_credentials_say_nothing_about_the_address_and_too_many_are_a_page_with_retry_after()
{
    let app = spawn_app_with(&[("CERTVERIFY_AUTH_RATE_LIMIT_PER_MINUTE", "3")]).await;
    app.holder_token("ana@example.org").await;
    let browser = Browser::new(&app);
    browser.get("/account/login?lang=en").await;
    let unknown = login(&browser, "nobody@example.org", PASSWORD, "").await;
    let wrong = login(&browser, "ana@example.org", "not the password", "").await;
    assert_eq!(unknown.status, 400);
    assert_eq!(wrong.status, 400);
    assert!(wrong
        .body
        .contains("The email address or the password is not right"));
    assert_eq!(
        unknown.body.replace("nobody@example.org", "EMAIL"),
        wrong.body.replace("ana@example.org", "EMAIL")
    );
    let mut last = wrong;
    for _ in 0..3 {
        last = login(&browser, "ana@example.org", "not the password", "").await;
        if last.status == 429 {
            break;
        }
    }
    assert_eq!(last.status, 429);
    assert_page(&last, "en");
    assert!(last.body.contains("Too many attempts"), "{}", last.body);
    assert!(last.header("retry-after").parse::<u64>().unwrap() > 0);
    assert!(browser.cookie("cv_session").is_none());
}
