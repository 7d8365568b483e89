//! The simulator's HTTP side: `POST /verifications`, its own JWKS, and the callback sender.

use std::time::Duration;

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::middleware::ErrorHandlers;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::SigningKey;
use rand_core::{OsRng, RngCore};

use super::certificates::Certificates;
use super::platform_keys::PlatformKeys;
use super::stats::SimStats;
use super::{answer_message, Mode};
use crate::auth::keys::JwkSet;
use crate::error::{ApiError, PROBLEM_JSON};
use crate::issuers::protocol::{
    self, CertificateFacts, Outcome, ProtocolError, VerificationRequest,
};
use crate::problems;

/// DESIGN.md caps protocol messages at 16 KB.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024;
const JWT: &str = "application/jwt";

pub struct SimState {
    pub certificates: Certificates,
    pub platform: PlatformKeys,
    pub mode: Mode,
    pub latency: Duration,
    pub fail_rate: f64,
    pub callback_attempts: u32,
    pub stats: std::sync::Arc<SimStats>,
    pub key: SigningKey,
    pub kid: String,
    pub jwks: JwkSet,
    pub client: reqwest::Client,
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::PayloadConfig::new(MAX_MESSAGE_BYTES))
        .route("/verifications", web::post().to(verifications))
        .route("/.well-known/jwks.json", web::get().to(jwks))
        .route("/healthz", web::get().to(healthz));
}

pub fn error_handlers<B: 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new()
        .default_handler_client(problems::ensure_problem)
        .default_handler_server(problems::ensure_problem)
}

pub async fn fallback(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found(format!("No route for {}.", req.path())))
}

async fn jwks(state: web::Data<SimState>) -> HttpResponse {
    HttpResponse::Ok().json(&state.jwks)
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// A uniform draw in [0, 1) from the OS generator, which the crate already depends on.
fn draw() -> f64 {
    (OsRng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

async fn verifications(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<SimState>,
) -> Result<HttpResponse, ApiError> {
    if state.fail_rate > 0.0 && draw() < state.fail_rate {
        tracing::warn!("failing a verification request on purpose (--fail-rate)");
        // Built by hand: as an Err it would be logged as a server error, which it is not.
        let problem = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "The issuing body is unavailable; try again later.",
        )
        .problem();
        return Ok(HttpResponse::ServiceUnavailable()
            .content_type(PROBLEM_JSON)
            .insert_header((header::RETRY_AFTER, "1"))
            .json(problem));
    }
    let request = match read_request(&req, &body, &state).await {
        Ok(request) => request,
        Err(e) => {
            tracing::warn!(status = e.status.as_u16(), code = e.code, detail = %e.detail, "refused a verification request");
            return Err(e);
        }
    };
    state.stats.request();
    let verdict = state.certificates.check(&request);
    let outcome = verdict.outcome;
    let facts = verdict
        .certificate
        .map(|c| c.facts(&request.qualification_code));
    tracing::info!(
        request_id = %request.request_id,
        jti = %request.jti,
        body = %request.aud,
        platform = %request.iss,
        outcome = outcome.as_str(),
        mode = ?state.mode,
        "checked a verification request"
    );
    match state.mode {
        Mode::Sync => {
            tokio::time::sleep(state.latency).await;
            let token = sign_answer(&state, &request, outcome, facts)?;
            tracing::info!(request_id = %request.request_id, outcome = outcome.as_str(), "answered 200");
            Ok(HttpResponse::Ok()
                .content_type(JWT)
                .insert_header(header::CacheControl(vec![header::CacheDirective::NoStore]))
                .body(token))
        }
        Mode::Callback => {
            let callback = callback_url(&request.callback_url)?;
            let state = state.clone();
            actix_web::rt::spawn(async move {
                tokio::time::sleep(state.latency).await;
                match sign_answer(&state, &request, outcome, facts) {
                    Ok(token) => send_callback(&state, callback, token, &request).await,
                    Err(e) => {
                        tracing::error!(request_id = %request.request_id, error = %e, "cannot sign the answer")
                    }
                }
            });
            Ok(HttpResponse::Accepted().finish())
        }
    }
}

fn sign_answer(
    state: &SimState,
    request: &VerificationRequest,
    outcome: Outcome,
    facts: Option<CertificateFacts>,
) -> Result<String, ApiError> {
    answer_message(request, outcome, facts, &state.key, &state.kid).map_err(ApiError::internal)
}

/// The request's claims once its content type, signature, key and lifetime check out.
async fn read_request(
    req: &HttpRequest,
    body: &[u8],
    state: &SimState,
) -> Result<VerificationRequest, ApiError> {
    let is_jwt = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(JWT));
    if !is_jwt {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "This endpoint takes application/jwt.",
        ));
    }
    let token = std::str::from_utf8(body)
        .map(str::trim)
        .map_err(|_| malformed("The body is not UTF-8 text."))?;
    require_signature(token)?;
    let sender = protocol::sender(token, protocol::REQUEST_TYP).map_err(refusal)?;
    let key = state
        .platform
        .find(&sender.kid)
        .await
        .map_err(|e| {
            tracing::error!(error = %format!("{e:#}"), "cannot get the platform's keys");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "platform_keys_unavailable",
                "The issuing body cannot get the platform's public keys; try again later.",
            )
        })?
        .ok_or_else(|| {
            refusal(ProtocolError::UnknownKey {
                iss: sender.iss.clone(),
                kid: sender.kid.clone(),
            })
        })?;
    let now = chrono::Utc::now().timestamp();
    let request: VerificationRequest =
        protocol::verify(token, protocol::REQUEST_TYP, &key, None, now).map_err(refusal)?;
    if request.aud.trim().is_empty() || request.iss.trim().is_empty() {
        return Err(malformed("The request's iss and aud must not be empty."));
    }
    Ok(request)
}

/// An unsigned token (`alg: none`, or no signature) is an authentication failure, not a
/// malformed one; jsonwebtoken cannot even read such a header, so it is checked here.
fn require_signature(token: &str) -> Result<(), ApiError> {
    let parts: Vec<&str> = token.split('.').collect();
    let [header, _, signature] = parts.as_slice() else {
        return Err(malformed("The body is not a compact JWS."));
    };
    let header: serde_json::Value = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| malformed("The JWS header is not base64url JSON."))?;
    if header.get("alg").and_then(|a| a.as_str()) != Some("EdDSA") || signature.is_empty() {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unsigned",
            "The request must be signed with EdDSA.",
        ));
    }
    Ok(())
}

fn malformed(detail: &str) -> ApiError {
    ApiError::bad_request("malformed_message", detail)
}

fn refusal(e: ProtocolError) -> ApiError {
    let code = match &e {
        ProtocolError::Malformed(_) => "malformed_message",
        ProtocolError::WrongAlgorithm => "unsigned",
        ProtocolError::WrongType { .. } => "wrong_type",
        ProtocolError::UnknownKey { .. } => "unknown_key",
        ProtocolError::BadSignature => "bad_signature",
        ProtocolError::WrongAudience(_) => "wrong_audience",
        ProtocolError::Expired => "expired",
        ProtocolError::BadLifetime => "bad_lifetime",
    };
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNAUTHORIZED);
    ApiError::new(status, code, e.to_string())
}

fn callback_url(text: &str) -> Result<url::Url, ApiError> {
    url::Url::parse(text)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .ok_or_else(|| malformed("The request's callback_url is not an http(s) URL."))
}

fn retryable(status: StatusCode) -> bool {
    status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS
}

async fn send_callback(
    state: &SimState,
    url: url::Url,
    token: String,
    request: &VerificationRequest,
) {
    let (client, attempts) = (&state.client, state.callback_attempts);
    let id = &request.request_id;
    for attempt in 1..=attempts {
        // The same bytes on every try: the platform takes a repeated message as a no-op.
        let sent = client
            .post(url.clone())
            .header(header::CONTENT_TYPE.as_str(), JWT)
            .body(token.clone())
            .send()
            .await;
        match sent {
            Ok(response) => {
                let status = response.status().as_u16();
                let code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
                if code.is_success() {
                    tracing::info!(request_id = %id, %url, status, attempt, "callback delivered");
                    state.stats.delivered();
                    return;
                }
                let detail = response.text().await.unwrap_or_default();
                let detail: String = detail.chars().take(500).collect();
                tracing::warn!(request_id = %id, %url, status, attempt, %detail, "callback refused");
                if !retryable(code) {
                    state.stats.refused();
                    return;
                }
            }
            Err(e) => {
                tracing::warn!(request_id = %id, %url, attempt, error = %e, "callback failed");
            }
        }
        if attempt == attempts {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500 << attempt)).await;
    }
    state.stats.lost();
    tracing::warn!(request_id = %id, "gave up on the callback; the platform will ask again");
}
