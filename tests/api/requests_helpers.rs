//! A platform with an issuing body played by the real simulator over HTTP.

use crate::times::JsonBody;
use std::time::Duration;

use certverify::db::schema::{jobs, verification_requests};
use certverify::sim::{self, Certificates, Mode, RunningSim, SimConfig};
use diesel::prelude::*;
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, TestApp};

pub const CERTIFICATES: &str = r#"[
  {"certificate_number": "FCCA-1001", "qualification_code": "acca-fcca", "holder_name": "Ana Lima", "date_of_birth": "1988-04-02", "issued_on": "2019-06-30", "expires_on": null, "status": "valid"},
  {"certificate_number": "FCCA-2002", "qualification_code": "acca-fcca", "holder_name": "Someone Else", "issued_on": "2018-01-01", "expires_on": null, "status": "valid"}
]"#;

pub struct World {
    pub app: TestApp,
    pub admin: String,
    pub holder: String,
    /// Kept so the simulator runs as long as the test; tests read its counts.
    pub sim: Option<RunningSim>,
    pub qualification_id: String,
}

/// Settings that keep the dispatcher quick in tests.
pub const FAST: &[(&str, &str)] = &[
    ("CERTVERIFY_ALLOW_HTTP_ISSUERS", "true"),
    ("CERTVERIFY_RETRY_BASE_MS", "20"),
    ("CERTVERIFY_REASK_AFTER_SECONDS", "1"),
];

pub async fn start_sim(
    app: &TestApp,
    mode: Mode,
    fail_rate: f64,
    listen: Option<std::net::SocketAddr>,
) -> RunningSim {
    start_sim_with(app, |config| {
        config.mode = mode;
        config.fail_rate = fail_rate;
        if let Some(listen) = listen {
            config.listen = listen;
        }
    })
    .await
}

/// A simulator knowing [`CERTIFICATES`], on one worker, as `adjust` leaves it.
pub async fn start_sim_with(app: &TestApp, adjust: impl FnOnce(&mut SimConfig)) -> RunningSim {
    let mut config = SimConfig::new(
        Certificates::parse(CERTIFICATES).expect("certificates"),
        app.url("/.well-known/jwks.json"),
        SigningKey::generate(&mut rand_core::OsRng),
    );
    config.workers = Some(1);
    adjust(&mut config);
    sim::start(config).await.expect("simulator starts")
}

/// An app, an admin, a holder, and the qualification `acca-fcca` of body `acca`, answered
/// by a simulator in `sim_mode` (None: the body works in manual mode).
pub async fn world(extra: &[(&str, &str)], sim_mode: Option<(Mode, f64)>) -> World {
    world_with_sim(
        extra,
        sim_mode.map(|(mode, fail_rate)| {
            move |config: &mut SimConfig| {
                config.mode = mode;
                config.fail_rate = fail_rate;
            }
        }),
    )
    .await
}

/// Like [`world`], with the simulator as `sim` leaves its configuration.
pub async fn world_with_sim(
    extra: &[(&str, &str)],
    sim: Option<impl FnOnce(&mut SimConfig)>,
) -> World {
    let mut settings: Vec<(&str, &str)> = FAST.to_vec();
    settings.extend_from_slice(extra);
    let app = spawn_app_with(&settings).await;
    let admin = app.admin_token().await;
    let sim = match sim {
        Some(adjust) => Some(start_sim_with(&app, adjust).await),
        None => None,
    };
    let body = match &sim {
        Some(s) => {
            json!({"code": "acca", "name_en": "ACCA", "country": "GB", "verification_mode": "api",
                          "api_base_url": s.base_url(), "public_keys": [s.public_jwk]})
        }
        None => {
            json!({"code": "acca", "name_en": "ACCA", "country": "GB", "verification_mode": "manual"})
        }
    };
    setup_registry(&app, &admin, body).await;
    let qualification_id = app.get_json("/v1/qualifications/acca-fcca").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let holder = app.holder_token("ana@example.org").await;
    World {
        app,
        admin,
        holder,
        sim,
        qualification_id,
    }
}

pub async fn setup_registry(app: &TestApp, admin: &str, body: Value) {
    assert_eq!(
        app.post_json(
            "/v1/admin/list-versions",
            &json!({"version": "3.0", "title": "List 3.0"}),
            Some(admin)
        )
        .await
        .status(),
        201
    );
    let res = app
        .post_json("/v1/admin/issuing-bodies", &body, Some(admin))
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let q = json!({"code": "acca-fcca", "name_en": "FCCA", "issuing_body_id": "acca", "field": "accounting",
                   "categories": ["A", "B", "C"], "title_series": "accounting", "title_level": "associate_senior", "list_version": "3.0"});
    assert_eq!(
        app.post_json("/v1/admin/qualifications", &q, Some(admin))
            .await
            .status(),
        201
    );
}

impl World {
    pub fn request_body(&self, number: &str, name: &str) -> Value {
        json!({"qualification_id": self.qualification_id, "certificate_number": number, "name_on_certificate": name,
               "issued_on": "2019-06-30", "expires_on": null, "applying_from": "BR", "note": null})
    }

    pub async fn submit(&self, key: &str, body: &Value) -> reqwest::Response {
        self.app
            .client
            .post(self.app.url("/v1/verification-requests"))
            .bearer_auth(&self.holder)
            .header("idempotency-key", key)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn submit_ok(&self, number: &str, name: &str) -> String {
        let res = self
            .submit(
                &uuid::Uuid::new_v4().to_string(),
                &self.request_body(number, name),
            )
            .await;
        assert_eq!(res.status(), 201);
        res.json_checked::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn request(&self, id: &str) -> Value {
        self.app
            .get_json_as(&format!("/v1/verification-requests/{id}"), &self.holder)
            .await
    }

    /// `POST /v1/verification-requests/{id}/withdraw` with `token`.
    pub async fn withdraw_as(&self, id: &str, token: &str) -> reqwest::Response {
        self.app
            .post_json(
                &format!("/v1/verification-requests/{id}/withdraw"),
                &json!({}),
                Some(token),
            )
            .await
    }

    /// Waits until the request reaches `state` (the dispatcher works in the background).
    /// `confirmed` is also reached by `issued`, which the confirming commit may go on to.
    pub async fn wait_for(&self, id: &str, state: &str) -> Value {
        // Generous: a retried call may back off for seconds when the machine is busy.
        for _ in 0..600 {
            let r = self.request(id).await;
            if r["state"] == state || (state == "confirmed" && r["state"] == "issued") {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "request {id} never reached {state}: {}",
            self.request(id).await
        );
    }

    /// Waits up to `limit` until the request is closed; returns it.
    pub async fn wait_closed(&self, id: &str, limit: Duration) -> Value {
        let started = std::time::Instant::now();
        loop {
            let r = self.request(id).await;
            if is_closed(&r) {
                return r;
            }
            assert!(started.elapsed() < limit, "request {id} still open: {r}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The dispatcher jobs left for a request.
    pub fn jobs_of(&self, id: &str) -> i64 {
        self.app.with_db(|conn| {
            jobs::table
                .filter(jobs::request_id.eq(id))
                .count()
                .get_result(conn)
                .unwrap()
        })
    }

    /// The columns only admins see: what the body said, and how it was settled.
    pub fn outcome(&self, id: &str) -> (Option<String>, Option<String>) {
        self.app.with_db(|conn| {
            verification_requests::table
                .find(id)
                .select((
                    verification_requests::outcome,
                    verification_requests::verification_method,
                ))
                .first(conn)
                .unwrap()
        })
    }
}

/// A request in a final state; `confirmed` counts although it may go on to `issued`.
pub fn is_closed(request: &Value) -> bool {
    !matches!(
        request["state"].as_str(),
        Some("submitted" | "awaiting_issuer" | "manual_review")
    )
}

/// Whether the request ended confirmed (or already issued on the strength of it).
pub fn is_confirmed(request: &Value) -> bool {
    matches!(request["state"].as_str(), Some("confirmed" | "issued"))
}
