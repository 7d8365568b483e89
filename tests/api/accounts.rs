//! Accounts for people: the verification mail and its link, the request refused before
//! it, resends, and the outbox's sending, on the real database and real mail files.
//! Sessions and password reset: `accounts_sessions`.

use std::time::Duration;

use certverify::config::Settings;
use certverify::db::schema::{holders, mail_outbox};
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, spawn_app_with, TestApp};
use crate::mail_helpers::link_token;
use crate::requests_helpers::world;
use crate::times::JsonBody;

pub fn settings_of(app: &TestApp) -> Settings {
    Settings::from_vars(app.env.clone()).unwrap()
}

#[tokio::test]
async fn registration_mails_a_one_use_link_with_a_stable_message_id() {
    let app = spawn_app().await;
    assert_eq!(app.register_holder("ana@example.org").await.status(), 202);
    let mail = app
        .wait_for_mail("ana@example.org", "/account/verify-email/")
        .await;
    // Both languages and the public URL's link.
    assert!(mail.contains("确认您的邮箱地址") && mail.contains("confirm your email address"));
    assert!(
        mail.contains(&format!("{}/account/verify-email/", app.address)),
        "{mail}"
    );
    let token = link_token(&mail, "/account/verify-email/");
    assert_eq!(token.len(), 43);
    let (message_id, stored): (String, Vec<String>) = app.with_db(|conn| {
        let id: String = mail_outbox::table
            .select(mail_outbox::message_id)
            .first(conn)
            .unwrap();
        let hashes = certverify::db::schema::holder_tokens::table
            .select(certverify::db::schema::holder_tokens::token_hash)
            .load(conn)
            .unwrap();
        (id, hashes)
    });
    assert!(
        mail.contains(&format!("Message-ID: <{message_id}>")),
        "{mail}"
    );
    // Stored hashed only.
    assert!(!stored.contains(&token) && stored.len() == 1);
    let verify = |token: String| {
        let app = &app;
        async move {
            app.post_json("/v1/holders/verify-email", &json!({ "token": token }), None)
                .await
        }
    };
    assert_eq!(verify(token.clone()).await.status(), 204);
    assert_problem(verify(token).await, 400, "invalid_email_token").await;
    assert_problem(verify("nonsense".into()).await, 400, "invalid_email_token").await;
}

#[tokio::test]
async fn a_verification_link_expires() {
    let app = spawn_app_with(&[("CERTVERIFY_EMAIL_VERIFY_TTL_SECONDS", "1")]).await;
    app.register_holder("ana@example.org").await;
    let mail = app
        .wait_for_mail("ana@example.org", "/account/verify-email/")
        .await;
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let token = link_token(&mail, "/account/verify-email/");
    let res = app
        .post_json("/v1/holders/verify-email", &json!({ "token": token }), None)
        .await;
    assert_problem(res, 400, "invalid_email_token").await;
}

#[tokio::test]
async fn a_request_needs_a_verified_address() {
    let w = world(&[], None).await;
    let unverified = w.app.unverified_holder_token("bo@example.org").await;
    let body = w.request_body("ACCA-1", "Bo");
    let submit = |token: String| {
        let w = &w;
        let body = body.clone();
        async move {
            w.app
                .client
                .post(w.app.url("/v1/verification-requests"))
                .bearer_auth(token)
                .header("idempotency-key", "k-1")
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    assert_problem(submit(unverified.clone()).await, 403, "email_unverified").await;
    let me: Value = w.app.get_json_as("/v1/me", &unverified).await;
    assert_eq!(me["email_verified"], false);
    w.app.verify_email("bo@example.org").await;
    assert_eq!(submit(unverified).await.status(), 201);
}

#[tokio::test]
async fn resend_answers_alike_for_any_address_and_mails_only_the_unverified() {
    let app = spawn_app().await;
    app.holder_token("done@example.org").await;
    app.register_holder("new@example.org").await;
    app.wait_for_mail("new@example.org", "/account/verify-email/")
        .await;
    let mut answers = Vec::new();
    for email in ["done@example.org", "new@example.org", "nobody@example.org"] {
        let res = app
            .post_json(
                "/v1/holders/resend-verification",
                &json!({ "email": email }),
                None,
            )
            .await;
        assert_eq!(res.status(), 202);
        answers.push(res.json_checked::<Value>().await.unwrap());
    }
    assert!(answers.iter().all(|a| *a == json!({"status": "accepted"})));
    for _ in 0..100 {
        if app.mails_to("new@example.org").len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(app.mails_to("new@example.org").len(), 2);
    assert_eq!(app.mails_to("done@example.org").len(), 1);
    assert!(app.mails_to("nobody@example.org").is_empty());
    // The newer link works.
    app.verify_email("new@example.org").await;
}

#[tokio::test]
async fn resend_is_rate_limited() {
    let app = spawn_app_with(&[("CERTVERIFY_AUTH_RATE_LIMIT_PER_MINUTE", "2")]).await;
    let body = json!({"email": "x@example.org"});
    let ask = || app.post_json("/v1/holders/resend-verification", &body, None);
    assert_eq!(ask().await.status(), 202);
    assert_eq!(ask().await.status(), 202);
    assert_problem(ask().await, 429, "rate_limited").await;
}

/// Holders registered before this existed count as verified: the migration sets it.
#[tokio::test]
async fn holders_who_exist_when_the_migration_runs_count_as_verified() {
    let app = spawn_app().await;
    app.with_db(|conn| {
        diesel::sql_query(
            "INSERT INTO holders (id, email, email_normalized, password_hash, full_name, nationality, \
             identity_kind, date_of_birth, identity_document_type, identity_document_hmac, \
             identity_document_last4, residence_country, shanghai_hukou, created_at, updated_at) \
             VALUES ('h-old', 'o@example.org', 'o@example.org', 'x', 'O', 'BR', 'foreign_national', \
             '1980-01-01', 'passport', 'h', '1234', 'BR', false, '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
        )
        .execute(conn)
        .unwrap();
        certverify::db::migrations::revert_last(conn).unwrap();
        certverify::db::migrations::run_pending(conn).unwrap();
        let verified: Option<chrono::NaiveDateTime> = holders::table
            .find("h-old")
            .select(holders::email_verified_at)
            .first(conn)
            .unwrap();
        assert!(verified.is_some());
    });
}

/// A failing SMTP relay: the message stays queued with its error, due again later.
#[tokio::test]
async fn a_failed_send_is_retried_with_backoff() {
    let app = spawn_app_with(&[
        ("CERTVERIFY_SMTP_URL", "smtp://127.0.0.1:9"),
        ("CERTVERIFY_MAIL_RETRY_BASE_SECONDS", "60"),
    ])
    .await;
    app.register_holder("ana@example.org").await;
    let mut row = None;
    for _ in 0..250 {
        row = app.with_db(|conn| {
            mail_outbox::table
                .select((
                    mail_outbox::attempts,
                    mail_outbox::last_error,
                    mail_outbox::sent_at,
                    mail_outbox::next_attempt_at,
                ))
                .first::<(
                    i32,
                    Option<String>,
                    Option<chrono::NaiveDateTime>,
                    chrono::NaiveDateTime,
                )>(conn)
                .ok()
        });
        if matches!(&row, Some((_, Some(_), _, _))) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (attempts, error, sent, next) = row.expect("queued");
    assert_eq!(attempts, 1);
    assert!(error.is_some() && sent.is_none());
    let wait = next - chrono::Utc::now().naive_utc();
    assert!(wait > chrono::Duration::seconds(50), "{wait}");
    assert!(!app.outbox_dir().exists() || app.mails_to("ana@example.org").is_empty());
}

/// Several instances on one database send each message once (SKIP LOCKED on PostgreSQL;
/// SQLite's single writer).
#[tokio::test]
async fn several_instances_claim_each_message_once() {
    let app = spawn_app().await;
    let _second = app.another_instance().await;
    let _third = app.another_instance().await;
    let mail = settings_of(&app).mail;
    app.with_db(|conn| {
        for i in 0..40 {
            let to = format!("m{i}@example.org");
            certverify::notify::queue(
                conn,
                &mail,
                &certverify::notify::Mail {
                    to: &to,
                    subject: "s",
                    body: "b",
                },
            )
            .unwrap();
        }
    });
    let mut unsent = i64::MAX;
    for _ in 0..500 {
        unsent = app.with_db(|conn| {
            mail_outbox::table
                .filter(mail_outbox::sent_at.is_null())
                .count()
                .get_result(conn)
                .unwrap()
        });
        if unsent == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(unsent, 0);
    let attempts: Vec<i32> = app.with_db(|conn| {
        mail_outbox::table
            .select(mail_outbox::attempts)
            .load(conn)
            .unwrap()
    });
    assert!(attempts.iter().all(|a| *a == 1), "{attempts:?}");
    assert_eq!(app.mails_to("m7@example.org").len(), 1);
}

/// The app's own state, for calling the domain operations the pages will call.
pub async fn app_state(app: &TestApp) -> actix_web::web::Data<certverify::app::AppState> {
    let settings = settings_of(app);
    actix_web::web::Data::new(
        certverify::startup::test_state(settings, app.address.clone())
            .await
            .unwrap(),
    )
}
