//! Holders' page sessions, the pages' login and password reset: domain operations on the
//! real database (no routes yet), with the reset link read from the real mail file.

use std::time::Duration;

use certverify::db::schema::{holder_sessions, holders};
use certverify::holders::{reset, sessions};
use diesel::prelude::*;
use serde_json::json;

use crate::accounts::{app_state, settings_of};
use crate::helpers::{assert_problem, error_fields, spawn_app, spawn_app_with, PASSWORD};
use crate::mail_helpers::link_token;

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
