//! `POST /v1/issuer-callbacks`: issuing bodies' signed answers and revocation notices.

use actix_web::http::{header, StatusCode};
use actix_web::{post, web, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::answers::{self, Applied};
use crate::app::AppState;
use crate::db::{self, write_transaction};
use crate::error::ApiError;
use crate::records::RecordsState;
use crate::requests::Method;

pub const CALLBACK_LIMIT_BYTES: usize = 16 * 1024;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(callback);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CallbackAccepted {
    /// `settled`, `already_known` (a repeat: nothing changed) or `stored`.
    pub result: String,
}

/// An issuing body's answer or revocation notice: a compact JWS (`application/jwt`,
/// at most 16 KB) signed with one of the body's registered keys.
#[utoipa::path(tag = "issuers", security(()),
    request_body(content = String, content_type = "application/jwt", description = "A compact JWS the body signed (header.payload.signature, base64url)"),
    responses(
        (status = 200, body = CallbackAccepted),
        (status = 401, body = crate::error::Problem, content_type = "application/problem+json", description = "Bad signature, unknown or retired kid, wrong typ or audience, expired or too long-lived"),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json", description = "The request is not addressed to this body"),
        (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "A jti seen before with other content, or an outcome contradicting the recorded one"),
    ))]
#[post("/v1/issuer-callbacks")]
pub async fn callback(
    req: HttpRequest,
    state: web::Data<AppState>,
    records: web::Data<RecordsState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.split(';').next().map(str::trim) != Some("application/jwt") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Callbacks are application/jwt.",
        ));
    }
    let body = crate::problems::read_limited(payload, CALLBACK_LIMIT_BYTES, "A callback").await?;
    let token = std::str::from_utf8(&body)
        .map_err(|_| ApiError::bad_request("malformed_message", "The body is not a compact JWS."))?
        .trim()
        .to_owned();
    let shared = state.clone();
    let applied = db::run(&state.pool, move |conn| {
        // Signatures are checked before the write lock is taken (no writer waits on them).
        let (issuer, answer) = answers::verify(conn, &token, &shared.public_url)?;
        write_transaction(conn, |conn| {
            let issuance = records.issuance(&shared);
            answers::apply(
                conn,
                &issuance,
                &issuer,
                &answer,
                &token,
                Method::IssuerCallback,
            )
        })
    })
    .await?;
    let result = match applied {
        Applied::Settled => "settled",
        Applied::AlreadyKnown => "already_known",
        Applied::Stored => "stored",
    };
    Ok(HttpResponse::Ok().json(CallbackAccepted {
        result: result.into(),
    }))
}
