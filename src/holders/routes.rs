//! `POST /v1/holders`, its address's verification, and `GET /v1/me`.

use actix_web::{get, post, web, HttpRequest, HttpResponse};

use super::queries;
use super::types::{HolderView, MailAccepted, RegisterHolder, ResendVerification, VerifyEmail};
use crate::app::AppState;
use crate::auth::Holder;
use crate::db;
use crate::error::ApiError;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(register)
        .service(verify_email)
        .service(resend_verification)
        .service(me)
        .service(super::login::login);
}

/// Register a certificate holder account.
///
/// Holders still overseas register the same way. The identity document number is kept
/// only as a keyed hash and its last four characters. The answer is `202` whether or not
/// the address is registered already: a new account gets a mail with a verification link
/// (valid 24 hours, one use), the owner of a taken address gets a mail saying so. A
/// verification request needs the address verified first.
#[utoipa::path(
    tag = "holders", security(()),
    request_body = RegisterHolder,
    responses(
        (status = 202, body = MailAccepted, description = "Accepted; the address's mailbox is told the rest"),
    )
)]
#[post("/v1/holders")]
pub async fn register(
    state: web::Data<AppState>,
    body: web::Json<RegisterHolder>,
) -> Result<HttpResponse, ApiError> {
    super::email::register(state, body.into_inner()).await?;
    Ok(HttpResponse::Accepted().json(MailAccepted::new()))
}

/// Confirm a holder's email address with the token of the emailed link.
///
/// One use; the link is valid 24 hours. Any token that cannot be used (unknown, used,
/// expired) gets the same `400`.
#[utoipa::path(
    tag = "holders", security(()),
    request_body = VerifyEmail,
    responses(
        (status = 204, description = "The address is verified"),
        (status = 400, body = crate::error::Problem, content_type = "application/problem+json", description = "Unknown, used or expired token (`invalid_email_token`)"),
    )
)]
#[post("/v1/holders/verify-email")]
pub async fn verify_email(
    state: web::Data<AppState>,
    body: web::Json<VerifyEmail>,
) -> Result<HttpResponse, ApiError> {
    super::email::verify(&state, body.into_inner().token).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Send a new verification link to an address that has not been verified yet.
///
/// The answer is the same `202` for any address, registered, verified or not.
/// Rate-limited per address and client like the login.
#[utoipa::path(
    tag = "holders", security(()),
    request_body = ResendVerification,
    responses(
        (status = 202, body = MailAccepted, description = "Accepted; the address's mailbox is told the rest"),
        (status = 429, body = crate::error::Problem, content_type = "application/problem+json", description = "Too many attempts; see Retry-After"),
    )
)]
#[post("/v1/holders/resend-verification")]
pub async fn resend_verification(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<ResendVerification>,
) -> Result<HttpResponse, ApiError> {
    super::email::resend(&req, state, &body.into_inner().email).await?;
    Ok(HttpResponse::Accepted().json(MailAccepted::new()))
}

/// The calling holder's own profile.
#[utoipa::path(tag = "holders", security(("holder_token" = [])), responses((status = 200, body = HolderView)))]
#[get("/v1/me")]
pub async fn me(state: web::Data<AppState>, holder: Holder) -> Result<HttpResponse, ApiError> {
    let row = db::run_retrying(&state.pool, move |conn| {
        Ok(queries::find(conn, &holder.id)?)
    })
    .await?;
    // A valid token for an account that no longer exists is as good as no token.
    let row = row
        .ok_or_else(|| ApiError::unauthorized("invalid_token", "The account no longer exists."))?;
    Ok(HttpResponse::Ok().json(row.view()))
}
