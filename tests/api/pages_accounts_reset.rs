//! The account pages' password reset and resend, every page's language and headers, and
//! emailed tokens kept out of the logs.

use crate::helpers::{spawn_app, PASSWORD};
use crate::mail_helpers::link_token;
use crate::pages_accounts_helpers::{assert_page, login, register, sessions_of, Browser};

#[tokio::test]
async fn a_reset_by_the_mailed_link_ends_every_session_and_answers_alike_for_any_address() {
    let app = spawn_app().await;
    app.holder_token("ana@example.org").await;
    let (phone, laptop) = (Browser::new(&app), Browser::new(&app));
    for b in [&phone, &laptop] {
        assert_eq!(login(b, "ana@example.org", PASSWORD, "").await.status, 303);
    }
    assert_eq!(sessions_of(&app).len(), 2);
    let browser = Browser::new(&app);
    let form = browser.get("/account/reset?lang=en").await;
    assert_page(&form, "en");
    let ask = |email: &'static str| {
        let csrf = form.csrf();
        let browser = &browser;
        async move {
            browser
                .post("/account/reset", &[("csrf", &csrf), ("email", email)])
                .await
        }
    };
    let known = ask("ana@example.org").await;
    let unknown = ask("nobody@example.org").await;
    assert_eq!(known.status, 200);
    assert_eq!(
        known.body.replace("ana@example.org", "EMAIL"),
        unknown.body.replace("nobody@example.org", "EMAIL")
    );
    let mail = app
        .wait_for_mail("ana@example.org", "/account/reset/")
        .await;
    let token = link_token(&mail, "/account/reset/");
    let path = format!("/account/reset/{token}");
    let choose = browser.get(&path).await;
    assert_eq!(choose.status, 200);
    assert_page(&choose, "en");
    let short = browser
        .post(&path, &[("csrf", &choose.csrf()), ("password", "short")])
        .await;
    assert_eq!(short.status, 400);
    assert!(short.body.contains("href=\"#password\""));
    assert_eq!(
        sessions_of(&app).len(),
        2,
        "a refused password changes nothing"
    );
    let new_password = "a brand new long passphrase";
    let done = browser
        .post(
            &path,
            &[("csrf", &choose.csrf()), ("password", new_password)],
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("Your password has been changed"));
    assert!(sessions_of(&app).is_empty(), "every session ended");
    let again = browser
        .post(
            &path,
            &[("csrf", &choose.csrf()), ("password", new_password)],
        )
        .await;
    assert_eq!(again.status, 400);
    assert!(again.body.contains("This link cannot be used"));
    assert_eq!(
        login(&phone, "ana@example.org", PASSWORD, "").await.status,
        400
    );
    assert_eq!(
        login(&phone, "ana@example.org", new_password, "")
            .await
            .status,
        303
    );
}

#[tokio::test]
async fn a_resend_answers_alike_and_mails_only_a_holder_still_unverified() {
    let app = spawn_app().await;
    assert_eq!(app.register_holder("new@example.org").await.status(), 202);
    app.wait_for_mail("new@example.org", "/account/verify-email/")
        .await;
    let browser = Browser::new(&app);
    let form = browser.get("/account/resend?lang=en").await;
    assert_page(&form, "en");
    let csrf = form.csrf();
    let known = browser
        .post(
            "/account/resend",
            &[("csrf", &csrf), ("email", "NEW@example.org")],
        )
        .await;
    let unknown = browser
        .post(
            "/account/resend",
            &[("csrf", &csrf), ("email", "nobody@example.org")],
        )
        .await;
    assert_eq!(known.status, 200);
    assert_eq!(
        known.body.replace("NEW@example.org", "EMAIL"),
        unknown.body.replace("nobody@example.org", "EMAIL")
    );
    for _ in 0..500 {
        if app.mails_to("new@example.org").len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(app.mails_to("new@example.org").len(), 2);
    assert!(app.mails_to("nobody@example.org").is_empty());
}

#[tokio::test]
async fn account_pages_say_their_language_and_carry_the_security_headers() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    let token = "A".repeat(43);
    for path in [
        "/account/register".to_owned(),
        "/account/login".to_owned(),
        "/account/reset".to_owned(),
        "/account/resend".to_owned(),
        format!("/account/verify-email/{token}"),
        format!("/account/reset/{token}"),
    ] {
        for lang in ["zh-CN", "en"] {
            let page = browser.get(&format!("{path}?lang={lang}")).await;
            assert_eq!(page.status, 200, "{path}");
            assert_page(&page, lang);
            assert!(page.body.contains("name=\"csrf\""), "{path}");
            let other = if lang == "en" { "zh-CN" } else { "en" };
            assert!(page.body.contains(&format!("lang={other}\"")), "{path}");
        }
    }
    // A link that cannot be a token is a clear page, not an error.
    let page = browser.get("/account/verify-email/%22%3E?lang=en").await;
    assert_eq!(page.status, 400);
    assert_page(&page, "en");
    assert!(page.body.contains("This link cannot be used"));
    // The pre-login token is a cookie for this site only, and not readable by script.
    let first = Browser::new(&app).get("/account/login").await;
    let cookie = first.header("set-cookie");
    assert!(cookie.starts_with("cv_csrf="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let not_form = browser
        .send(
            app.client
                .post(app.url("/account/login"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body("%%%=&&="),
        )
        .await;
    assert!(matches!(not_form.status, 400 | 403), "{}", not_form.status);
}

#[tokio::test]
async fn a_holder_who_has_not_confirmed_the_address_may_still_log_in() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    assert_eq!(register(&browser, "new@example.org").await.status, 200);
    let res = login(&browser, "new@example.org", PASSWORD, "").await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(res.header("location"), "/portal");
}

#[tokio::test]
async fn an_emailed_token_in_a_path_is_logged_as_its_route_template() {
    use std::io::Read;
    let app = spawn_app().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_certverify"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env_clear()
        .envs(app.env.iter().cloned())
        .env("CERTVERIFY_LOG_FORMAT", "json")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let token = "SecretTokenValue_0123456789abcdefghijklmno";
    let mut answered = false;
    for _ in 0..100 {
        let url = format!("{base}/account/verify-email/{token}");
        if let Ok(res) = app.client.get(url).send().await {
            assert_eq!(res.status(), 200);
            answered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(answered, "the server never answered");
    let res = app
        .client
        .get(format!("{base}/account/reset/{token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let _ = child.kill();
    let mut logs = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    let _ = child.wait();
    assert!(logs.contains("/account/verify-email/{token}"), "{logs}");
    assert!(logs.contains("/account/reset/{token}"), "{logs}");
    assert!(!logs.contains(token), "{logs}");
}
