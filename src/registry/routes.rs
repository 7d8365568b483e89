//! Public reads of the registry: list versions, issuing bodies, qualifications.

use actix_web::{get, web, HttpRequest, HttpResponse};

use super::queries;
use super::search::{self, SearchParams};
use super::types::{IssuingBodyView, ListVersion, QualificationDetail, QualificationView};
use crate::app::AppState;
use crate::cache;
use crate::db;
use crate::error::ApiError;
use crate::page::Page;

/// Public registry data changes rarely; a minute of caching spares the database.
const MAX_AGE_SECS: u32 = 60;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_versions_route)
        .service(list_bodies)
        .service(get_body)
        .service(list_qualifications)
        .service(get_qualification);
}

/// The versions of the list (1.0, 2.0, 3.0, …).
#[utoipa::path(tag = "registry", security(()), responses((status = 200, body = Page<ListVersion>), (status = 304, description = "Not modified")))]
#[get("/v1/list-versions")]
pub async fn list_versions_route(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let items = db::run_retrying(&state.pool, |conn| Ok(queries::all_list_versions(conn)?)).await?;
    cache::json(
        &req,
        &Page {
            items,
            next_cursor: None,
        },
        MAX_AGE_SECS,
    )
}

/// Every issuing body, with its active public keys.
#[utoipa::path(tag = "registry", security(()), responses((status = 200, body = Page<IssuingBodyView>), (status = 304, description = "Not modified")))]
#[get("/v1/issuing-bodies")]
pub async fn list_bodies(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let items = db::run_retrying(&state.pool, |conn| {
        let mut items = Vec::new();
        for body in queries::all_bodies(conn)? {
            let keys = queries::body_keys(conn, &body.id)?;
            items.push(body.view(&keys));
        }
        Ok(items)
    })
    .await?;
    cache::json(
        &req,
        &Page {
            items,
            next_cursor: None,
        },
        MAX_AGE_SECS,
    )
}

/// One issuing body, by id or code.
#[utoipa::path(tag = "registry", security(()), params(("id" = String, Path, description = "Id or code")),
    responses((status = 200, body = IssuingBodyView), (status = 304, description = "Not modified")))]
#[get("/v1/issuing-bodies/{id}")]
pub async fn get_body(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = db::run_retrying(&state.pool, move |conn| {
        let body = queries::find_body(conn, &id)?
            .ok_or_else(|| ApiError::not_found("No such issuing body."))?;
        let keys = queries::body_keys(conn, &body.id)?;
        Ok(body.view(&keys))
    })
    .await?;
    cache::json(&req, &view, MAX_AGE_SECS)
}

/// Search the list.
#[utoipa::path(tag = "registry", security(()), params(SearchParams),
    responses((status = 200, body = Page<QualificationView>), (status = 304, description = "Not modified"),
              (status = 400, body = crate::error::Problem, content_type = "application/problem+json", description = "Invalid query parameters")))]
#[get("/v1/qualifications")]
pub async fn list_qualifications(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: web::Query<SearchParams>,
) -> Result<HttpResponse, ApiError> {
    let search = params.into_inner().check()?;
    let page = db::run_retrying(&state.pool, move |conn| Ok(search::run(conn, &search)?)).await?;
    cache::json(&req, &page, MAX_AGE_SECS)
}

/// One qualification (by id or code) with its issuing body and its history.
#[utoipa::path(tag = "registry", security(()), params(("id" = String, Path, description = "Id or code")),
    responses((status = 200, body = QualificationDetail), (status = 304, description = "Not modified")))]
#[get("/v1/qualifications/{id}")]
pub async fn get_qualification(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let detail = db::run_retrying(&state.pool, move |conn| {
        super::qualification_detail(conn, &id)
    })
    .await?;
    cache::json(&req, &detail, MAX_AGE_SECS)
}
