//! Admin writes to the registry. Each request is one write transaction that also records
//! the change; PATCH bodies are JSON merge patches (RFC 7396) over the item's current form.

use actix_web::{patch, post, web, HttpResponse};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::input::{IssuingBodyInput, ListVersionInput, QualificationInput, UrlPolicy};
use super::types::{IssuingBodyView, ListVersion, PublicJwk, QualificationView};
use super::{queries, store, ListingEffects};
use crate::app::AppState;
use crate::auth::Admin;
use crate::db::{self, write_transaction, DbConnection};
use crate::error::{ApiError, FieldError};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_list_version)
        .service(create_body)
        .service(patch_body)
        .service(add_key)
        .service(retire_key)
        .service(create_qualification)
        .service(patch_qualification)
        .service(remove_qualification)
        .service(restore_qualification);
}

fn url_policy(state: &AppState) -> UrlPolicy {
    UrlPolicy {
        allow_http: state.settings.allow_http_issuers,
    }
}

/// Runs `f` in one write transaction on the blocking pool.
async fn write<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    db::run(&state.pool, move |conn| write_transaction(conn, f)).await
}

fn body_view(conn: &mut DbConnection, id: &str) -> Result<IssuingBodyView, ApiError> {
    let row = queries::find_body(conn, id)?
        .ok_or_else(|| ApiError::not_found("No such issuing body."))?;
    let keys = queries::body_keys(conn, &row.id)?;
    Ok(row.view(&keys))
}

/// Applies a merge patch to an item's current form; identity fields cannot change.
fn patched<T: serde::Serialize + serde::de::DeserializeOwned>(
    current: &T,
    patch: &Value,
    fixed: &[&str],
) -> Result<T, ApiError> {
    if !patch.is_object() {
        return Err(ApiError::bad_request(
            "invalid_patch",
            "A merge patch must be a JSON object.",
        ));
    }
    let errors: Vec<FieldError> = fixed
        .iter()
        .filter(|f| patch.get(**f).is_some())
        .map(|f| FieldError::new(*f, "immutable", "This field cannot be changed."))
        .collect();
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let mut doc = serde_json::to_value(current).map_err(ApiError::internal)?;
    super::input::merge_patch(&mut doc, patch);
    serde_json::from_value(doc).map_err(|e| {
        ApiError::new(
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            format!("The patched item is not valid: {e}"),
        )
    })
}

/// Add a list version.
#[utoipa::path(tag = "admin", security(("client_credentials" = ["admin"])), request_body = ListVersionInput,
    responses((status = 201, body = ListVersion), (status = 409, body = crate::error::Problem, content_type = "application/problem+json")))]
#[post("/v1/admin/list-versions")]
pub async fn create_list_version(
    state: web::Data<AppState>,
    admin: Admin,
    body: web::Json<ListVersionInput>,
) -> Result<HttpResponse, ApiError> {
    let v = body
        .into_inner()
        .validate("")
        .map_err(ApiError::validation)?;
    let out = ListVersion {
        version: v.version.clone(),
        title: v.title.clone(),
        published_on: v.published_on,
        effective_on: v.effective_on,
        notes: v.notes.clone(),
    };
    write(&state, move |conn| {
        store::insert_list_version(conn, &v, &admin.id)
    })
    .await?;
    Ok(HttpResponse::Created().json(out))
}

/// Register an issuing body.
#[utoipa::path(tag = "admin", security(("client_credentials" = ["admin"])), request_body = IssuingBodyInput,
    responses((status = 201, body = IssuingBodyView), (status = 409, body = crate::error::Problem, content_type = "application/problem+json")))]
#[post("/v1/admin/issuing-bodies")]
pub async fn create_body(
    state: web::Data<AppState>,
    admin: Admin,
    body: web::Json<IssuingBodyInput>,
) -> Result<HttpResponse, ApiError> {
    let spec = body
        .into_inner()
        .validate("", url_policy(&state))
        .map_err(ApiError::validation)?;
    let view = write(&state, move |conn| {
        let row = store::write_body(conn, None, &spec, &admin.id)?;
        body_view(conn, &row.id)
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// Change an issuing body, or suspend it (`{"status": "suspended"}`). Keys change through
/// their own endpoints; the code never changes.
#[utoipa::path(tag = "admin", security(("client_credentials" = ["admin"])), params(("id" = String, Path)),
    request_body(content = Object, description = "JSON merge patch over the body's fields"),
    responses((status = 200, body = IssuingBodyView)))]
#[patch("/v1/admin/issuing-bodies/{id}")]
pub async fn patch_body(
    state: web::Data<AppState>,
    admin: Admin,
    id: web::Path<String>,
    patch: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let urls = url_policy(&state);
    let view = write(&state, move |conn| {
        let row = queries::find_body(conn, &id)?
            .ok_or_else(|| ApiError::not_found("No such issuing body."))?;
        let keys = queries::body_keys(conn, &row.id)?;
        let spec: IssuingBodyInput =
            patched(&row.to_input(&keys), &patch, &["code", "public_keys"])?;
        let spec = spec.validate("", urls).map_err(ApiError::validation)?;
        store::write_body(conn, Some(&row), &spec, &admin.id)?;
        body_view(conn, &row.id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Add an Ed25519 public key (a JWK with a kid) to an issuing body.
#[utoipa::path(tag = "admin", security(("client_credentials" = ["admin"])), params(("id" = String, Path)), request_body = PublicJwk,
    responses((status = 201, body = IssuingBodyView), (status = 409, body = crate::error::Problem, content_type = "application/problem+json")))]
#[post("/v1/admin/issuing-bodies/{id}/keys")]
pub async fn add_key(
    state: web::Data<AppState>,
    admin: Admin,
    id: web::Path<String>,
    key: web::Json<PublicJwk>,
) -> Result<HttpResponse, ApiError> {
    let key = key.into_inner();
    super::input::check_jwk(&key)
        .map_err(|m| ApiError::validation(vec![FieldError::new("x", "invalid", m)]))?;
    let view = write(&state, move |conn| {
        let row = queries::find_body(conn, &id)?
            .ok_or_else(|| ApiError::not_found("No such issuing body."))?;
        store::add_key(conn, &row, &key, &admin.id)?;
        body_view(conn, &row.id)
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// Retire a key: it no longer verifies anything.
#[utoipa::path(tag = "admin", security(("client_credentials" = ["admin"])), params(("id" = String, Path), ("kid" = String, Path)),
    responses((status = 200, body = IssuingBodyView)))]
#[post("/v1/admin/issuing-bodies/{id}/keys/{kid}/retire")]
pub async fn retire_key(
    state: web::Data<AppState>,
    admin: Admin,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, kid) = path.into_inner();
    let view = write(&state, move |conn| {
        let row = queries::find_body(conn, &id)?
            .ok_or_else(|| ApiError::not_found("No such issuing body."))?;
        store::retire_key(conn, &row, &kid, &admin.id)?;
        body_view(conn, &row.id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

fn qualification_view(conn: &mut DbConnection, id: &str) -> Result<QualificationView, ApiError> {
    let (q, body) = queries::find_qualification(conn, id)?
        .ok_or_else(|| ApiError::not_found("No such qualification."))?;
    Ok(q.view(&body))
}

/// Add a qualification to the list.
#[utoipa::path(tag = "admin", security(("client_credentials" = ["admin"])), request_body = QualificationInput,
    responses((status = 201, body = QualificationView), (status = 409, body = crate::error::Problem, content_type = "application/problem+json")))]
#[post("/v1/admin/qualifications")]
pub async fn create_qualification(
    state: web::Data<AppState>,
    admin: Admin,
    body: web::Json<QualificationInput>,
) -> Result<HttpResponse, ApiError> {
    let mut input = body.into_inner();
    if input.status.is_some() || input.removal.is_some() {
        return Err(ApiError::validation(vec![FieldError::new(
            "status",
            "not_here",
            "Use the remove endpoint to remove.",
        )]));
    }
    input.issuing_body_id = input.issuing_body_id.or(input.issuing_body.take());
    let (spec, categories) = input.validate("").map_err(ApiError::validation)?;
    let view = write(&state, move |conn| {
        let row = store::write_qualification(conn, None, &spec, &categories, "", &admin.id)?;
        qualification_view(conn, &row.id)
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// Change a qualification (its code and listing status stay; use remove and restore).
#[utoipa::path(tag = "admin", security(("client_credentials" = ["admin"])), params(("id" = String, Path)),
    request_body(content = Object, description = "JSON merge patch over the qualification's fields"),
    responses((status = 200, body = QualificationView)))]
#[patch("/v1/admin/qualifications/{id}")]
pub async fn patch_qualification(
    state: web::Data<AppState>,
    admin: Admin,
    id: web::Path<String>,
    patch: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let view = write(&state, move |conn| {
        let current = queries::find_qualification(conn, &id)?
            .ok_or_else(|| ApiError::not_found("No such qualification."))?;
        let mut base = current.0.to_input(&current.1.code);
        // The admin API names the body by id; the stored form names it by code.
        base.issuing_body = None;
        base.issuing_body_id = Some(current.1.id.clone());
        let spec: QualificationInput = patched(
            &base,
            &patch,
            &["code", "status", "removal", "issuing_body"],
        )?;
        let (spec, categories) = spec.validate("").map_err(ApiError::validation)?;
        store::write_qualification(conn, Some(&current), &spec, &categories, "", &admin.id)?;
        qualification_view(conn, &current.0.id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoveRequest {
    /// The list version that removes it.
    #[schema(pattern = r"^\s*[0-9.]{1,16}\s*$", example = "3.0")]
    pub list_version: String,
    #[schema(min_length = 1, max_length = 2000, pattern = r"\S")]
    pub reason: String,
}

/// Take a qualification off the list. Nothing is deleted: it stays readable with
/// `status=removed` and can be restored.
#[utoipa::path(tag = "admin", security(("client_credentials" = ["admin"])), params(("id" = String, Path)), request_body = RemoveRequest,
    responses((status = 200, body = QualificationView), (status = 409, body = crate::error::Problem, content_type = "application/problem+json")))]
#[post("/v1/admin/qualifications/{id}/remove")]
pub async fn remove_qualification(
    state: web::Data<AppState>,
    effects: web::Data<ListingEffects>,
    admin: Admin,
    id: web::Path<String>,
    body: web::Json<RemoveRequest>,
) -> Result<HttpResponse, ApiError> {
    let RemoveRequest {
        list_version,
        reason,
    } = body.into_inner();
    let reason = reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > 2000 {
        return Err(ApiError::validation(vec![FieldError::new(
            "reason",
            "invalid",
            "1 to 2000 characters.",
        )]));
    }
    let view = write(&state, move |conn| {
        let current = queries::find_qualification(conn, &id)?
            .ok_or_else(|| ApiError::not_found("No such qualification."))?;
        store::set_listing(
            conn,
            &current,
            Some((list_version.trim(), &reason)),
            &admin.id,
            &effects,
        )?;
        qualification_view(conn, &current.0.id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Put a removed qualification back on the list.
#[utoipa::path(tag = "admin", security(("client_credentials" = ["admin"])), params(("id" = String, Path)),
    responses((status = 200, body = QualificationView), (status = 409, body = crate::error::Problem, content_type = "application/problem+json")))]
#[post("/v1/admin/qualifications/{id}/restore")]
pub async fn restore_qualification(
    state: web::Data<AppState>,
    effects: web::Data<ListingEffects>,
    admin: Admin,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = write(&state, move |conn| {
        let current = queries::find_qualification(conn, &id)?
            .ok_or_else(|| ApiError::not_found("No such qualification."))?;
        store::set_listing(conn, &current, None, &admin.id, &effects)?;
        qualification_view(conn, &current.0.id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}
