//! Applying on the portal (`/portal/requests/new`): the steps, their errors, evidence
//! checked by its bytes, and one request however often the last step is posted.

use certverify::db::schema::{evidence, verification_requests};
use certverify::sim::Mode;
use diesel::prelude::*;

use crate::portal_helpers::{assert_portal_page, hidden, sign_in, Browser};
use crate::requests_helpers::world;

const NEW: &str = "/portal/requests/new?lang=en";

fn png() -> Vec<u8> {
    [
        &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A][..],
        &[0u8; 64][..],
    ]
    .concat()
}

/// The draft fields of a page, to post back with its next step.
fn draft(body: &str) -> Vec<(String, String)> {
    [
        "qualification_id",
        "certificate_number",
        "name_on_certificate",
        "issued_on",
        "expires_on",
        "applying_from",
        "note",
        "evidence_sha256",
        "evidence_name",
    ]
    .iter()
    .filter(|f| body.contains(&format!("name=\"{f}\" value=\"")))
    .map(|f| (f.to_string(), hidden(body, f)))
    .collect()
}

fn form(pairs: &[(String, String)]) -> Vec<(&str, &str)> {
    pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

fn details(b: &Browser<'_>, qualification: &str, number: &str) -> Vec<(String, String)> {
    [
        ("csrf", b.csrf.as_str()),
        ("action", "details"),
        ("qualification_id", qualification),
        ("certificate_number", number),
        ("name_on_certificate", "Ana Lima"),
        ("issued_on", "2019-06-30"),
        ("expires_on", ""),
        ("applying_from", "br"),
        ("note", ""),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

#[tokio::test]
async fn applying_in_steps_makes_one_request_even_when_the_last_step_is_posted_twice() {
    let w = world(&[], Some((Mode::Sync, 0.0))).await;
    let b = sign_in(&w.app, "ana@example.org");
    let start = b.get(NEW).await;
    assert_eq!(start.status, 200);
    assert_portal_page(&start, "en");
    let found = b
        .post(
            NEW,
            &[("csrf", &b.csrf), ("action", "search"), ("q", "fcca")],
        )
        .await;
    assert!(found
        .body
        .contains(&format!("value=\"{}\"", w.qualification_id)));
    let none = b
        .post(NEW, &[("csrf", &b.csrf), ("action", "qualification")])
        .await;
    assert_eq!(none.status, 422);
    assert!(none.body.contains("href=\"#qualification_id\""));
    let step2 = b
        .post(
            NEW,
            &[
                ("csrf", &b.csrf),
                ("action", "qualification"),
                ("qualification_id", &w.qualification_id),
            ],
        )
        .await;
    assert_eq!(step2.status, 200);
    assert!(step2.body.contains("id=\"certificate_number\""));
    let step3 = b
        .post(NEW, &form(&details(&b, &w.qualification_id, "FCCA-1001")))
        .await;
    assert_eq!(step3.status, 200);
    assert!(
        step3.body.contains("enctype=\"multipart/form-data\""),
        "{}",
        step3.body
    );
    let mut fields = draft(&step3.body);
    fields.push(("csrf".into(), b.csrf.clone()));
    fields.push(("action".into(), "evidence".into()));
    let check = b
        .post_file(NEW, &form(&fields), ("scan.png", "image/png", &png()))
        .await;
    assert_eq!(check.status, 200, "{}", check.body);
    assert_portal_page(&check, "en");
    assert!(check.body.contains("Check your answers") && check.body.contains("scan.png"));
    assert!(check.body.contains("FCCA-1001") && check.body.contains("30 June 2019"));
    assert_eq!(check.body.matches("value=\"change-").count(), 8);
    // Change goes back to the step with the answers kept.
    let mut change = draft(&check.body);
    change.push(("csrf".into(), b.csrf.clone()));
    change.push(("action".into(), "change-details".into()));
    let back = b.post(NEW, &form(&change)).await;
    assert!(back.body.contains("value=\"FCCA-1001\""));
    let mut submit = draft(&check.body);
    submit.push(("csrf".into(), b.csrf.clone()));
    submit.push(("key".into(), hidden(&check.body, "key")));
    submit.push(("action".into(), "submit".into()));
    let first = b.post(NEW, &form(&submit)).await;
    assert_eq!(first.status, 303, "{}", first.body);
    let second = b.post(NEW, &form(&submit)).await;
    assert_eq!(second.status, 303, "{}", second.body);
    assert_eq!(first.location(), second.location());
    assert!(first.location().ends_with("/submitted"));
    let list = w
        .app
        .get_json_as("/v1/verification-requests", &w.holder)
        .await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    let id = items[0]["id"].as_str().unwrap();
    assert_eq!(items[0]["evidence"]["content_type"], "image/png");
    assert_eq!(items[0]["applying_from"], "BR");
    let confirmation = b.get(&format!("{}?lang=en", first.location())).await;
    assert_eq!(confirmation.status, 200);
    assert_portal_page(&confirmation, "en");
    assert!(confirmation.body.contains("Request sent") && confirmation.body.contains(id));
    assert!(confirmation.body.contains("What happens next"));
    w.wait_for(id, "issued").await;
    let home = b.get("/portal?lang=en").await;
    assert!(home.body.contains("/portal/records/"), "{}", home.body);
    // The same certificate again, under a new showing's key: the API's own refusal.
    submit.retain(|(k, _)| k != "key");
    submit.push(("key".into(), "another-showing".into()));
    let third = b.post(NEW, &form(&submit)).await;
    assert_eq!(
        third.status, 303,
        "issued, so no longer open: a new request"
    );
}

#[tokio::test]
async fn bad_certificate_details_are_named_in_an_error_summary_in_both_languages() {
    let w = world(&[("CERTVERIFY_DISPATCHER_CONCURRENCY", "0")], None).await;
    let b = sign_in(&w.app, "ana@example.org");
    let mut bad = details(&b, &w.qualification_id, "");
    for (k, v) in bad.iter_mut() {
        match k.as_str() {
            "issued_on" => *v = "2999-01-01".into(),
            "expires_on" => *v = "2000-01-01".into(),
            "applying_from" => *v = "ZZZ".into(),
            // Shown back in the form, escaped (assert_portal_page finds no `<script`).
            "name_on_certificate" => *v = "<script>alert(1)</script>".into(),
            _ => {}
        }
    }
    let en = b.post(NEW, &form(&bad)).await;
    assert_eq!(en.status, 422);
    assert_portal_page(&en, "en");
    for field in ["certificate_number", "issued_on", "applying_from"] {
        assert!(
            en.body.contains(&format!("href=\"#{field}\"")),
            "{field}: {}",
            en.body
        );
        assert!(
            en.body.contains(&format!("id=\"{field}-error\"")),
            "{field}"
        );
    }
    assert!(en
        .body
        .contains("The date of issue must be today or in the past."));
    let zh = b.post("/portal/requests/new?lang=zh-CN", &form(&bad)).await;
    assert_portal_page(&zh, "zh-CN");
    assert!(
        zh.body.contains("发证日期不能晚于今天。") && zh.body.contains("请按证书所印填写证书编号")
    );
    // The expiry is judged against a real date of issue.
    let mut early = details(&b, &w.qualification_id, "FCCA-1001");
    for (k, v) in early.iter_mut() {
        if k == "expires_on" {
            *v = "2000-01-01".into();
        }
    }
    let page = b.post(NEW, &form(&early)).await;
    assert!(
        page.body.contains("href=\"#expires_on\"") && page.body.contains("after the date of issue")
    );
    let none: i64 = w
        .app
        .with_db(|c| verification_requests::table.count().get_result(c).unwrap());
    assert_eq!(none, 0);
}

#[tokio::test]
async fn evidence_with_a_pdf_name_but_other_bytes_is_refused_and_nothing_is_stored() {
    let w = world(&[("CERTVERIFY_DISPATCHER_CONCURRENCY", "0")], None).await;
    let b = sign_in(&w.app, "ana@example.org");
    let mut fields = details(&b, &w.qualification_id, "FCCA-1001");
    fields.retain(|(k, _)| k != "action");
    fields.push(("action".into(), "evidence".into()));
    let page = b
        .post_file(
            NEW,
            &form(&fields),
            (
                "certificate.pdf",
                "application/pdf",
                b"just some text, not a PDF",
            ),
        )
        .await;
    assert_eq!(page.status, 422);
    assert_portal_page(&page, "en");
    assert!(page.body.contains("href=\"#evidence\""));
    assert!(page
        .body
        .contains("Its contents are checked, not its name."));
    // The answers so far survive the refusal.
    assert!(page.body.contains("value=\"FCCA-1001\""));
    let big = [&png()[..], &vec![0u8; 5 * 1024 * 1024][..]].concat();
    let page = b
        .post_file(NEW, &form(&fields), ("big.png", "image/png", &big))
        .await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("smaller than 5 MB") && page.body.contains("value=\"FCCA-1001\""));
    let stored: i64 = w
        .app
        .with_db(|c| evidence::table.count().get_result(c).unwrap());
    assert_eq!(stored, 0);
}

#[tokio::test]
async fn a_step_without_the_csrf_token_changes_nothing() {
    let w = world(&[("CERTVERIFY_DISPATCHER_CONCURRENCY", "0")], None).await;
    let b = sign_in(&w.app, "ana@example.org");
    let mut submit = details(&b, &w.qualification_id, "FCCA-1001");
    submit.retain(|(k, _)| k != "csrf" && k != "action");
    submit.push(("action".into(), "submit".into()));
    submit.push(("key".into(), "k-1".into()));
    let page = b.post(NEW, &form(&submit)).await;
    assert_eq!(page.status, 403);
    assert_portal_page(&page, "en");
    submit.push(("csrf".into(), "not-the-token".into()));
    assert_eq!(b.post(NEW, &form(&submit)).await.status, 403);
    let mut fields = submit.clone();
    fields.retain(|(k, _)| k != "action");
    fields.push(("action".into(), "evidence".into()));
    let page = b
        .post_file(NEW, &form(&fields), ("scan.png", "image/png", &png()))
        .await;
    assert_eq!(page.status, 403);
    let (requests, stored): (i64, i64) = w.app.with_db(|c| {
        (
            verification_requests::table.count().get_result(c).unwrap(),
            evidence::table.count().get_result(c).unwrap(),
        )
    });
    assert_eq!((requests, stored), (0, 0));
}
