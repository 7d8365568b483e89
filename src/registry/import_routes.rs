//! `POST /v1/admin/registry/import`.

use actix_web::http::{header, StatusCode};
use actix_web::{post, web, HttpRequest, HttpResponse};
use serde_json::Value;

use super::import::{self, ImportReport, RegistryDocument};
use super::input::UrlPolicy;
use crate::app::AppState;
use crate::auth::Admin;
use crate::db::{self, write_transaction};
use crate::error::ApiError;

/// Imports are whole lists; they get their own, larger body limit.
pub const IMPORT_LIMIT_BYTES: usize = 32 * 1024 * 1024;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(import_registry);
}

/// Parses an import body by its content type: the JSON document, or CSV rows of qualifications.
pub fn parse_document(content_type: &str, body: &[u8]) -> Result<Value, ApiError> {
    match content_type.split(';').next().unwrap_or("").trim() {
        "application/json" => serde_json::from_slice(body).map_err(|e| {
            ApiError::bad_request("malformed_json", format!("The body is not valid JSON: {e}"))
        }),
        "text/csv" => import::csv_document(body).map_err(ApiError::validation),
        _ => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Imports take application/json (the registry document) or text/csv (qualifications).",
        )),
    }
}

/// Import a registry document (or CSV qualifications). All or nothing: every bad row is
/// named by position and field, and then nothing is written. Importing the same document
/// again changes nothing (`changed: false`).
#[utoipa::path(
    tag = "admin", security(("client_credentials" = ["admin"])),
    request_body(content((RegistryDocument = "application/json"), (String = "text/csv"))),
    responses((status = 200, body = ImportReport))
)]
#[post("/v1/admin/registry/import")]
pub async fn import_registry(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: Admin,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = crate::problems::read_limited(payload, IMPORT_LIMIT_BYTES, "An import").await?;
    let doc = parse_document(&content_type, &body)?;
    let urls = UrlPolicy {
        allow_http: state.settings.allow_http_issuers,
    };
    let checked = import::check_document(&doc, urls).map_err(ApiError::validation)?;
    let actor = admin.id.clone();
    let report = db::run(&state.pool, move |conn| {
        let report = write_transaction(conn, |conn| {
            import::apply(conn, checked, &actor, &|_, _| {})
        })?;
        import::after_commit(conn, &report)?;
        Ok(report)
    })
    .await?;
    tracing::info!(admin = %admin.client_id, ?report, "registry import");
    Ok(HttpResponse::Ok().json(report))
}
