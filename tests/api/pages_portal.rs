//! The holder's portal pages (src/web/portal), signed in as `portal_helpers` does it.

use certverify::db::schema::share_codes;
use diesel::prelude::*;
use serde_json::Value;

use crate::portal_helpers::{assert_portal_page, hidden, sign_in};
use crate::requests_helpers::world;
use crate::sharing_helpers::issued;

#[tokio::test]
async fn a_signed_out_visitor_is_sent_to_log_in_and_comes_back_after() {
    let app = crate::helpers::spawn_app().await;
    for (path, next) in [
        ("/portal", "%2Fportal"),
        ("/portal/requests/new", "%2Fportal%2Frequests%2Fnew"),
        (
            "/portal/records/abc?lang=en",
            "%2Fportal%2Frecords%2Fabc%3Flang%3Den",
        ),
    ] {
        let res = app.get(path, None).await;
        assert_eq!(res.status(), 303, "{path}");
        assert_eq!(
            res.headers()["location"],
            format!("/account/login?next={next}").as_str()
        );
    }
    // An ended or made-up session is no session.
    let res = app
        .client
        .get(app.url("/portal"))
        .header("cookie", "cv_session=not-a-session")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
}

#[tokio::test]
async fn the_portal_shows_requests_records_and_reads_in_either_language() {
    let i = issued(&[]).await;
    let app = &i.w.app;
    let agency = i.agency(&["records:read"]).await;
    let res = app
        .get(
            &format!("/v1/records/{}?purpose=work%20permit%20WP-7", i.record_id),
            Some(&agency),
        )
        .await;
    assert_eq!(res.status(), 200);
    let b = sign_in(app, "ana@example.org");
    let zh = b.get("/portal").await;
    assert_eq!(zh.status, 200);
    assert_portal_page(&zh, "zh-CN");
    assert!(zh.body.contains("已确认：记录已签发"), "{}", zh.body);
    assert!(zh
        .body
        .contains(&format!("/portal/records/{}", i.record_id)));
    assert!(zh.body.contains("/portal/requests/"));
    let en = b.get("/portal?lang=en").await;
    assert_portal_page(&en, "en");
    assert!(en.body.contains("Confirmed: your record is issued"));
    assert!(en.body.contains("Valid: the issuing body confirmed"));
    assert!(en.body.contains("work permit WP-7") && en.body.contains("Exit-Entry"));
    assert!(!en.body.contains("Confirm your email address first"));
}

#[tokio::test]
async fn an_unverified_holder_is_told_to_confirm_and_cannot_apply() {
    let app = crate::helpers::spawn_app().await;
    app.register_holder("new@example.org").await;
    let b = sign_in(&app, "new@example.org");
    let home = b.get("/portal?lang=en").await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("Confirm your email address first"));
    assert!(!home.body.contains("href=\"/portal/requests/new\""));
    let apply = b.get("/portal/requests/new?lang=en").await;
    assert_eq!(apply.status, 403);
    assert_portal_page(&apply, "en");
    assert!(
        apply.body.contains("confirmed email address"),
        "{}",
        apply.body
    );
}

#[tokio::test]
async fn an_open_request_is_withdrawn_from_its_page_only_with_the_csrf_token() {
    let w = world(&[("CERTVERIFY_DISPATCHER_CONCURRENCY", "0")], None).await;
    let id = w.submit_ok("FCCA-1001", "Ana Lima").await;
    let b = sign_in(&w.app, "ana@example.org");
    let page = b.get(&format!("/portal/requests/{id}?lang=en")).await;
    assert_eq!(page.status, 200);
    assert_portal_page(&page, "en");
    assert!(page.body.contains("Submitted: waiting to be sent"));
    assert!(page
        .body
        .contains(&format!("/portal/requests/{id}/withdraw")));
    let path = format!("/portal/requests/{id}/withdraw");
    for form in [vec![], vec![("csrf", "wrong")]] {
        let refused = b.post(&path, &form).await;
        assert_eq!(refused.status, 403);
        assert!(!refused.body.contains('⟦'));
    }
    // The right token from another site's page is refused too.
    let res = w
        .app
        .client
        .post(w.app.url(&path))
        .header("cookie", &b.cookie)
        .header("origin", "https://evil.example")
        .form(&[("csrf", b.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(w.request(&id).await["state"], "submitted");
    let done = b.post(&path, &[("csrf", &b.csrf)]).await;
    assert_eq!(done.status, 303);
    assert_eq!(done.location(), format!("/portal/requests/{id}"));
    assert_eq!(w.request(&id).await["state"], "withdrawn");
    let page = b.get(&format!("/portal/requests/{id}?lang=en")).await;
    assert!(page.body.contains("Withdrawn by you") && page.body.contains("You withdrew"));
    assert!(!page.body.contains("/withdraw\""));
    let again = b
        .post(&format!("{path}?lang=en"), &[("csrf", &b.csrf)])
        .await;
    assert_eq!(again.status, 409);
    assert!(again.body.contains("no longer open"));
}

#[tokio::test]
async fn another_holders_request_or_record_is_the_404_page() {
    let i = issued(&[]).await;
    let app = &i.w.app;
    app.holder_token("bob@example.org").await;
    let bob = sign_in(app, "bob@example.org");
    let request_id: String =
        i.w.app
            .get_json_as("/v1/verification-requests", &i.w.holder)
            .await["items"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
    for path in [
        format!("/portal/requests/{request_id}"),
        format!("/portal/records/{}", i.record_id),
        format!("/portal/records/{}/record.json", i.record_id),
        format!("/portal/records/{}/record.jwt", i.record_id),
        "/portal/requests/%3Cscript%3E".to_owned(),
        "/portal/records/not-an-id".to_owned(),
    ] {
        let page = bob.get(&format!("{path}?lang=en")).await;
        assert_eq!(page.status, 404, "{path}");
        assert_portal_page(&page, "en");
        assert!(page.body.contains("Page not found"), "{path}");
    }
    let path = format!("/portal/records/{}/share-codes", i.record_id);
    let res = bob
        .post(&path, &[("csrf", &bob.csrf), ("expires_in_days", "30")])
        .await;
    assert_eq!(res.status, 404);
    let path = format!("/portal/requests/{request_id}/withdraw");
    assert_eq!(bob.post(&path, &[("csrf", &bob.csrf)]).await.status, 404);
    let codes: i64 = app.with_db(|c| share_codes::table.count().get_result(c).unwrap());
    assert_eq!(codes, 0);
}

#[tokio::test]
async fn a_share_code_is_made_shown_once_listed_and_revoked() {
    let i = issued(&[]).await;
    let app = &i.w.app;
    let b = sign_in(app, "ana@example.org");
    let page_path = format!("/portal/records/{}?lang=en", i.record_id);
    let make = format!("/portal/records/{}/share-codes?lang=en", i.record_id);
    let count = || app.with_db(|c| share_codes::table.count().get_result::<i64>(c).unwrap());
    assert_eq!(
        b.post(&make, &[("expires_in_days", "30")]).await.status,
        403
    );
    assert_eq!(count(), 0);
    for bad in ["0", "181", "ten"] {
        let refused = b
            .post(&make, &[("csrf", &b.csrf), ("expires_in_days", bad)])
            .await;
        assert_eq!(refused.status, 422, "{bad}");
        assert!(refused.body.contains("href=\"#expires_in_days\""));
        assert!(refused.body.contains("from 1 to 180"));
    }
    assert_eq!(count(), 0);
    let made = b
        .post(&make, &[("csrf", &b.csrf), ("expires_in_days", "7")])
        .await;
    assert_eq!(made.status, 201);
    assert_portal_page(&made, "en");
    let at = made.body.find("id=\"new-code\">").unwrap() + "id=\"new-code\">".len();
    let code = made.body[at..].split('<').next().unwrap().to_owned();
    assert_eq!(code.len(), 19, "{code}");
    let checked = app.get(&format!("/v1/share-codes/{code}"), None).await;
    assert_eq!(checked.status(), 200);
    // Shown once: the record's page lists it by its last four only.
    let page = b.get(&page_path).await;
    assert_portal_page(&page, "en");
    assert!(!page.body.contains(&code));
    assert!(page.body.contains(&format!("…{}", &code[15..])));
    assert!(page.body.contains("action=\"/portal/records/") && page.body.contains("report.pdf"));
    let hash = hidden(&page.body, "code_hash");
    let revoke = format!("/portal/records/{}/share-codes/revoke", i.record_id);
    assert_eq!(b.post(&revoke, &[("code_hash", &hash)]).await.status, 403);
    assert_eq!(
        app.get(&format!("/v1/share-codes/{code}"), None)
            .await
            .status(),
        200
    );
    let done = b
        .post(&revoke, &[("csrf", &b.csrf), ("code_hash", &hash)])
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(
        app.get(&format!("/v1/share-codes/{code}"), None)
            .await
            .status(),
        404
    );
    let page = b.get(&page_path).await;
    assert!(page
        .body
        .contains("No verification code works for this record now."));
    let again = b
        .post(
            &format!("{revoke}?lang=en"),
            &[("csrf", &b.csrf), ("code_hash", &hash)],
        )
        .await;
    assert_eq!(again.status, 200);
    assert!(
        again.body.contains("had already stopped working"),
        "{}",
        again.body
    );
}

#[tokio::test]
async fn the_downloads_are_the_records_the_api_serves_and_verify_on_the_verify_page() {
    let i = issued(&[]).await;
    let app = &i.w.app;
    let b = sign_in(app, "ana@example.org");
    let json_file = b
        .get(&format!("/portal/records/{}/record.json", i.record_id))
        .await;
    assert_eq!(json_file.status, 200);
    assert!(json_file.headers["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let mine = app.get_json_as("/v1/me/records", &i.w.holder).await;
    let served: Value = serde_json::from_str(&json_file.body).unwrap();
    assert_eq!(served, mine["items"][0]);
    let jwt = b
        .get(&format!("/portal/records/{}/record.jwt", i.record_id))
        .await;
    assert_eq!(jwt.headers["content-type"], "application/vc+jwt");
    for file in [&json_file.body, &jwt.body] {
        let res = app
            .client
            .post(app.url("/verify?lang=en"))
            .form(&[("record", file.as_str())])
            .send()
            .await
            .unwrap();
        let text = res.text().await.unwrap();
        assert!(text.contains("Genuine and valid"), "{text}");
    }
}
