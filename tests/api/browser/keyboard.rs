//! The login form and the first step of applying, with the keyboard alone (WCAG 2.1.1):
//! Tab to each field, type, Enter to send.

use thirtyfour::Key;

use super::Browser;
use crate::helpers::{spawn_app, PASSWORD};

/// Presses Tab until the element with `id` has focus; false when it never does.
async fn tab_to(b: &Browser, id: &str) -> bool {
    for _ in 0..40 {
        b.keys(Key::Tab).await;
        if b.script("return document.activeElement.id;").await == id {
            return true;
        }
    }
    false
}

#[tokio::test]
async fn a_holder_logs_in_and_starts_applying_with_the_keyboard_alone() {
    let Some(b) = Browser::start("keyboard login").await else {
        return;
    };
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    crate::requests_helpers::setup_registry(
        &app,
        &admin,
        serde_json::json!({"code": "acca", "name_en": "ACCA", "country": "GB", "verification_mode": "manual"}),
    )
    .await;
    let email = "keys@example.org";
    assert_eq!(app.register_holder(email).await.status(), 202);
    app.verify_email(email).await;

    b.open(&app.url("/account/login?lang=en")).await;
    assert!(
        tab_to(&b, "email").await,
        "Tab never reached the email field"
    );
    b.keys(email).await;
    b.keys(Key::Tab).await;
    assert_eq!(
        b.script("return document.activeElement.id;").await,
        "password"
    );
    b.keys(PASSWORD).await;
    b.keys_and_wait(Key::Enter).await;
    assert!(b.url().await.contains("/portal"), "{}", b.url().await);

    b.open(&app.url("/portal/requests/new?lang=en")).await;
    assert!(tab_to(&b, "q").await, "Tab never reached the search field");
    b.keys("FCCA").await;
    // Enter in the search field sends the form's first button: search.
    b.keys_and_wait(Key::Enter).await;
    assert!(
        tab_to(&b, "qualification_id").await,
        "Tab never reached the choices"
    );
    b.keys(Key::Space).await;
    assert_eq!(
        b.script("return document.getElementById('qualification_id').checked;")
            .await,
        true
    );
    b.keys(Key::Tab).await;
    b.keys_and_wait(Key::Enter).await;
    assert_eq!(
        b.script("return document.getElementById('certificate_number') !== null;")
            .await,
        true,
        "the details step follows: {}",
        b.text().await
    );
    b.close().await;
}
