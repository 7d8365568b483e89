//! Accounts for people: the verification mail and its link, the request refused before
//! it, resends, page sessions and password reset, on the real database and real mail files.

use std::time::Duration;

use certverify::config::Settings;
use certverify::db::schema::{holder_sessions, holders, mail_outbox};
use certverify::holders::{reset, sessions};
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::helpers::{
    assert_problem, error_fields, link_token, spawn_app, spawn_app_with, TestApp, PASSWORD,
};
use crate::requests_helpers::world;
use crate::times::JsonBody;

fn settings_of(app: &TestApp) -> Settings {
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

#[tokio::test]
async fn sessions_are_new_at_login_touched_and_end_idle_absolute_or_all_at_once() {
    let app = spawn_app().await;
    app.holder_token("ana@example.org").await;
    let limits = settings_of(&app).accounts;
    assert_eq!(limits.session_idle, Duration::from_secs(1800));
    assert_eq!(limits.session_absolute, Duration::from_secs(43_200));
    let holder_id: String =
        app.with_db(|conn| holders::table.select(holders::id).first(conn).unwrap());
    app.with_db(|conn| {
        let first = sessions::create(conn, &holder_id, None).unwrap();
        let found = sessions::touch(conn, &first.id, &limits).unwrap().unwrap();
        assert_eq!(found.holder_id, holder_id);
        assert!(found.csrf_matches(&first.csrf_token) && !found.csrf_matches("x"));
        // Only the hash is stored.
        let hashes: Vec<String> = holder_sessions::table
            .select(holder_sessions::id_hash)
            .load(conn)
            .unwrap();
        assert!(!hashes.contains(&first.id));
        // A login from a browser that had a session gives a new id and ends the old one.
        let second = sessions::create(conn, &holder_id, Some(&first.id)).unwrap();
        assert_ne!(first.id, second.id);
        assert!(sessions::touch(conn, &first.id, &limits).unwrap().is_none());
        // Idle: 29 minutes keeps it (and touches it), 31 more end it.
        let t0 = found.created_at;
        let t1 = t0 + chrono::Duration::minutes(29);
        assert!(sessions::touch_at(conn, &second.id, &limits, t1)
            .unwrap()
            .is_some());
        let t2 = t1 + chrono::Duration::minutes(31);
        assert!(sessions::touch_at(conn, &second.id, &limits, t2)
            .unwrap()
            .is_none());
        // Absolute: used every 20 minutes, it still ends after 12 hours.
        let third = sessions::create(conn, &holder_id, None).unwrap();
        let mut t = chrono::Utc::now().naive_utc();
        for _ in 0..35 {
            t += chrono::Duration::minutes(20);
            assert!(sessions::touch_at(conn, &third.id, &limits, t)
                .unwrap()
                .is_some());
        }
        t += chrono::Duration::minutes(20);
        assert!(sessions::touch_at(conn, &third.id, &limits, t)
            .unwrap()
            .is_none());
        // Logout ends one; end_all ends every one.
        let a = sessions::create(conn, &holder_id, None).unwrap();
        let b = sessions::create(conn, &holder_id, None).unwrap();
        sessions::end(conn, &a.id).unwrap();
        assert!(sessions::touch(conn, &a.id, &limits).unwrap().is_none());
        assert!(sessions::touch(conn, &b.id, &limits).unwrap().is_some());
        let c = sessions::create(conn, &holder_id, None).unwrap();
        assert_eq!(sessions::end_all(conn, &holder_id).unwrap(), 2);
        assert!(sessions::touch(conn, &c.id, &limits).unwrap().is_none());
    });
}

#[tokio::test]
async fn the_page_login_makes_a_session_and_is_rate_limited_like_the_api() {
    let app = spawn_app_with(&[("CERTVERIFY_AUTH_RATE_LIMIT_PER_MINUTE", "2")]).await;
    app.register_holder("ana@example.org").await;
    let state = app_state(&app).await;
    let req = actix_web::test::TestRequest::default().to_http_request();
    let login = |password: &str| {
        certverify::holders::login::login_session(
            &req,
            &state,
            "ana@example.org".into(),
            password.into(),
            None,
        )
    };
    let (holder_id, session) = login(PASSWORD).await.unwrap();
    let limits = settings_of(&app).accounts;
    let found = app.with_db(|conn| sessions::touch(conn, &session.id, &limits).unwrap());
    assert_eq!(found.unwrap().holder_id, holder_id);
    let wrong = login("wrong password!").await.unwrap_err();
    assert_eq!(wrong.status.as_u16(), 401);
    let limited = login(PASSWORD).await.unwrap_err();
    assert_eq!(limited.status.as_u16(), 429);
}

#[tokio::test]
async fn a_password_reset_by_mail_is_one_use_and_ends_every_session() {
    let app = spawn_app().await;
    app.holder_token("ana@example.org").await;
    let state = app_state(&app).await;
    let holder_id: String =
        app.with_db(|conn| holders::table.select(holders::id).first(conn).unwrap());
    let limits = settings_of(&app).accounts;
    let session = app.with_db(|conn| sessions::create(conn, &holder_id, None).unwrap());
    app.with_db(|conn| {
        reset::request_reset(conn, &state, "nobody@example.org").unwrap();
        reset::request_reset(conn, &state, "ANA@example.org").unwrap();
    });
    let mail = app
        .wait_for_mail("ana@example.org", "/account/reset/")
        .await;
    assert!(mail.contains("设置新密码") && mail.contains("choose a new password"));
    let token = link_token(&mail, "/account/reset/");
    let new_password = "another long passphrase";
    // The same rules as registration.
    let short = reset::reset_password(state.clone(), token.clone(), "short".into())
        .await
        .unwrap_err();
    assert_eq!(short.status.as_u16(), 422);
    reset::reset_password(state.clone(), token.clone(), new_password.into())
        .await
        .unwrap();
    let again = reset::reset_password(state.clone(), token, new_password.into())
        .await
        .unwrap_err();
    assert_eq!(again.status.as_u16(), 400);
    assert!(app
        .with_db(|conn| sessions::touch(conn, &session.id, &limits).unwrap())
        .is_none());
    let old = app
        .post_json(
            "/v1/auth/login",
            &json!({"email": "ana@example.org", "password": PASSWORD}),
            None,
        )
        .await;
    assert_eq!(old.status(), 401);
    let new = app
        .post_json(
            "/v1/auth/login",
            &json!({"email": "ana@example.org", "password": new_password}),
            None,
        )
        .await;
    assert_eq!(new.status(), 200);
    assert!(app.mails_to("nobody@example.org").is_empty());
    let actions: Vec<String> = app.with_db(|conn| {
        certverify::db::schema::audit_log::table
            .select(certverify::db::schema::audit_log::action)
            .load(conn)
            .unwrap()
    });
    assert!(
        actions.contains(&"holder.password_reset".to_owned()),
        "{actions:?}"
    );
}

#[tokio::test]
async fn a_reset_token_does_not_verify_an_email_and_a_short_field_is_named() {
    let app = spawn_app().await;
    app.register_holder("ana@example.org").await;
    let mail = app
        .wait_for_mail("ana@example.org", "/account/verify-email/")
        .await;
    let token = link_token(&mail, "/account/verify-email/");
    let state = app_state(&app).await;
    // A verification token is not a reset token.
    let err = reset::reset_password(state, token, "a long passphrase".into())
        .await
        .unwrap_err();
    assert_eq!(err.status.as_u16(), 400);
    let problem = assert_problem(
        app.post_json(
            "/v1/holders",
            &{
                let mut b = crate::helpers::holder_body("x@example.org");
                b["password"] = json!("short");
                b
            },
            None,
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(error_fields(&problem), ["password"]);
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
async fn app_state(app: &TestApp) -> actix_web::web::Data<certverify::app::AppState> {
    let settings = settings_of(app);
    actix_web::web::Data::new(
        certverify::startup::test_state(settings, app.address.clone())
            .await
            .unwrap(),
    )
}
