//! Agencies' record reads, and the public parts of records: status lists and did.json.

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use diesel::prelude::*;
use serde::Deserialize;
use utoipa::IntoParams;

use super::queries::RecordRow;
use super::types::{AccessVia, RecordView};
use super::{did, jose, proof, status_list};
use crate::app::AppState;
use crate::auth::extract::{Agency, SCOPE_RECORDS_READ};
use crate::db;
use crate::db::schema::{records, status_lists};
use crate::error::ApiError;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(record)
        .service(status_list_credential)
        .service(did_document)
        .service(jwks);
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ReadParams {
    /// Why the agency reads the record; shown to the holder in their access log (at most
    /// 500 characters).
    #[param(max_length = 500)]
    pub purpose: Option<String>,
}

impl ReadParams {
    /// The stated purpose, trimmed; None when blank. It goes into the holder's access log,
    /// so it is bounded like a search's purpose.
    pub fn purpose(self) -> Result<Option<String>, ApiError> {
        let purpose = self.purpose.map(|p| p.trim().to_owned());
        match purpose {
            Some(p) if p.chars().count() > super::lookup_routes::MAX_PURPOSE_CHARS => {
                Err(ApiError::bad_request(
                    "invalid_query",
                    format!(
                        "purpose is at most {} characters.",
                        super::lookup_routes::MAX_PURPOSE_CHARS
                    ),
                ))
            }
            Some(p) if p.is_empty() => Ok(None),
            other => Ok(other),
        }
    }
}

/// One record, as JSON (`{id, status, status_reason, credential}`) or, with
/// `Accept: application/vc+jwt`, as a VC-JOSE compact JWS. Every read is logged for the
/// holder.
#[utoipa::path(tag = "records", security(("client_credentials" = ["records:read"])),
    params(("id" = String, Path), ReadParams),
    responses((status = 200, description = "The record: JSON by default, a VC-JOSE compact JWS with `Accept: application/vc+jwt`",
                content((RecordView = "application/json"), (String = "application/vc+jwt")))))]
#[get("/v1/records/{id}")]
pub async fn record(
    req: HttpRequest,
    state: web::Data<AppState>,
    running: web::Data<super::RecordsState>,
    agency: Agency,
    id: web::Path<String>,
    params: web::Query<ReadParams>,
) -> Result<HttpResponse, ApiError> {
    agency.require(SCOPE_RECORDS_READ)?;
    let purpose = params.into_inner().purpose()?;
    let id = id.into_inner();
    // Read and logged together, grouped with other reads into one commit; answered only
    // once the log is committed.
    let row = running
        .access_log
        .read(id, agency, AccessVia::Id, purpose)
        .await?
        .ok_or_else(|| ApiError::not_found("No such record."))?;
    respond(&req, &state, &row)
}

/// Answers with the JSON view, or the vc+jwt form when the client asks for it.
pub fn respond(
    req: &HttpRequest,
    state: &AppState,
    row: &RecordRow,
) -> Result<HttpResponse, ApiError> {
    let wants_jwt = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains(jose::VC_JWT_MEDIA_TYPE));
    if wants_jwt {
        let jwt = jwt_of(state, row)?;
        return Ok(HttpResponse::Ok()
            .content_type(jose::VC_JWT_MEDIA_TYPE)
            .insert_header((header::VARY, "Accept"))
            .body(jwt));
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::VARY, "Accept"))
        .json(row.view()))
}

/// The record as a VC-JOSE compact JWS (`application/vc+jwt`), signed with the active key.
pub fn jwt_of(state: &AppState, row: &RecordRow) -> Result<String, ApiError> {
    jose::encode(
        &row.credential_value(),
        &state.keys,
        &did::did_web(&state.public_url),
    )
}

/// A Bitstring Status List credential (revocation or suspension), signed like records.
/// Public and cacheable for 5 minutes.
#[utoipa::path(tag = "records", security(()), params(("id" = String, Path)),
    responses((status = 200, body = Object, description = "BitstringStatusListCredential"), (status = 304)))]
#[get("/v1/status-lists/{id}")]
pub async fn status_list_credential(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let signed = signed_status_list(&state, id.into_inner()).await?;
    crate::cache::json(&req, &signed, 300)
}

/// The signed list credential `GET /v1/status-lists/{id}` serves; the page `/verify`
/// checks records against it without a request to itself.
pub async fn signed_status_list(
    state: &AppState,
    id: String,
) -> Result<serde_json::Value, ApiError> {
    let list_id = id.clone();
    let (purpose, size, updated_at, set) = db::run_retrying(&state.pool, move |conn| {
        let id = list_id.clone();
        let list: (String, i64, chrono::NaiveDateTime) = status_lists::table
            .find(&id)
            .select((
                status_lists::purpose,
                status_lists::size,
                status_lists::updated_at,
            ))
            .first(conn)
            .optional()?
            .ok_or_else(|| ApiError::not_found("No such status list."))?;
        let set: Vec<i64> = if list.0 == "revocation" {
            records::table
                .filter(records::revocation_list.eq(&id))
                .filter(records::status.eq("revoked"))
                .select(records::revocation_index)
                .load(conn)?
        } else {
            records::table
                .filter(records::suspension_list.eq(&id))
                .filter(records::status.eq("suspended"))
                .select(records::suspension_index)
                .load(conn)?
        };
        Ok((list.0, list.1, list.2, set))
    })
    .await?;
    let encoded = status_list::encode(size, &set).map_err(ApiError::internal)?;
    let url = format!("{}/v1/status-lists/{id}", state.public_url);
    let issuer = did::did_web(&state.public_url);
    // validFrom and created are the list's last change, so the signed document (Ed25519 is
    // deterministic) and its ETag change only when a bit does.
    let at = updated_at
        .and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let unsigned = status_list::credential(&url, &issuer, &purpose, &encoded, &at);
    let key = state.keys.active();
    let signed = proof::sign(
        &unsigned,
        &proof::ProofOptions {
            verification_method: did::method_id(&issuer, &key.kid),
            created: at,
            proof_purpose: "assertionMethod".into(),
        },
        &key.signing,
    )
    .map_err(ApiError::internal)?;
    Ok(signed)
}

/// The platform's DID document (did:web): every published key as a Multikey under
/// assertionMethod.
#[utoipa::path(tag = "keys", security(()), responses((status = 200, body = Object, content_type = "application/did+json", description = "The platform's did:web document")))]
#[get("/.well-known/did.json")]
pub async fn did_document(state: web::Data<AppState>) -> HttpResponse {
    let did = did::did_web(&state.public_url);
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .content_type("application/did+json")
        .json(did::document(&did, &state.keys.published()))
}

/// The platform's public signing keys as a JWK set: they verify access tokens now, and
/// protocol messages and records once those are issued.
#[utoipa::path(tag = "keys", security(()), responses((status = 200, body = crate::auth::keys::JwkSet)))]
#[get("/.well-known/jwks.json")]
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(state.keys.jwks())
}
