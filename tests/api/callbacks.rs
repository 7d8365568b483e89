//! `POST /v1/issuer-callbacks`: every forged, replayed or contradicting message is refused
//! with a problem document and changes nothing; repeats are accepted once.

use crate::times::JsonBody;
use certverify::auth::keys::{jwk_of, kid_of};
use certverify::issuers::protocol::{self, Answer, AnswerBody, Outcome, ANSWER_TYP, REQUEST_TYP};
use ed25519_dalek::SigningKey;
use rand_core::OsRng;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app_with, TestApp};
use crate::requests_helpers::{setup_registry, FAST};

struct Setup {
    app: TestApp,
    admin: String,
    key: SigningKey,
    request_id: String,
}

impl Setup {
    fn answer(&self, outcome: Outcome) -> Answer {
        let now = chrono::Utc::now().timestamp();
        Answer {
            iss: "acca".into(),
            aud: self.app.address.clone(),
            iat: now,
            exp: now + 60,
            jti: protocol::new_jti(),
            body: AnswerBody::VerificationResult {
                request_id: self.request_id.clone(),
                in_reply_to: None,
                outcome,
                certificate: None,
            },
        }
    }

    fn sign(&self, answer: &Answer) -> String {
        protocol::sign(
            answer,
            ANSWER_TYP,
            &kid_of(&self.key.verifying_key()),
            &self.key,
        )
        .unwrap()
    }

    async fn post(&self, token: &str) -> reqwest::Response {
        self.app
            .client
            .post(self.app.url("/v1/issuer-callbacks"))
            .header("content-type", "application/jwt")
            .body(token.to_owned())
            .send()
            .await
            .unwrap()
    }

    async fn state(&self) -> Value {
        let holder_view: Value = self.app.with_db(|conn| {
            use certverify::db::schema::verification_requests::dsl::*;
            use diesel::prelude::*;
            let s: String = verification_requests
                .find(&self.request_id)
                .select(state)
                .first(conn)
                .unwrap();
            json!(s)
        });
        holder_view
    }
}

/// A request waiting for body `acca`, whose API accepts and never calls back.
async fn setup() -> Setup {
    let app = spawn_app_with(&[FAST, &[("CERTVERIFY_REASK_AFTER_SECONDS", "3600")]].concat()).await;
    let admin = app.admin_token().await;
    let key = SigningKey::generate(&mut OsRng);
    // A body that takes every request (202) and never answers by itself.
    let silent = actix_web::HttpServer::new(|| {
        actix_web::App::new().default_service(actix_web::web::to(|| async {
            actix_web::HttpResponse::Accepted().finish()
        }))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let port = silent.addrs()[0].port();
    tokio::spawn(silent.run());
    let body = json!({"code": "acca", "name_en": "ACCA", "country": "GB", "verification_mode": "api",
                      "api_base_url": format!("http://127.0.0.1:{port}"), "public_keys": [jwk_of(&key.verifying_key())]});
    setup_registry(&app, &admin, body).await;
    let holder = app.holder_token("ana@example.org").await;
    let q = app.get_json("/v1/qualifications/acca-fcca").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .client
        .post(app.url("/v1/verification-requests"))
        .bearer_auth(&holder)
        .header("idempotency-key", "k")
        .json(&json!({"qualification_id": q, "certificate_number": "FCCA-1", "name_on_certificate": "Ana Lima", "issued_on": "2019-06-30", "applying_from": "BR"}))
        .send()
        .await
        .unwrap();
    let request_id = res.json_checked::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let s = Setup {
        app,
        admin,
        key,
        request_id,
    };
    for _ in 0..100 {
        if s.state().await == "awaiting_issuer" {
            return s;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the request never went out");
}

#[tokio::test]
async fn a_callback_settles_once_and_repeats_change_nothing() {
    let s = setup().await;
    let token = s.sign(&s.answer(Outcome::Confirmed));
    let res = s.post(&token).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json_checked::<Value>().await.unwrap()["result"],
        "settled"
    );
    assert_eq!(s.state().await, "issued");
    assert_eq!(
        s.post(&token).await.json_checked::<Value>().await.unwrap()["result"],
        "already_known"
    );
    let same_outcome = s.sign(&s.answer(Outcome::Confirmed));
    assert_eq!(
        s.post(&same_outcome)
            .await
            .json_checked::<Value>()
            .await
            .unwrap()["result"],
        "already_known"
    );
    let contradicting = s.sign(&s.answer(Outcome::Mismatch));
    assert_problem(s.post(&contradicting).await, 409, "outcome_contradicts").await;
    let first_jti = jsonwebtoken::dangerous::insecure_decode_claims::<Value>(&token).unwrap()
        ["jti"]
        .as_str()
        .unwrap()
        .to_owned();
    let reused = Answer {
        jti: first_jti,
        ..s.answer(Outcome::Mismatch)
    };
    assert_problem(s.post(&s.sign(&reused)).await, 409, "jti_reused").await;
    assert_eq!(s.state().await, "issued");
}

#[tokio::test]
async fn forged_callbacks_are_refused_and_change_nothing() {
    let s = setup().await;
    let kid = kid_of(&s.key.verifying_key());
    let other = SigningKey::generate(&mut OsRng);
    let good = s.answer(Outcome::Confirmed);
    let cases: Vec<(String, u16, &str)> = vec![
        // Another key claiming the body's kid, and a kid the body never registered.
        (
            protocol::sign(&good, ANSWER_TYP, &kid, &other).unwrap(),
            401,
            "message_refused",
        ),
        (
            protocol::sign(&good, ANSWER_TYP, "unknown-kid", &s.key).unwrap(),
            401,
            "message_refused",
        ),
        // Another typ: a request message, or a plain JWT.
        (
            protocol::sign(&good, REQUEST_TYP, &kid, &s.key).unwrap(),
            401,
            "message_refused",
        ),
        (
            protocol::sign(&good, "JWT", &kid, &s.key).unwrap(),
            401,
            "message_refused",
        ),
        // Addressed to someone else; expired; living longer than five minutes.
        (
            s.sign(&Answer {
                aud: "https://elsewhere.example".into(),
                ..good.clone()
            }),
            401,
            "message_refused",
        ),
        (
            s.sign(&Answer {
                iat: good.iat - 900,
                exp: good.iat - 600,
                ..good.clone()
            }),
            401,
            "message_refused",
        ),
        (
            s.sign(&Answer {
                exp: good.iat + 301,
                ..good.clone()
            }),
            401,
            "message_refused",
        ),
        // Another body's name with this body's key.
        (
            s.sign(&Answer {
                iss: "iet".into(),
                ..good.clone()
            }),
            401,
            "message_refused",
        ),
        ("not a jws".into(), 400, "malformed_message"),
    ];
    for (token, status, code) in cases {
        assert_problem(s.post(&token).await, status, code).await;
        assert_eq!(s.state().await, "awaiting_issuer");
    }
    let res = s
        .app
        .client
        .post(s.app.url("/v1/issuer-callbacks"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_problem(res, 415, "unsupported_media_type").await;
    let res = s.post(&"x".repeat(17 * 1024)).await;
    assert_problem(res, 413, "payload_too_large").await;
}

#[tokio::test]
async fn a_retired_key_no_longer_verifies_and_another_body_cannot_answer_for_this_one() {
    let s = setup().await;
    let iet_key = SigningKey::generate(&mut OsRng);
    let iet = json!({"code": "iet", "name_en": "IET", "country": "GB", "verification_mode": "manual", "public_keys": [jwk_of(&iet_key.verifying_key())]});
    assert_eq!(
        s.app
            .post_json("/v1/admin/issuing-bodies", &iet, Some(&s.admin))
            .await
            .status(),
        201
    );
    let from_iet = protocol::sign(
        &Answer {
            iss: "iet".into(),
            ..s.answer(Outcome::Confirmed)
        },
        ANSWER_TYP,
        &kid_of(&iet_key.verifying_key()),
        &iet_key,
    )
    .unwrap();
    assert_problem(s.post(&from_iet).await, 403, "not_addressed_to_body").await;
    let body_id = s.app.get_json("/v1/issuing-bodies/acca").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let kid = kid_of(&s.key.verifying_key());
    let res = s
        .app
        .post_json(
            &format!("/v1/admin/issuing-bodies/{body_id}/keys/{kid}/retire"),
            &json!({}),
            Some(&s.admin),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_problem(
        s.post(&s.sign(&s.answer(Outcome::Confirmed))).await,
        401,
        "message_refused",
    )
    .await;
    assert_eq!(s.state().await, "awaiting_issuer");
}
