//! The whole journey of a holder in a real browser, once per language: register, open the
//! link of the mail in the outbox, log in, apply, the simulator confirms, see the record,
//! get the PDF report and find the name and record id in its text, make a share code,
//! check it in a fresh anonymous browser, verify the record file and a tampered copy.
//! Every page on the way passes axe-core. The logic of each step has its own tests
//! without a browser (pages_*.rs); this proves the pages hold together for a person.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::Browser;
use crate::mail_helpers::link_token;
use crate::requests_helpers::{world_with_sim, World};

const PASSWORD: &str = "a long passphrase for the journey";

async fn journey(lang: &str) {
    let Some(b) = Browser::start(&format!("journey {lang}")).await else {
        return;
    };
    let w: World = world_with_sim(&[], Some(|_: &mut certverify::sim::SimConfig| {})).await;
    let app = &w.app;
    let at = |path: &str| {
        let sep = if path.contains('?') { '&' } else { '?' };
        app.url(&format!("{path}{sep}lang={lang}"))
    };
    let email = format!("journey-{lang}@example.org");
    // The English journey runs on a 320 px wide screen (WCAG reflow), the Chinese one wide.
    let narrow = lang == "en";
    if narrow {
        b.set_width(320, 1000).await;
    }

    // Register.
    b.open(&at("/account/register")).await;
    page_ok(&b, &format!("register {lang}"), narrow).await;
    b.fill("#email", &email).await;
    b.fill("#password", PASSWORD).await;
    b.fill("#full_name", "Ana Lima").await;
    b.fill("#date_of_birth", "1988-04-02").await;
    b.fill("#nationality", "BR").await;
    b.click("input[name=identity_kind][value=foreign_national]")
        .await;
    b.click("#identity_document_type option[value=passport]")
        .await;
    b.fill("#identity_document_number", "FZ1234567").await;
    b.fill("#residence_country", "BR").await;
    b.click_and_wait("form[action='/account/register'] button[type=submit]")
        .await;
    page_ok(&b, &format!("check your email {lang}"), narrow).await;

    // The link in the mail: a page with a button; the button verifies.
    let mail = app.wait_for_mail(&email, "/account/verify-email/").await;
    let token = link_token(&mail, "/account/verify-email/");
    b.open(&at(&format!("/account/verify-email/{token}"))).await;
    page_ok(&b, &format!("confirm email {lang}"), narrow).await;
    b.click_and_wait("main button[type=submit]").await;

    // Log in: the portal.
    b.open(&at("/account/login")).await;
    page_ok(&b, &format!("login {lang}"), narrow).await;
    b.fill("#email", &email).await;
    b.fill("#password", PASSWORD).await;
    b.click_and_wait("form[action='/account/login'] button[type=submit]")
        .await;
    assert!(b.url().await.contains("/portal"), "{}", b.url().await);
    page_ok(&b, &format!("portal {lang}"), narrow).await;

    // Apply: qualification, details, evidence (none), check answers, submit.
    b.open(&at("/portal/requests/new")).await;
    b.fill("input[name=q]", "FCCA").await;
    b.click_and_wait("button[value=search]").await;
    page_ok(&b, &format!("apply: qualification {lang}"), narrow).await;
    b.click("#qualification_id").await;
    b.click_and_wait("button[value=qualification]").await;
    page_ok(&b, &format!("apply: details {lang}"), narrow).await;
    b.fill("#certificate_number", "FCCA-1001").await;
    b.fill("#name_on_certificate", "Ana Lima").await;
    b.script("document.getElementById('issued_on').value = '2019-06-30'; return null;")
        .await;
    b.fill("#applying_from", "BR").await;
    b.click_and_wait("button[value=details]").await;
    page_ok(&b, &format!("apply: evidence {lang}"), narrow).await;
    b.click_and_wait("button[value=evidence]").await;
    page_ok(&b, &format!("apply: check answers {lang}"), narrow).await;
    b.click_and_wait("#submit").await;
    let url = b.url().await;
    let request_id = url
        .split("/portal/requests/")
        .nth(1)
        .and_then(|r| r.split(['/', '?']).next())
        .unwrap_or_else(|| panic!("a confirmation at /portal/requests/{{id}}: {url}"))
        .to_owned();
    page_ok(&b, &format!("confirmation {lang}"), narrow).await;

    // The simulator confirms; the request's page then links to the record.
    let deadline = Instant::now() + Duration::from_secs(30);
    let record_href = loop {
        b.open(&at(&format!("/portal/requests/{request_id}"))).await;
        let href = b
            .script(
                "const a = document.querySelector('a[href^=\"/portal/records/\"]'); \
                 return a ? a.getAttribute('href') : null;",
            )
            .await;
        if let Some(href) = href.as_str() {
            break href.to_owned();
        }
        assert!(Instant::now() < deadline, "no record after 30 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    page_ok(&b, &format!("issued request {lang}"), narrow).await;
    let record_id = record_href
        .trim_start_matches("/portal/records/")
        .to_owned();
    b.open(&at(&record_href)).await;
    page_ok(&b, &format!("record {lang}"), narrow).await;
    assert!(b.text().await.contains("Ana Lima"));

    // The PDF report, as the browser would post its form (with the session cookie).
    let cookie = b.cookie_header().await;
    let csrf = b
        .script(
            "return document.querySelector(\"form[action$='report.pdf'] input[name=csrf]\").value;",
        )
        .await;
    let pdf = app
        .client
        .post(app.url(&format!(
            "/portal/records/{record_id}/report.pdf?lang={lang}"
        )))
        .header("cookie", &cookie)
        .header("origin", app.url(""))
        .form(&[
            ("csrf", csrf.as_str().unwrap_or_default()),
            ("expires_in_days", "30"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.status(), 200);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    let text = crate::pages_report::pdf_text(&pdf.bytes().await.unwrap())
        .expect("pdftotext (poppler-utils) is installed where browsers are");
    assert!(text.contains("Ana Lima"), "{text}");
    assert!(text.contains(&record_id), "{text}");

    // A share code, shown once on the record page.
    b.open(&at(&record_href)).await;
    b.fill("#expires_in_days", "7").await;
    b.click_and_wait("form[action$='/share-codes'] button[type=submit]")
        .await;
    let code = b.find("#new-code").await.text().await.unwrap();
    assert!(code.len() >= 16, "{code}");
    page_ok(&b, &format!("new share code {lang}"), narrow).await;

    // The record file, downloaded with the session.
    let file = app
        .client
        .get(app.url(&format!("/portal/records/{record_id}/record.json")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), 200);
    let credential: Value = file.json().await.unwrap();

    // Log out from the portal: the portal then asks to log in again.
    b.open(&at("/portal")).await;
    b.click_and_wait("form[action='/account/logout'] button[type=submit]")
        .await;
    b.open(&at("/portal")).await;
    assert!(
        b.url().await.contains("/account/login"),
        "{}",
        b.url().await
    );
    b.close().await;

    // Someone else, in a fresh browser with nothing of the holder's.
    let Some(anon) = Browser::start(&format!("journey anonymous {lang}")).await else {
        return;
    };
    anon.open(&at("/check")).await;
    anon.fill("#code", &code.to_lowercase()).await;
    anon.click_and_wait("form[action='/check'] button[type=submit]")
        .await;
    let status = anon.find("p.status").await;
    assert!(
        status
            .class_name()
            .await
            .unwrap()
            .unwrap_or_default()
            .contains("good"),
        "{}",
        anon.text().await
    );
    assert!(anon.text().await.contains("Ana Lima"));
    anon.assert_accessible(&format!("check result {lang}"))
        .await;

    // The downloaded file, uploaded as it is; then a tampered copy, pasted.
    let saved = tempfile::tempdir().unwrap();
    let path = saved.path().join("record.json");
    std::fs::write(&path, credential.to_string()).unwrap();
    anon.open(&at("/verify")).await;
    anon.find("#file")
        .await
        .send_keys(path.display().to_string())
        .await
        .unwrap();
    anon.click_and_wait("form[enctype='multipart/form-data'] button[type=submit]")
        .await;
    let verdict = anon.find("#verdict").await;
    assert!(
        verdict
            .class_name()
            .await
            .unwrap()
            .unwrap_or_default()
            .contains("good"),
        "{}",
        anon.text().await
    );
    anon.assert_accessible(&format!("verify verdict {lang}"))
        .await;
    // The file is the holder's record read ({id, status, credential}); change the signed part.
    let mut tampered = credential.clone();
    tampered["credential"]["credentialSubject"]["name"] = "Someone Else".into();
    anon.fill("#record", &tampered.to_string()).await;
    anon.click_and_wait("form[action='/verify']:not([enctype]) button[type=submit]")
        .await;
    let verdict = anon.find("#verdict").await;
    assert!(
        verdict
            .class_name()
            .await
            .unwrap()
            .unwrap_or_default()
            .contains("bad"),
        "{}",
        anon.text().await
    );
    anon.close().await;
}

/// axe-core finds nothing, and on a narrow screen nothing scrolls sideways.
async fn page_ok(b: &Browser, label: &str, narrow: bool) {
    b.assert_accessible(label).await;
    if narrow {
        let width = b.scroll_width().await;
        assert!(width <= 320, "{label}: {width} px wide at 320 px");
    }
}

#[tokio::test]
async fn a_holder_walks_from_registration_to_a_checked_share_code_in_english() {
    journey("en").await;
}

#[tokio::test]
async fn a_holder_walks_from_registration_to_a_checked_share_code_in_chinese() {
    journey("zh-CN").await;
}
