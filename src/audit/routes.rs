//! `GET /v1/admin/audit`: the audit log for administrators, newest first.

use actix_web::{get, web, HttpResponse};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{AuditRow, Filter};
use crate::app::AppState;
use crate::auth::Admin;
use crate::db;
use crate::error::ApiError;
use crate::page::Page;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Only rows about this record, request or other subject.
    #[serde(default, deserialize_with = "crate::page::empty_as_none")]
    pub subject: Option<String>,
    /// Only this action, e.g. `record.read`.
    #[serde(default, deserialize_with = "crate::page::empty_as_none")]
    pub action: Option<String>,
    /// Only this actor, e.g. `agency:<id>`.
    #[serde(default, deserialize_with = "crate::page::empty_as_none")]
    pub actor: Option<String>,
    #[serde(default, deserialize_with = "crate::page::empty_as_none")]
    pub cursor: Option<String>,
    /// 1 to 100; default 20.
    pub limit: Option<i64>,
}

/// One audit row. `seq`, `prev_hash` and `hash` are null until the linker has chained it
/// (about a second after it was written).
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditItem {
    pub id: String,
    #[serde(with = "crate::domain::rfc3339")]
    pub at: NaiveDateTime,
    pub actor: String,
    pub action: String,
    pub subject: Option<String>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    pub seq: Option<i64>,
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
}

impl From<AuditRow> for AuditItem {
    fn from(row: AuditRow) -> Self {
        Self {
            details: serde_json::from_str(&row.details)
                .unwrap_or(serde_json::Value::String(row.details)),
            id: row.id,
            at: row.at,
            actor: row.actor,
            action: row.action,
            subject: row.subject,
            seq: row.seq,
            prev_hash: row.prev_hash,
            hash: row.hash,
        }
    }
}

/// The audit log, newest first, filtered by subject, action or actor.
#[utoipa::path(tag = "admin", security(("client_credentials" = ["admin"])), params(AuditParams),
    responses((status = 200, body = Page<AuditItem>),
        (status = 400, body = crate::error::Problem, content_type = "application/problem+json", description = "A bad limit or cursor (invalid_query)")))]
#[get("/v1/admin/audit")]
pub async fn list(
    state: web::Data<AppState>,
    _admin: Admin,
    params: web::Query<AuditParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let limit = params.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::bad_request("invalid_query", "limit is 1 to 100."));
    }
    let filter = Filter {
        subject: params.subject,
        action: params.action,
        actor: params.actor,
    };
    let cursor = params.cursor;
    let rows = db::run_retrying(&state.pool, move |conn| {
        Ok(super::list(conn, &filter, cursor.as_deref(), limit + 1)?)
    })
    .await?;
    let page = Page::of(rows, limit, |r| r.id.clone(), AuditItem::from);
    Ok(HttpResponse::Ok().json(page))
}
