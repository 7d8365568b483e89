//! Holders' verification requests: open one (with an Idempotency-Key), follow it,
//! withdraw it, attach evidence.

use actix_web::{get, post, put, web, HttpRequest, HttpResponse};

use super::holder_ops;
use super::types::{CreateRequest, RequestView};
use crate::app::AppState;
use crate::auth::Holder;
use crate::error::ApiError;
use crate::idempotency;
use crate::page::{ListParams, Page};

pub use super::holder_ops::{page_of, EVIDENCE_LIMIT_BYTES};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(get_one)
        .service(withdraw)
        .service(put_evidence);
}

/// Open a verification request. Needs an `Idempotency-Key`: a retry with the same key and
/// body returns the first answer. The holder must have verified their email address
/// (`403 email_unverified` otherwise).
#[utoipa::path(tag = "requests", security(("holder_token" = [])), request_body = CreateRequest,
    params(("Idempotency-Key" = String, Header, description = "Unique per request; retries reuse it")),
    responses((status = 201, body = RequestView),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json", description = "The holder's email address is not verified yet (`email_unverified`)"),
        (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "An open request exists, or the first request with this key is still running")))]
#[post("/v1/verification-requests")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    holder: Holder,
    body: web::Json<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    let key = idempotency::key_of(&req)?;
    let stored = holder_ops::open(&state, holder, key, body.into_inner(), None).await?;
    Ok(stored.response())
}

/// The calling holder's requests, newest first.
#[utoipa::path(tag = "requests", security(("holder_token" = [])), params(ListParams), responses((status = 200, body = Page<RequestView>)))]
#[get("/v1/verification-requests")]
pub async fn list(
    state: web::Data<AppState>,
    holder: Holder,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = params.checked_limit()?;
    let page = holder_ops::list(&state, holder.id, params.cursor.clone(), limit).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One of the calling holder's requests, with its history.
#[utoipa::path(tag = "requests", security(("holder_token" = [])), params(("id" = String, Path)), responses((status = 200, body = RequestView)))]
#[get("/v1/verification-requests/{id}")]
pub async fn get_one(
    state: web::Data<AppState>,
    holder: Holder,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = holder_ops::one(&state, holder.id, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Withdraw an open request.
#[utoipa::path(tag = "requests", security(("holder_token" = [])), params(("id" = String, Path)),
    responses((status = 200, body = RequestView), (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "The request is no longer open")))]
#[post("/v1/verification-requests/{id}/withdraw")]
pub async fn withdraw(
    state: web::Data<AppState>,
    holder: Holder,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = holder_ops::withdraw(&state, holder, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Attach evidence (the raw bytes of a PDF, JPEG or PNG, at most 5 MB) to an open request.
#[utoipa::path(tag = "requests", security(("holder_token" = [])), params(("id" = String, Path)),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "A PDF, JPEG or PNG, at most 5 MB"),
    responses((status = 200, body = RequestView)))]
#[put("/v1/verification-requests/{id}/evidence")]
pub async fn put_evidence(
    state: web::Data<AppState>,
    holder: Holder,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let bytes = crate::problems::read_limited(payload, EVIDENCE_LIMIT_BYTES, "Evidence").await?;
    let view = holder_ops::attach_evidence(&state, holder, id.into_inner(), bytes.to_vec()).await?;
    Ok(HttpResponse::Ok().json(view))
}
