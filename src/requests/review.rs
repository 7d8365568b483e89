//! Manual review: the queue of requests no issuing body could settle, and admins' decisions.

use actix_web::{get, post, web, HttpResponse};
use diesel::result::Error as DieselError;
use serde::Deserialize;
use utoipa::ToSchema;

use super::queries;
use super::routes::page_of;
use super::settle::{settle, Method, Settlement};
use super::types::AdminRequestView;
use crate::app::AppState;
use crate::auth::Admin;
use crate::db::{self, write_transaction};
use crate::domain::outcome::Outcome;
use crate::domain::request_state::RequestState;
use crate::error::{ApiError, FieldError};
use crate::page::ListParams;
use crate::page::Page;
use crate::records::RecordsState;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(queue).service(decide);
}

/// Requests waiting for an admin's decision, oldest first.
#[utoipa::path(tag = "admin", security(("client_credentials" = ["admin"])), params(ListParams), responses((status = 200, body = Page<AdminRequestView>)))]
#[get("/v1/admin/review-queue")]
pub async fn queue(
    state: web::Data<AppState>,
    _admin: Admin,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = params.checked_limit()?;
    let cursor = params.cursor.clone();
    let page = db::run_retrying(&state.pool, move |conn| {
        let rows = queries::list_in_state(
            conn,
            RequestState::ManualReview,
            cursor.as_deref(),
            limit + 1,
        )?;
        Ok(page_of(conn, rows, limit, queries::admin_view)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewDecision {
    #[schema(value_type = crate::domain::sets::Verdict)]
    pub decision: String,
    /// Why, for the audit log and the holder's history.
    #[schema(min_length = 1, max_length = 2000, pattern = r"\S")]
    pub note: String,
    /// For a rejection only (default `mismatch`).
    #[serde(default)]
    #[schema(value_type = Option<crate::domain::sets::Rejection>)]
    pub outcome: Option<String>,
}

/// Decide a request in manual review; recorded with who decided.
#[utoipa::path(tag = "admin", security(("client_credentials" = ["admin"])), params(("id" = String, Path)), request_body = ReviewDecision,
    responses((status = 200, body = AdminRequestView), (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "Not in manual review")))]
#[post("/v1/admin/verification-requests/{id}/decision")]
pub async fn decide(
    state: web::Data<AppState>,
    records: web::Data<RecordsState>,
    admin: Admin,
    id: web::Path<String>,
    body: web::Json<ReviewDecision>,
) -> Result<HttpResponse, ApiError> {
    let ReviewDecision {
        decision,
        note,
        outcome,
    } = body.into_inner();
    let outcome = match (decision.as_str(), outcome.as_deref()) {
        ("confirmed", None) => Outcome::Confirmed,
        ("rejected", None | Some("mismatch")) => Outcome::Mismatch,
        ("rejected", Some("not_found")) => Outcome::NotFound,
        _ => {
            return Err(ApiError::validation(vec![FieldError::new(
                "decision",
                "invalid",
                "confirmed, or rejected with outcome not_found or mismatch.",
            )]))
        }
    };
    let note = note.trim().to_owned();
    if note.is_empty() || note.chars().count() > 2000 {
        return Err(ApiError::validation(vec![FieldError::new(
            "note",
            "invalid",
            "1 to 2000 characters.",
        )]));
    }
    let shared = state.clone();
    let view = db::run(&state.pool, move |conn| {
        write_transaction(conn, |conn| {
            let row = queries::find(conn, &id)?
                .ok_or_else(|| ApiError::not_found("No such verification request."))?;
            if row.state() != RequestState::ManualReview {
                return Err(ApiError::conflict(
                    "not_in_review",
                    format!(
                        "The request is {}, not in manual review.",
                        row.state().as_str()
                    ),
                ));
            }
            let settlement = Settlement {
                outcome,
                method: Method::ManualReview,
                certificate_facts: None,
                actor: &admin.id,
                note: Some(&note),
            };
            settle(conn, &records.issuance(&shared), &row, &settlement)?;
            crate::audit::append(
                conn,
                &crate::audit::Entry {
                    actor: &format!("admin:{}", admin.id),
                    action: "review.decided",
                    subject: Some(&row.id),
                    details: serde_json::json!({"outcome": outcome.as_str(), "note": note}),
                },
            )?;
            let row = queries::find(conn, &row.id)?.ok_or(DieselError::NotFound)?;
            Ok(queries::admin_view(conn, &row)?)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}
