//! Holders' verification requests: open one (with an Idempotency-Key), follow it,
//! withdraw it, attach evidence.

use actix_web::http::StatusCode;
use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use diesel::prelude::*;
use diesel::result::Error as DieselError;

use super::queries::{self, RequestRow};
use super::types::{CreateRequest, RequestView};
use crate::app::AppState;
use crate::auth::Holder;
use crate::db::schema::{evidence, verification_requests};
use crate::db::{self, write_transaction, DbConnection};
use crate::domain::request_state::RequestState;
use crate::error::ApiError;
use crate::idempotency;
use crate::page::{ListParams, Page};

pub const EVIDENCE_LIMIT_BYTES: usize = 5 * 1024 * 1024;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(get_one)
        .service(withdraw)
        .service(put_evidence);
}

fn own(conn: &mut DbConnection, holder: &Holder, id: &str) -> Result<RequestRow, ApiError> {
    // Another holder's request is as absent as one that never existed.
    queries::find(conn, id)?
        .filter(|r| r.holder_id == holder.id)
        .ok_or_else(|| ApiError::not_found("No such verification request."))
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
    let holder_id = holder.id.clone();
    let verified = db::run_retrying(&state.pool, move |conn| {
        Ok(crate::holders::email_verified(conn, &holder_id)?)
    })
    .await?;
    if !verified {
        return Err(ApiError::forbidden(
            "email_unverified",
            "Verify your email address first: open the link in the mail sent at registration.",
        ));
    }
    let body = body.into_inner();
    let fingerprint = idempotency::fingerprint(&body)?;
    let parsed: CreateRequest = serde_json::from_value(body).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            format!("The body does not have the expected shape: {e}"),
        )
    })?;
    let new = parsed
        .validate(chrono::Utc::now().date_naive())
        .map_err(ApiError::validation)?;
    let lease =
        chrono::Duration::from_std(state.settings.idempotency_lease).map_err(ApiError::internal)?;
    let key = idempotency::Request::new(format!("holder:{}", holder.id), key, fingerprint, lease);
    let stored = super::submit::submit(&state, holder, key, new).await?;
    Ok(stored.response())
}

/// Turns `limit + 1` rows into a page: the extra row only tells that another page exists.
pub fn page_of<T>(
    conn: &mut DbConnection,
    rows: Vec<RequestRow>,
    limit: i64,
    view: impl Fn(&mut DbConnection, &RequestRow) -> QueryResult<T>,
) -> QueryResult<Page<T>> {
    // Views read the database, so the page is cut first and only its rows are viewed.
    let rows = Page::of(rows, limit, |r| r.id.clone(), |r| r);
    let items = rows
        .items
        .iter()
        .map(|r| view(conn, r))
        .collect::<QueryResult<Vec<_>>>()?;
    Ok(Page {
        items,
        next_cursor: rows.next_cursor,
    })
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
    let cursor = params.cursor.clone();
    let page = db::run_retrying(&state.pool, move |conn| {
        let rows = queries::list_for_holder(conn, &holder.id, cursor.as_deref(), limit + 1)?;
        Ok(page_of(conn, rows, limit, queries::view)?)
    })
    .await?;
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
    let view = db::run_retrying(&state.pool, move |conn| {
        let row = own(conn, &holder, &id)?;
        Ok(queries::view(conn, &row)?)
    })
    .await?;
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
    let view = db::run(&state.pool, move |conn| {
        write_transaction(conn, |conn| {
            let row = own(conn, &holder, &id)?;
            queries::transition(
                conn,
                &row,
                RequestState::Withdrawn,
                Some("withdrawn by the holder"),
                &holder.id,
            )?;
            let row = queries::find(conn, &row.id)?.ok_or(DieselError::NotFound)?;
            Ok(queries::view(conn, &row)?)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The types evidence may have, told from the bytes, never from the header.
fn evidence_type(bytes: &[u8]) -> Option<&'static str> {
    match infer::get(bytes)?.mime_type() {
        t @ ("application/pdf" | "image/jpeg" | "image/png") => Some(t),
        _ => None,
    }
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
    let content_type = evidence_type(&bytes).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Evidence must be a PDF, JPEG or PNG.",
        )
    })?;
    let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
    let view = db::run(&state.pool, move |conn| {
        write_transaction(conn, |conn| {
            let row = own(conn, &holder, &id)?;
            if !row.state().is_open() {
                return Err(ApiError::conflict(
                    "request_closed",
                    "Evidence can only be added to an open request.",
                ));
            }
            let exists: bool = diesel::select(diesel::dsl::exists(evidence::table.find(&sha256)))
                .get_result(conn)?;
            if !exists {
                diesel::insert_into(evidence::table)
                    .values((
                        evidence::sha256.eq(&sha256),
                        evidence::content_type.eq(content_type),
                        evidence::size.eq(bytes.len() as i64),
                        evidence::content.eq(bytes.as_ref()),
                        evidence::created_at.eq(chrono::Utc::now().naive_utc()),
                    ))
                    .execute(conn)?;
            }
            diesel::update(verification_requests::table.find(&row.id))
                .set((
                    verification_requests::evidence_sha256.eq(&sha256),
                    verification_requests::evidence_type.eq(content_type),
                ))
                .execute(conn)?;
            let row = queries::find(conn, &row.id)?.ok_or(DieselError::NotFound)?;
            Ok(queries::view(conn, &row)?)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}
