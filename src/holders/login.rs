//! `POST /v1/auth/login`: a holder's email and password → an access token.

use actix_web::http::StatusCode;
use actix_web::{post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::queries::{self as holders, HolderRow};
use super::sessions::{self, NewSession};
use crate::app::AppState;
use crate::auth::grant::{no_store, TokenResponse};
use crate::auth::ratelimit::client_address;
use crate::auth::token::PrincipalKind;
use crate::db;
use crate::error::ApiError;

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

/// Log a holder in: email and password → an access token.
#[utoipa::path(
    tag = "auth", security(()),
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, body = crate::error::Problem, content_type = "application/problem+json", description = "Wrong email or password"),
        (status = 429, body = crate::error::Problem, content_type = "application/problem+json", description = "Too many attempts; see Retry-After"),
    )
)]
#[post("/v1/auth/login")]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let LoginRequest { email, password } = body.into_inner();
    let holder = authenticate(&req, &state, email, password).await?;
    let ttl = state.token_ttl_secs();
    let access_token = state
        .tokens()
        .issue(&holder.id, PrincipalKind::Holder, "holder", None, ttl)
        .map_err(ApiError::internal)?;
    Ok(no_store(HttpResponse::Ok()).json(TokenResponse {
        access_token,
        token_type: "Bearer".into(),
        expires_in: ttl,
        scope: None,
    }))
}

/// Checks a holder's email and password, rate-limited per account and per address (the
/// API's login and the pages' both come through here). One answer for a wrong email and a
/// wrong password, and the hash is checked either way, so neither tells who is registered.
pub async fn authenticate(
    req: &HttpRequest,
    state: &AppState,
    email: String,
    password: String,
) -> Result<HolderRow, ApiError> {
    state
        .limiter
        .check(req, email.trim(), client_address(req))?;
    let row = db::run(&state.pool, move |conn| {
        Ok(holders::find_by_email(conn, &email)?)
    })
    .await?;
    let hasher = state.hasher.clone();
    let stored = row.as_ref().map(|r| r.password_hash.clone());
    let matched = web::block(move || hasher.verify(&password, stored.as_deref()))
        .await
        .map_err(ApiError::internal)?;
    row.filter(|_| matched).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "Wrong email or password.",
        )
    })
}

/// The pages' login: the same checks as [`authenticate`], then a new session (the one the
/// browser came with, `previous`, ends). Returns the holder's id with the session.
pub async fn login_session(
    req: &HttpRequest,
    state: &AppState,
    email: String,
    password: String,
    previous: Option<String>,
) -> Result<(String, NewSession), ApiError> {
    let holder = authenticate(req, state, email, password).await?;
    let id = holder.id;
    db::run(&state.pool, move |conn| {
        let session = sessions::create(conn, &id, previous.as_deref())?;
        Ok((id, session))
    })
    .await
}
