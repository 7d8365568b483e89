//! `POST /v1/oauth/token`: client credentials (agencies and admins) → an access token.

use actix_web::http::{header, StatusCode};
use actix_web::{post, web, HttpRequest, HttpResponse};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::queries as accounts;
use crate::app::AppState;
use crate::auth::grant::{no_store, TokenResponse};
use crate::auth::ratelimit::client_address;
use crate::auth::token::PrincipalKind;
use crate::db;
use crate::error::ApiError;

/// The client-credentials form of RFC 6749 §4.4.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct TokenRequest {
    /// Must be `client_credentials`.
    pub grant_type: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// Optional: a subset of the account's scopes.
    pub scope: Option<String>,
}

/// An RFC 6749 §5.2 error. It also carries the problem-document members, so both OAuth
/// clients and problem-aware clients can read it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OAuthError {
    pub error: String,
    pub error_description: String,
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub code: String,
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    if status == StatusCode::UNAUTHORIZED {
        response.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"certverify\""));
    }
    no_store(response).json(OAuthError {
        error: error.to_owned(),
        error_description: description.to_owned(),
        problem_type: format!("urn:certverify:problem:{error}"),
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        status: status.as_u16(),
        detail: description.to_owned(),
        code: error.to_owned(),
    })
}

/// Client credentials from HTTP Basic (RFC 6749 §2.3.1: each part form-urlencoded).
fn basic_credentials(req: &HttpRequest) -> Option<Result<(String, String), ()>> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let parse = || -> Option<(String, String)> {
        let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
        let (id, secret) = decoded.split_once(':')?;
        let unescape = |s: &str| {
            url::form_urlencoded::parse(format!("v={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
        };
        Some((unescape(id)?, unescape(secret)?))
    };
    Some(parse().ok_or(()))
}

/// Exchange client credentials for an access token (agencies and admins).
#[utoipa::path(
    tag = "auth", security(()),
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, body = TokenResponse),
        (status = 400, body = OAuthError, description = "invalid_request, unsupported_grant_type or invalid_scope"),
        (status = 401, body = OAuthError, description = "invalid_client"),
        (status = 429, body = crate::error::Problem, content_type = "application/problem+json", description = "Too many attempts; see Retry-After"),
    )
)]
#[post("/v1/oauth/token")]
pub async fn token(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if !is_form {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "This endpoint takes application/x-www-form-urlencoded.",
        ));
    }
    let Ok(form) = serde_urlencoded::from_bytes::<TokenRequest>(&body) else {
        return Ok(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The form could not be parsed.",
        ));
    };
    if form.grant_type.as_deref() != Some("client_credentials") {
        let (error, description) = match form.grant_type {
            None => ("invalid_request", "grant_type is required."),
            Some(_) => (
                "unsupported_grant_type",
                "Only client_credentials is supported.",
            ),
        };
        return Ok(oauth_error(StatusCode::BAD_REQUEST, error, description));
    }
    let (client_id, secret) = match (basic_credentials(&req), form.client_id, form.client_secret) {
        (Some(Err(())), _, _) => {
            return Ok(oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Malformed Basic credentials.",
            ))
        }
        (Some(Ok(_)), Some(_), _) | (Some(Ok(_)), _, Some(_)) => {
            // RFC 6749 §2.3: a client must not use more than one authentication method.
            return Ok(oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Use Basic or form credentials, not both.",
            ));
        }
        (Some(Ok(pair)), None, None) => pair,
        (None, Some(id), Some(secret)) => (id, secret),
        (None, _, _) => {
            return Ok(oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Client authentication is required.",
            ))
        }
    };
    state
        .limiter
        .check(&req, &client_id, client_address(&req))?;
    let row = db::run(&state.pool, move |conn| {
        Ok(accounts::find_active_by_client_id(conn, &client_id)?)
    })
    .await?;
    let hasher = state.hasher.clone();
    let stored = row.as_ref().map(|r| r.secret_hash.clone());
    let matched = web::block(move || hasher.verify(&secret, stored.as_deref()))
        .await
        .map_err(ApiError::internal)?;
    let Some(account) = row.filter(|_| matched) else {
        return Ok(oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Unknown client or wrong secret.",
        ));
    };
    let granted = account.scope_list();
    let scopes = match form.scope.as_deref().map(str::split_whitespace) {
        None => granted,
        Some(requested) => {
            let requested: Vec<String> = requested.map(str::to_owned).collect();
            if requested.is_empty() || requested.iter().any(|s| !granted.contains(s)) {
                return Ok(oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_scope",
                    "A requested scope is not granted to this client.",
                ));
            }
            requested
        }
    };
    let kind = if account.kind == "admin" {
        PrincipalKind::Admin
    } else {
        PrincipalKind::Agency
    };
    let scope = scopes.join(" ");
    let ttl = state.token_ttl_secs();
    let access_token = state
        .tokens()
        .issue(&account.id, kind, &scope, Some(&account.client_id), ttl)
        .map_err(ApiError::internal)?;
    Ok(no_store(HttpResponse::Ok()).json(TokenResponse {
        access_token,
        token_type: "Bearer".into(),
        expires_in: ttl,
        scope: Some(scope),
    }))
}
