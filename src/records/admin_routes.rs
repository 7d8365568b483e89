//! Admins suspend, reinstate and revoke records, always with a reason.

use actix_web::{post, web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::queries;
use super::status;
use super::types::{RecordView, StatusAction};
use crate::app::AppState;
use crate::auth::extract::Admin;
use crate::db::{self, write_transaction};
use crate::error::{ApiError, FieldError};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(suspend).service(reinstate).service(revoke);
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct StatusChange {
    /// Why; kept with the record and in the audit log (1 to 500 characters).
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    pub reason: String,
}

async fn apply(
    state: web::Data<AppState>,
    admin: Admin,
    id: String,
    body: StatusChange,
    action: StatusAction,
) -> Result<HttpResponse, ApiError> {
    let reason = body.reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(ApiError::validation(vec![FieldError::new(
            "reason",
            "invalid",
            "1 to 500 characters.",
        )]));
    }
    let view = db::run(&state.pool, move |conn| {
        write_transaction(conn, |conn| {
            let row =
                queries::find(conn, &id)?.ok_or_else(|| ApiError::not_found("No such record."))?;
            let actor = format!("admin:{}", admin.id);
            Ok(status::change(conn, &row, action, &reason, &actor)?.view())
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Suspends a valid record (reversible).
#[utoipa::path(tag = "admin", security(("client_credentials" = ["admin"])), params(("id" = String, Path)), request_body = StatusChange,
    responses((status = 200, body = RecordView), (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "Not valid")))]
#[post("/v1/admin/records/{id}/suspend")]
pub async fn suspend(
    state: web::Data<AppState>,
    admin: Admin,
    id: web::Path<String>,
    body: web::Json<StatusChange>,
) -> Result<HttpResponse, ApiError> {
    apply(
        state,
        admin,
        id.into_inner(),
        body.into_inner(),
        StatusAction::Suspend,
    )
    .await
}

/// Reinstates a suspended record.
#[utoipa::path(tag = "admin", security(("client_credentials" = ["admin"])), params(("id" = String, Path)), request_body = StatusChange,
    responses((status = 200, body = RecordView), (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "Not suspended")))]
#[post("/v1/admin/records/{id}/reinstate")]
pub async fn reinstate(
    state: web::Data<AppState>,
    admin: Admin,
    id: web::Path<String>,
    body: web::Json<StatusChange>,
) -> Result<HttpResponse, ApiError> {
    apply(
        state,
        admin,
        id.into_inner(),
        body.into_inner(),
        StatusAction::Reinstate,
    )
    .await
}

/// Revokes a record for good.
#[utoipa::path(tag = "admin", security(("client_credentials" = ["admin"])), params(("id" = String, Path)), request_body = StatusChange,
    responses((status = 200, body = RecordView), (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "Already revoked")))]
#[post("/v1/admin/records/{id}/revoke")]
pub async fn revoke(
    state: web::Data<AppState>,
    admin: Admin,
    id: web::Path<String>,
    body: web::Json<StatusChange>,
) -> Result<HttpResponse, ApiError> {
    apply(
        state,
        admin,
        id.into_inner(),
        body.into_inner(),
        StatusAction::Revoke,
    )
    .await
}
