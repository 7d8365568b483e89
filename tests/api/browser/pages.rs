//! The public pages in a real browser: accessibility (axe-core), narrow screens, the
//! keyboard, JavaScript off, and the check and verify forms end to end. What the pages
//! say is tested without a browser in `pages.rs` / `pages_verify.rs`.

use serde_json::{json, Value};

use super::Browser;
use crate::records_helpers::{issued_record, Issued};
use crate::times::JsonBody;

const LANGS: [&str; 2] = ["en", "zh-CN"];

/// An issued record, its credential and a share code for it, as a holder has them.
struct Scene {
    it: Issued,
    credential: Value,
    code: String,
}

async fn scene() -> Scene {
    let it = issued_record().await;
    let credential = it.read().await["credential"].clone();
    let res =
        it.w.app
            .post_json(
                &format!("/v1/records/{}/share-codes", it.record_id),
                &json!({"expires_in_days": 30}),
                Some(&it.w.holder),
            )
            .await;
    assert_eq!(res.status(), 201);
    let made: Value = res.json_checked().await.unwrap();
    let code = made["code"].as_str().unwrap().to_owned();
    Scene {
        it,
        credential,
        code,
    }
}

/// The pages a form answers with: an error summary, and a verdict.
const ANSWERS: [&str; 2] = ["check-error", "verify-verdict"];

impl Scene {
    /// Submits a form to get one of `ANSWERS` on screen.
    async fn open_answer(&self, b: &Browser, answer: &str, lang: &str) {
        if answer == "check-error" {
            b.open(&self.url("/check", lang)).await;
            b.click_and_wait("button[type=submit]").await;
            b.find(".error-summary").await;
        } else {
            b.open(&self.url("/verify", lang)).await;
            b.fill("#record", &self.credential.to_string()).await;
            b.click_and_wait("button[type=submit]").await;
            b.find("#verdict").await;
        }
    }

    fn url(&self, path: &str, lang: &str) -> String {
        let sep = if path.contains('?') { '&' } else { '?' };
        self.it.w.app.url(&format!("{path}{sep}lang={lang}"))
    }

    /// Every page there is today, by a name for reports and screenshots.
    fn pages(&self) -> Vec<(&'static str, String)> {
        vec![
            ("start", "/".into()),
            ("registry", "/registry".into()),
            ("registry-search", "/registry?q=FCCA".into()),
            (
                "qualification",
                format!("/registry/{}", self.it.w.qualification_id),
            ),
            ("check", "/check".into()),
            ("check-result", format!("/check/{}", self.code)),
            ("check-unknown", "/check/0000-0000-0000-0000".into()),
            ("verify", "/verify".into()),
            ("not-found", "/no-such-page".into()),
        ]
    }
}

#[tokio::test]
async fn every_page_passes_axe_core_in_english_and_in_chinese() {
    let Some(b) = Browser::start("axe").await else {
        return;
    };
    // The harness itself: a page with known faults is reported, rule by rule.
    b.open("data:text/html,<title>x</title><img src=x.png><a href=a></a>")
        .await;
    let found: Vec<String> = b.axe_violations().await.into_iter().map(|v| v.id).collect();
    for rule in ["html-has-lang", "image-alt", "link-name"] {
        assert!(found.iter().any(|id| id == rule), "{rule} not in {found:?}");
    }

    let s = scene().await;
    for lang in LANGS {
        for (name, path) in s.pages() {
            b.open(&s.url(&path, lang)).await;
            b.assert_accessible(&format!("{name} ({lang})")).await;
            b.screenshot(&format!("{name}-{lang}-1280"), 1280).await;
        }
        for answer in ANSWERS {
            s.open_answer(&b, answer, lang).await;
            b.assert_accessible(&format!("{answer} ({lang})")).await;
            b.screenshot(&format!("{answer}-{lang}-1280"), 1280).await;
        }
    }
    b.close().await;
}

#[tokio::test]
async fn every_page_fits_a_320_px_wide_screen_without_sideways_scrolling() {
    let Some(b) = Browser::start("320px").await else {
        return;
    };
    let s = scene().await;
    b.set_width(320, 900).await;
    let mut too_wide = Vec::new();
    for lang in LANGS {
        for (name, path) in s.pages() {
            b.open(&s.url(&path, lang)).await;
            let width = b.scroll_width().await;
            if width > 320 {
                too_wide.push(format!("{name} ({lang}): {width} px"));
            }
            b.screenshot(&format!("{name}-{lang}-320"), 320).await;
        }
        for answer in ANSWERS {
            s.open_answer(&b, answer, lang).await;
            let width = b.scroll_width().await;
            if width > 320 {
                too_wide.push(format!("{answer} ({lang}): {width} px"));
            }
            b.screenshot(&format!("{answer}-{lang}-320"), 320).await;
        }
    }
    assert!(too_wide.is_empty(), "wider than 320 px: {too_wide:?}");
    b.close().await;
}

#[tokio::test]
async fn the_check_form_works_with_javascript_off() {
    let Some(b) = Browser::start_without_javascript("check without JavaScript").await else {
        return;
    };
    let s = scene().await;
    // The page's scripts do not run (WebDriver's own still do).
    b.open("data:text/html,<title>off</title><script>document.title='on'</script>")
        .await;
    assert_eq!(b.driver().title().await.unwrap(), "off");
    b.open(&s.url("/check", "en")).await;
    b.fill("#code", &s.code.replace('-', "").to_lowercase())
        .await;
    b.click_and_wait("button[type=submit]").await;
    let text = b.text().await;
    assert!(
        b.url().await.contains("/check/") && text.contains("Ana Lima"),
        "{text}"
    );

    b.open(&s.url("/check", "en")).await;
    b.fill("#code", "0000-0000-0000-0000").await;
    b.click_and_wait("button[type=submit]").await;
    let text = b.text().await;
    assert!(text.contains("No such verification code"), "{text}");
    b.close().await;
}

#[tokio::test]
async fn a_share_code_made_through_the_api_shows_its_holder_and_status_on_its_check_page() {
    let Some(b) = Browser::start("share code page").await else {
        return;
    };
    let s = scene().await;
    b.open(&s.url(&format!("/check/{}", s.code), "en")).await;
    let text = b.text().await;
    assert!(
        text.contains("Ana Lima") && text.contains("Valid: the issuing body confirmed"),
        "{text}"
    );
    b.open(&s.url(&format!("/check/{}", s.code), "zh-CN")).await;
    let text = b.text().await;
    assert!(
        text.contains("Ana Lima") && text.contains("有效：发证机构已确认该资格"),
        "{text}"
    );
    b.close().await;
}

#[tokio::test]
async fn a_pasted_credential_is_valid_on_the_verify_page_and_a_tampered_copy_is_not() {
    let Some(b) = Browser::start("verify page").await else {
        return;
    };
    let s = scene().await;
    b.open(&s.url("/verify", "en")).await;
    b.fill("#record", &s.credential.to_string()).await;
    b.click_and_wait("button[type=submit]").await;
    let verdict = b.find("#verdict").await.text().await.unwrap();
    assert!(verdict.contains("Genuine and valid"), "{verdict}");

    let mut tampered = s.credential.clone();
    tampered["credentialSubject"]["name"] = "Someone Else".into();
    b.fill("#record", &tampered.to_string()).await;
    b.click_and_wait("button[type=submit]").await;
    let verdict = b.find("#verdict").await.text().await.unwrap();
    assert!(verdict.contains("Not valid"), "{verdict}");
    b.close().await;
}

#[tokio::test]
async fn the_check_form_can_be_filled_and_submitted_with_tab_and_enter_alone() {
    let Some(b) = Browser::start("keyboard").await else {
        return;
    };
    let s = scene().await;
    b.open(&s.url("/check", "en")).await;
    // Tab from the top of the page until the code field has focus, as a keyboard user would.
    let mut reached = false;
    for _ in 0..20 {
        b.keys(thirtyfour::Key::Tab).await;
        if b.script("return document.activeElement.id;").await == "code" {
            reached = true;
            break;
        }
    }
    assert!(reached, "Tab never reached the code field");
    b.keys(s.code.as_str()).await;
    b.keys(thirtyfour::Key::Tab).await;
    assert_eq!(
        b.script("return document.activeElement.type;").await,
        "submit",
        "Tab after the code field goes to the button"
    );
    b.keys_and_wait(thirtyfour::Key::Enter).await;
    let text = b.text().await;
    assert!(
        b.url().await.contains("/check/") && text.contains("Ana Lima"),
        "{text}"
    );
    b.close().await;
}
