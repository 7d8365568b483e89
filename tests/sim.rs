//! The issuer simulator over real HTTP: a temporary platform key whose JWKS is served from a
//! file (or by a tiny platform stand-in), signed requests sent with reqwest, and the answers
//! checked against the simulator's own JWKS.

use std::time::{Duration, Instant};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use certverify::auth::keys::{jwk_of, kid_of};
use certverify::issuers::protocol::{
    self, Answer, AnswerBody, Outcome, VerificationRequest, ANSWER_TYP, REQUEST_TYP,
};
use certverify::sim::{self, platform_keys::parse_jwks, Certificates, Mode, RunningSim, SimConfig};
use ed25519_dalek::SigningKey;
use rand_core::OsRng;
use serde_json::Value;

const PLATFORM: &str = "https://certverify.test";
const BODY: &str = "demo-hk-institute";

fn certificates() -> Certificates {
    Certificates::load(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("samples/issuer-sim-certificates.json"),
    )
    .expect("sample certificates")
}

fn jwks_of(key: &SigningKey) -> String {
    serde_json::json!({ "keys": [jwk_of(&key.verifying_key())] }).to_string()
}

struct Platform {
    key: SigningKey,
    dir: tempfile::TempDir,
}

impl Platform {
    fn new() -> Self {
        let key = SigningKey::generate(&mut OsRng);
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("jwks.json"), jwks_of(&key)).expect("jwks file");
        Self { key, dir }
    }

    fn jwks_path(&self) -> String {
        self.dir.path().join("jwks.json").display().to_string()
    }

    fn config(&self) -> SimConfig {
        let mut config = SimConfig::new(
            certificates(),
            self.jwks_path(),
            SigningKey::generate(&mut OsRng),
        );
        config.workers = Some(1);
        config
    }

    async fn start(&self, adjust: impl FnOnce(&mut SimConfig)) -> RunningSim {
        let mut config = self.config();
        adjust(&mut config);
        sim::start(config).await.expect("the simulator starts")
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn request(number: &str, name: &str, callback_url: &str) -> VerificationRequest {
    let now = now();
    VerificationRequest {
        iss: PLATFORM.into(),
        aud: BODY.into(),
        iat: now,
        exp: now + 120,
        jti: protocol::new_jti(),
        request_id: uuid::Uuid::new_v4().to_string(),
        qualification_code: "demo-financial-analyst".into(),
        certificate_number: number.into(),
        holder_name: name.into(),
        holder_date_of_birth: "1985-03-14".into(),
        issued_on: "2019-06-30".into(),
        callback_url: callback_url.into(),
    }
}

fn confirmed_request() -> VerificationRequest {
    request(
        "DCFA-2019-0001",
        "JOSE  alvarez",
        &format!("{PLATFORM}/v1/issuer-callbacks"),
    )
}

fn sign(claims: &VerificationRequest, key: &SigningKey) -> String {
    protocol::sign(claims, REQUEST_TYP, &kid_of(&key.verifying_key()), key).expect("signs")
}

async fn post(
    sim: &RunningSim,
    body: impl Into<reqwest::Body>,
    content_type: &str,
) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/verifications", sim.base_url()))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("request sent")
}

/// Checks an answer with the key the simulator publishes, as the platform would.
async fn verified_answer(sim: &RunningSim, token: &str) -> Answer {
    let jwks = reqwest::get(format!("{}/.well-known/jwks.json", sim.base_url()))
        .await
        .expect("jwks fetched")
        .bytes()
        .await
        .expect("jwks body");
    let keys = parse_jwks(&jwks).expect("a JWKS");
    let sender = protocol::sender(token, ANSWER_TYP).expect("an answer");
    assert_eq!(sender.kid, sim.kid);
    let key = keys
        .get(&sender.kid)
        .expect("the answer's kid is published");
    protocol::verify(token, ANSWER_TYP, key, Some(PLATFORM), now()).expect("the answer verifies")
}

fn result_of(answer: &Answer) -> (&str, Option<&str>, Outcome, Option<&str>) {
    match &answer.body {
        AnswerBody::VerificationResult {
            request_id,
            in_reply_to,
            outcome,
            certificate,
        } => (
            request_id,
            in_reply_to.as_deref(),
            *outcome,
            certificate.as_ref().map(|c| c.holder_name.as_str()),
        ),
        other => panic!("not a verification result: {other:?}"),
    }
}

async fn assert_problem(response: reqwest::Response, status: u16, code: &str) {
    assert_eq!(response.status().as_u16(), status);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = response.json().await.expect("a problem document");
    assert_eq!(problem["status"], status);
    assert_eq!(problem["code"], code, "{problem}");
}

#[tokio::test]
async fn sync_mode_answers_200_with_a_signed_answer_to_the_platform() {
    let platform = Platform::new();
    let sim = platform.start(|_| {}).await;
    let claims = confirmed_request();
    let response = post(&sim, sign(&claims, &platform.key), "application/jwt").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/jwt");
    let answer = verified_answer(&sim, &response.text().await.unwrap()).await;
    assert_eq!(
        answer.iss, BODY,
        "the simulator takes its name from the aud"
    );
    assert_eq!(answer.aud, PLATFORM, "and answers to the iss");
    assert!(answer.exp - answer.iat <= protocol::MAX_LIFETIME_SECS);
    let (request_id, in_reply_to, outcome, holder) = result_of(&answer);
    assert_eq!(request_id, claims.request_id);
    assert_eq!(in_reply_to, Some(claims.jti.as_str()));
    assert_eq!(outcome, Outcome::Confirmed);
    assert_eq!(
        holder,
        Some("José Álvarez"),
        "the body's spelling of the name"
    );
    sim.stop().await.unwrap();
}

#[tokio::test]
async fn unknown_numbers_and_wrong_details_are_not_found_and_mismatch() {
    let platform = Platform::new();
    let sim = platform.start(|_| {}).await;
    let callback = format!("{PLATFORM}/v1/issuer-callbacks");
    let cases = [
        (
            request("DCFA-0000-0000", "José Álvarez", &callback),
            Outcome::NotFound,
            None,
        ),
        (
            request("DCFA-2019-0001", "Josefa Alvarez", &callback),
            Outcome::Mismatch,
            Some("José Álvarez"),
        ),
        (
            request("DCFA-2017-0310", "Wei Zhang", &callback),
            Outcome::Mismatch,
            Some("Wei Zhang"),
        ),
    ];
    for (claims, expected, holder) in cases {
        let response = post(&sim, sign(&claims, &platform.key), "application/jwt").await;
        assert_eq!(response.status(), 200);
        let answer = verified_answer(&sim, &response.text().await.unwrap()).await;
        let (_, _, outcome, reported) = result_of(&answer);
        assert_eq!(outcome, expected, "{}", claims.certificate_number);
        assert_eq!(reported, holder);
    }
    sim.stop().await.unwrap();
}

#[tokio::test]
async fn unsigned_expired_and_foreign_requests_are_refused_with_401() {
    let platform = Platform::new();
    let sim = platform.start(|_| {}).await;

    let claims = confirmed_request();
    let header = base64_url(br#"{"alg":"none","typ":"certverify-request+jwt"}"#);
    let payload = base64_url(serde_json::to_string(&claims).unwrap().as_bytes());
    let unsigned = format!("{header}.{payload}.");
    assert_problem(
        post(&sim, unsigned, "application/jwt").await,
        401,
        "unsigned",
    )
    .await;

    let mut expired = confirmed_request();
    expired.iat = now() - 1000;
    expired.exp = now() - 800;
    let token = sign(&expired, &platform.key);
    assert_problem(post(&sim, token, "application/jwt").await, 401, "expired").await;

    let stranger = SigningKey::generate(&mut OsRng);
    let token = sign(&confirmed_request(), &stranger);
    assert_problem(
        post(&sim, token, "application/jwt").await,
        401,
        "unknown_key",
    )
    .await;

    let forged = protocol::sign(
        &confirmed_request(),
        REQUEST_TYP,
        &kid_of(&platform.key.verifying_key()),
        &stranger,
    )
    .unwrap();
    assert_problem(
        post(&sim, forged, "application/jwt").await,
        401,
        "bad_signature",
    )
    .await;

    let answer_typ = protocol::sign(
        &confirmed_request(),
        ANSWER_TYP,
        &kid_of(&platform.key.verifying_key()),
        &platform.key,
    )
    .unwrap();
    assert_problem(
        post(&sim, answer_typ, "application/jwt").await,
        401,
        "wrong_type",
    )
    .await;
    sim.stop().await.unwrap();
}

#[tokio::test]
async fn malformed_wrong_type_and_oversized_bodies_are_problems() {
    let platform = Platform::new();
    let sim = platform.start(|_| {}).await;
    assert_problem(
        post(&sim, "not a jwt", "application/jwt").await,
        400,
        "malformed_message",
    )
    .await;
    let token = sign(&confirmed_request(), &platform.key);
    assert_problem(
        post(&sim, token, "application/json").await,
        415,
        "unsupported_media_type",
    )
    .await;
    let huge = "a".repeat(sim::MAX_MESSAGE_BYTES + 1);
    assert_problem(
        post(&sim, huge, "application/jwt").await,
        413,
        "payload_too_large",
    )
    .await;
    let missing = reqwest::get(format!("{}/nowhere", sim.base_url()))
        .await
        .unwrap();
    assert_problem(missing, 404, "not_found").await;
    sim.stop().await.unwrap();
}

#[tokio::test]
async fn a_fail_rate_of_one_answers_503_every_time() {
    let platform = Platform::new();
    let sim = platform.start(|c| c.fail_rate = 1.0).await;
    for _ in 0..3 {
        let token = sign(&confirmed_request(), &platform.key);
        let response = post(&sim, token, "application/jwt").await;
        assert_eq!(response.headers()["retry-after"], "1");
        assert_problem(response, 503, "unavailable").await;
    }
    sim.stop().await.unwrap();
}

#[tokio::test]
async fn latency_delays_the_answer() {
    let platform = Platform::new();
    let sim = platform
        .start(|c| c.latency = Duration::from_millis(300))
        .await;
    let started = Instant::now();
    let response = post(
        &sim,
        sign(&confirmed_request(), &platform.key),
        "application/jwt",
    )
    .await;
    assert_eq!(response.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    sim.stop().await.unwrap();
}

/// A platform stand-in: serves the platform's JWKS over HTTP and hands each callback it
/// receives (content type, body) to the test.
async fn platform_stand_in(
    jwks: String,
) -> (
    String,
    tokio::sync::mpsc::UnboundedReceiver<(String, String)>,
) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        let tx = tx.clone();
        let jwks = jwks.clone();
        App::new()
            .route(
                "/.well-known/jwks.json",
                web::get().to(move || {
                    let jwks = jwks.clone();
                    async move {
                        HttpResponse::Ok()
                            .content_type("application/json")
                            .body(jwks)
                    }
                }),
            )
            .route(
                "/v1/issuer-callbacks",
                web::post().to(move |req: HttpRequest, body: String| {
                    let tx = tx.clone();
                    async move {
                        let content_type = req
                            .headers()
                            .get("content-type")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned();
                        let _ = tx.send((content_type, body));
                        HttpResponse::Ok().finish()
                    }
                }),
            )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    (format!("http://127.0.0.1:{port}"), rx)
}

#[tokio::test]
async fn callback_mode_answers_202_then_posts_the_answer_to_the_callback_url() {
    let platform = Platform::new();
    let (base, mut callbacks) = platform_stand_in(jwks_of(&platform.key)).await;
    let sim = platform
        .start(|c| {
            c.mode = Mode::Callback;
            c.latency = Duration::from_millis(50);
            c.platform_jwks = format!("{base}/.well-known/jwks.json");
        })
        .await;
    let claims = request(
        "DCFA-2019-0001",
        "José Álvarez",
        &format!("{base}/v1/issuer-callbacks"),
    );
    let response = post(&sim, sign(&claims, &platform.key), "application/jwt").await;
    assert_eq!(response.status(), 202);
    assert!(response.text().await.unwrap().is_empty());
    let (content_type, token) = tokio::time::timeout(Duration::from_secs(10), callbacks.recv())
        .await
        .expect("the callback arrives")
        .expect("a callback");
    assert_eq!(content_type, "application/jwt");
    let answer = verified_answer(&sim, &token).await;
    assert_eq!(answer.aud, PLATFORM);
    let (request_id, in_reply_to, outcome, _) = result_of(&answer);
    assert_eq!(request_id, claims.request_id);
    assert_eq!(in_reply_to, Some(claims.jti.as_str()));
    assert_eq!(outcome, Outcome::Confirmed);

    let mut no_callback = claims.clone();
    no_callback.jti = protocol::new_jti();
    no_callback.callback_url = "ftp://nowhere".into();
    let token = sign(&no_callback, &platform.key);
    assert_problem(
        post(&sim, token, "application/jwt").await,
        400,
        "malformed_message",
    )
    .await;
    sim.stop().await.unwrap();
}

#[tokio::test]
async fn a_revocation_message_is_signed_with_the_simulators_key() {
    let platform = Platform::new();
    let sim = platform.start(|_| {}).await;
    let token = sim
        .revocation_message(
            BODY,
            PLATFORM,
            &sim::Revocation {
                certificate_number: "DCFA-2017-0310".into(),
                qualification_code: "demo-financial-analyst".into(),
                revoked_on: "2024-02-01".into(),
                reason: None,
            },
        )
        .unwrap();
    let answer = verified_answer(&sim, &token).await;
    assert_eq!(answer.iss, BODY);
    assert!(matches!(answer.body, AnswerBody::CertificateRevoked { .. }));
    sim.stop().await.unwrap();
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
