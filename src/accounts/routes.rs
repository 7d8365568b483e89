//! `POST /v1/admin/agencies`.

use actix_web::{post, web, HttpResponse};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{new_client_secret, queries, AccountKind};
use crate::app::AppState;
use crate::auth::extract::AGENCY_SCOPES;
use crate::auth::Admin;
use crate::db;
use crate::error::{ApiError, FieldError};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_agency).service(super::token::token);
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateAgency {
    #[schema(
        example = "Shanghai Exit-Entry Administration",
        min_length = 1,
        max_length = 200,
        pattern = r"\S"
    )]
    pub name: String,
    /// At least one; a scope named twice counts once.
    #[schema(value_type = Vec<crate::auth::extract::AgencyScope>, min_items = 1, example = json!(["records:read", "eligibility:check"]))]
    pub scopes: Vec<String>,
}

/// The new agency account. `client_secret` is shown here once and never again.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedAgency {
    pub id: String,
    pub client_id: String,
    pub client_secret: String,
    pub name: String,
    pub scopes: Vec<String>,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "crate::domain::rfc3339")]
    pub created_at: NaiveDateTime,
}

impl CreateAgency {
    fn validate(self) -> Result<(String, Vec<String>), Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = self.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 200 {
            errors.push(FieldError::new(
                "name",
                "invalid",
                "A name of 1 to 200 characters.",
            ));
        }
        let mut scopes = self.scopes;
        scopes.sort();
        scopes.dedup();
        if scopes.is_empty() {
            errors.push(FieldError::new("scopes", "empty", "At least one scope."));
        }
        for (i, scope) in scopes.iter().enumerate() {
            if !AGENCY_SCOPES.contains(&scope.as_str()) {
                errors.push(FieldError::new(
                    format!("scopes[{i}]"),
                    "unknown_scope",
                    format!("{scope} is not one of {}.", AGENCY_SCOPES.join(", ")),
                ));
            }
        }
        if errors.is_empty() {
            Ok((name, scopes))
        } else {
            Err(errors)
        }
    }
}

/// Register an agency as an OAuth2 client.
#[utoipa::path(
    tag = "admin", security(("client_credentials" = ["admin"])),
    request_body = CreateAgency,
    responses((status = 201, body = CreatedAgency))
)]
#[post("/v1/admin/agencies")]
pub async fn create_agency(
    state: web::Data<AppState>,
    admin: Admin,
    body: web::Json<CreateAgency>,
) -> Result<HttpResponse, ApiError> {
    let (name, scopes) = body.into_inner().validate().map_err(ApiError::validation)?;
    let secret = new_client_secret();
    let hasher = state.hasher.clone();
    let to_hash = secret.clone();
    let hash = web::block(move || hasher.hash(&to_hash))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    let row = db::run(&state.pool, move |conn| {
        Ok(queries::insert(
            conn,
            AccountKind::Agency,
            &name,
            &scopes,
            &hash,
            Some(&admin.id),
        )?)
    })
    .await?;
    tracing::info!(client_id = %row.client_id, created_by = %admin.client_id, "agency account created");
    Ok(HttpResponse::Created().json(CreatedAgency {
        scopes: row.scope_list(),
        id: row.id,
        client_id: row.client_id,
        client_secret: secret,
        name: row.name,
        created_at: row.created_at,
    }))
}
