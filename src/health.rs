//! Liveness, readiness and the metrics scrape.

use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::db;
use crate::error::ApiError;
use crate::ops::metrics::Metrics;

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `up` or `ready`.
    pub status: String,
}

/// The process is up and answering.
#[utoipa::path(tag = "operations", security(()), responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "up".into(),
    })
}

/// The database is reachable and its schema is current.
#[utoipa::path(
    tag = "operations", security(()),
    responses((status = 200, body = Health), (status = 503, body = crate::error::Problem, content_type = "application/problem+json"))
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let pending = db::run_retrying(&state.pool, |conn| {
        db::migrations::has_pending(conn).map_err(ApiError::unavailable)
    })
    .await?;
    if pending {
        return Err(ApiError::new(
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            "migrations_pending",
            "The database schema is behind this binary; run `certverify migrate`.",
        ));
    }
    Ok(HttpResponse::Ok().json(Health {
        status: "ready".into(),
    }))
}

/// Prometheus text exposition.
#[utoipa::path(tag = "operations", security(()), responses((status = 200, content_type = "text/plain", body = String)))]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>, metrics: web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(metrics.render(&state.pool))
}
