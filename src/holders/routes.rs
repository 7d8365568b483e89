//! `POST /v1/holders` and `GET /v1/me`.

use actix_web::http::header;
use actix_web::{get, post, web, HttpResponse};
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::queries;
use super::types::{HolderView, RegisterHolder};
use crate::app::AppState;
use crate::auth::Holder;
use crate::db;
use crate::error::ApiError;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(register)
        .service(me)
        .service(super::login::login);
}

/// Register a certificate holder account.
///
/// Holders still overseas register the same way. The identity document number is kept
/// only as a keyed hash and its last four characters.
#[utoipa::path(
    tag = "holders", security(()),
    request_body = RegisterHolder,
    responses(
        (status = 201, body = HolderView, description = "The new account"),
        (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "The email is taken"),
    )
)]
#[post("/v1/holders")]
pub async fn register(
    state: web::Data<AppState>,
    body: web::Json<RegisterHolder>,
) -> Result<HttpResponse, ApiError> {
    let new = body
        .into_inner()
        .validate(chrono::Utc::now().date_naive())
        .map_err(ApiError::validation)?;
    // Hash before taking a connection: argon2 is slow on purpose and must not hold one.
    let hasher = state.hasher.clone();
    let password = new.password.clone();
    let hash = web::block(move || hasher.hash(&password))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    let pii = state.pii.clone();
    let view = db::run(&state.pool, move |conn| {
        match queries::insert(conn, &new, &hash, &pii) {
            Ok(row) => Ok(row.view()),
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Err(
                ApiError::conflict("email_taken", "An account with this email exists."),
            ),
            Err(e) => Err(e.into()),
        }
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, "/v1/me"))
        .json(view))
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
