//! The PDF report (`POST /portal/records/{id}/report.pdf`): a signed-in holder prints one
//! of their records with a share code made for it, and the printed code works at `/check`.

use certverify::db::schema::{holders, records, share_codes};
use certverify::holders::sessions;
use diesel::prelude::*;

use crate::sharing_helpers::{issued, Issued};

/// A page session for the holder of `record_id`: (cookie value, csrf token).
fn session_of_record_holder(it: &Issued) -> (String, String) {
    let record_id = it.record_id.clone();
    it.w.app.with_db(|conn| {
        let holder_id: String = records::table
            .find(record_id)
            .select(records::holder_id)
            .first(conn)
            .unwrap();
        let s = sessions::create(conn, &holder_id, None).unwrap();
        (s.id, s.csrf_token)
    })
}

async fn post_report(it: &Issued, session: &str, csrf: &str, days: &str) -> reqwest::Response {
    it.w.app
        .client
        .post(
            it.w.app
                .url(&format!("/portal/records/{}/report.pdf", it.record_id)),
        )
        .header("Cookie", format!("cv_session={session}"))
        .form(&[("csrf", csrf), ("expires_in_days", days)])
        .send()
        .await
        .unwrap()
}

/// The text `pdftotext` reads out of a PDF; None (with a note) where poppler-utils is not
/// installed, a failure under CI, which installs it.
pub fn pdf_text(pdf: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, pdf).unwrap();
    match std::process::Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
    {
        Ok(out) => {
            assert!(out.status.success(), "pdftotext failed: {out:?}");
            Some(String::from_utf8(out.stdout).unwrap())
        }
        Err(e) if std::env::var_os("CI").is_some() => {
            panic!("pdftotext (poppler-utils) is needed under CI to read the report: {e}")
        }
        Err(e) => {
            eprintln!("skipped the PDF's text: pdftotext (poppler-utils) not found: {e}");
            None
        }
    }
}

#[tokio::test]
async fn a_holder_prints_their_record_and_the_printed_code_works_at_check() {
    let it = issued(&[]).await;
    let (session, csrf) = session_of_record_holder(&it);
    let res = post_report(&it, &session, &csrf, "45").await;
    assert_eq!(res.status(), 200);
    let headers = res.headers().clone();
    assert_eq!(headers["content-type"], "application/pdf");
    assert_eq!(
        headers["content-disposition"],
        format!("attachment; filename=\"record-{}.pdf\"", it.record_id).as_str()
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers.contains_key("content-security-policy"));
    assert_eq!(headers["cache-control"], "no-store");
    let pdf = res.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"));

    // One code was made, through the share-code operation, for 45 days.
    let record_id = it.record_id.clone();
    let expires: Vec<chrono::NaiveDateTime> = it.w.app.with_db(|conn| {
        share_codes::table
            .filter(share_codes::record_id.eq(record_id))
            .select(share_codes::expires_at)
            .load(conn)
            .unwrap()
    });
    assert_eq!(expires.len(), 1);
    let days = (expires[0] - chrono::Utc::now().naive_utc()).num_hours() as f64 / 24.0;
    assert!((44.9..=45.0).contains(&days), "{days}");

    let Some(text) = pdf_text(&pdf) else { return };
    for wanted in [it.record_id.as_str(), "Ana Lima", "FCCA", "资格记录报告"] {
        assert!(text.contains(wanted), "{wanted:?} not in:\n{text}");
    }
    let code = text
        .split_whitespace()
        .find(|w| w.len() == 19 && w.matches('-').count() == 3 && !w.contains('/'))
        .unwrap_or_else(|| panic!("no share code in:\n{text}"))
        .to_owned();
    assert!(text.contains(&format!("/check/{code}")), "the QR's URL");
    let page =
        it.w.app
            .client
            .get(it.w.app.url(&format!("/check/{code}?lang=en")))
            .send()
            .await
            .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Ana Lima"));
}

#[tokio::test]
async fn a_wrong_csrf_token_is_refused_and_makes_no_code() {
    let it = issued(&[]).await;
    let (session, _) = session_of_record_holder(&it);
    let res = post_report(&it, &session, "not-the-token", "30").await;
    assert_eq!(res.status(), 403);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let made: i64 =
        it.w.app
            .with_db(|conn| share_codes::table.count().get_result(conn).unwrap());
    assert_eq!(made, 0);
}

#[tokio::test]
async fn another_holders_record_is_a_404_page_and_makes_no_code() {
    let it = issued(&[]).await;
    it.w.app.holder_token("bea@example.org").await;
    let (session, csrf) = it.w.app.with_db(|conn| {
        let bea: String = holders::table
            .filter(holders::email.eq("bea@example.org"))
            .select(holders::id)
            .first(conn)
            .unwrap();
        let s = sessions::create(conn, &bea, None).unwrap();
        (s.id, s.csrf_token)
    });
    let res = post_report(&it, &session, &csrf, "30").await;
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("<html"));
    let made: i64 =
        it.w.app
            .with_db(|conn| share_codes::table.count().get_result(conn).unwrap());
    assert_eq!(made, 0);
}

#[tokio::test]
async fn days_out_of_range_or_not_a_number_get_a_clear_page() {
    let it = issued(&[]).await;
    let (session, csrf) = session_of_record_holder(&it);
    for days in ["0", "181", "ten", ""] {
        let res = post_report(&it, &session, &csrf, days).await;
        assert_eq!(res.status(), 400, "{days:?}");
        let html = res.text().await.unwrap();
        assert!(html.contains("180"), "{days:?}: {html}");
    }
}

#[tokio::test]
async fn without_a_session_the_form_goes_to_login_and_a_get_goes_back_to_the_record() {
    let it = issued(&[]).await;
    let path = format!("/portal/records/{}/report.pdf", it.record_id);
    let res =
        it.w.app
            .client
            .post(it.w.app.url(&path))
            .form(&[("csrf", "x"), ("expires_in_days", "30")])
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), 303);
    assert!(res.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/account/login"));
    let res =
        it.w.app
            .client
            .get(it.w.app.url(&path))
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        format!("/portal/records/{}", it.record_id).as_str()
    );
}
