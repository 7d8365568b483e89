//! Finding a record without its id: by share code (anyone, minimally; agencies, fully) and
//! by identity document (agencies with `records:search`).

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::holder_queries as hq;
use super::holder_routes::parse_code;
use super::queries::RecordRow;
use super::routes::{respond, ReadParams};
use super::types::{RecordStatus, RecordView};
use crate::app::AppState;
use crate::auth::extract::{Agency, SCOPE_RECORDS_READ, SCOPE_RECORDS_SEARCH};
use crate::db::{self, write_transaction};
use crate::domain::country_code;
use crate::domain::identity::{normalize_number, IdentityDocument};
use crate::error::{ApiError, FieldError};
use crate::page::Page;

pub const MAX_PURPOSE_CHARS: usize = 500;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(check_share_code)
        .service(by_share_code)
        .service(search);
}

/// What anyone holding a share code may see: enough to trust it, nothing to profile with.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShareCodeCheck {
    /// The holder's name as the issuing body confirmed it.
    pub name: String,
    pub qualification: CheckedQualification,
    #[schema(example = json!(["A", "C"]))]
    pub categories: Vec<String>,
    pub status: RecordStatus,
    /// The record's validity (its credential's validFrom and validUntil).
    pub valid_from: String,
    pub valid_until: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckedQualification {
    pub code: String,
    pub name: String,
    pub name_zh: Option<String>,
}

impl ShareCodeCheck {
    /// What the record's credential says, with its live status: also what the PDF
    /// report prints.
    pub fn of(row: &RecordRow) -> Self {
        let credential = row.credential_value();
        let subject = &credential["credentialSubject"];
        let q = &subject["qualification"];
        let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        Self {
            name: text(&subject["name"]),
            qualification: CheckedQualification {
                code: text(&q["code"]),
                name: text(&q["name"]),
                name_zh: q["nameZh"].as_str().map(str::to_owned),
            },
            categories: q["categories"]
                .as_array()
                .map(|c| {
                    c.iter()
                        .filter_map(|c| c.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            status: row.live_status(),
            valid_from: text(&credential["validFrom"]),
            valid_until: text(&credential["validUntil"]),
        }
    }
}

/// Check a share code: the holder's name, the qualification, its categories, the record's
/// status and validity. Public; look-ups are rate-limited per client address.
#[utoipa::path(tag = "records", security(()), params(("code" = String, Path)),
    responses((status = 200, body = ShareCodeCheck),
        (status = 400, body = crate::error::Problem, content_type = "application/problem+json", description = "Not a share code (invalid_share_code)"),
        (status = 429, body = crate::error::Problem, content_type = "application/problem+json", description = "Too many look-ups; see Retry-After")))]
#[get("/v1/share-codes/{code}")]
pub async fn check_share_code(
    req: HttpRequest,
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let check = check_share_code_for(&req, &state, &code).await?;
    Ok(HttpResponse::Ok().json(check))
}

/// What anyone holding `code` may see, rate-limited per client address: the one
/// operation behind `GET /v1/share-codes/{code}` and the page `/check/{code}`.
pub async fn check_share_code_for(
    req: &HttpRequest,
    state: &AppState,
    code: &str,
) -> Result<ShareCodeCheck, ApiError> {
    let address = crate::auth::ratelimit::client_address(req);
    state.share_code_limiter.check(req, &address.to_string())?;
    let code = parse_code(code)?;
    let row = db::run_retrying(&state.pool, move |conn| {
        write_transaction(conn, |conn| {
            Ok::<_, ApiError>(hq::check_share_code(conn, &code)?)
        })
    })
    .await?
    .ok_or_else(no_such_code)?;
    Ok(ShareCodeCheck::of(&row))
}

fn no_such_code() -> ApiError {
    ApiError::not_found("No such share code, or it has expired or been deleted.")
}

/// Read the record a holder's share code opens, as `GET /v1/records/{id}` does (JSON, or
/// vc+jwt with `Accept`). Logged for the holder as a read by share code.
#[utoipa::path(tag = "records", security(("client_credentials" = ["records:read"])),
    params(("code" = String, Path), ReadParams),
    responses((status = 200, description = "The record: JSON by default, a VC-JOSE compact JWS with `Accept: application/vc+jwt`",
                content((RecordView = "application/json"), (String = "application/vc+jwt"))),
        (status = 400, body = crate::error::Problem, content_type = "application/problem+json", description = "Not a share code (invalid_share_code)"),
        (status = 429, body = crate::error::Problem, content_type = "application/problem+json", description = "Too many look-ups; see Retry-After")))]
#[get("/v1/records/by-share-code/{code}")]
pub async fn by_share_code(
    req: HttpRequest,
    state: web::Data<AppState>,
    agency: Agency,
    code: web::Path<String>,
    params: web::Query<ReadParams>,
) -> Result<HttpResponse, ApiError> {
    agency.require(SCOPE_RECORDS_READ)?;
    state
        .share_code_limiter
        .check(&req, &format!("agency:{}", agency.id))?;
    let code = parse_code(&code)?;
    let purpose = params.into_inner().purpose()?;
    let row = db::run_retrying(&state.pool, move |conn| {
        write_transaction(conn, |conn| {
            Ok::<_, ApiError>(hq::read_by_share_code(
                conn,
                &agency,
                &code,
                purpose.as_deref(),
            )?)
        })
    })
    .await?
    .ok_or_else(no_such_code)?;
    respond(&req, &state, &row)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchDocument {
    /// A lower-case slug such as `passport`.
    #[serde(rename = "type")]
    #[schema(example = "passport", pattern = r"^\s*[a-z_]{2,32}\s*$")]
    pub doc_type: String,
    /// 3 to 32 letters and digits; spaces and hyphens are ignored.
    #[schema(example = "FZ1234567", pattern = r"^[\s-]*([A-Za-z0-9][\s-]*){3,32}$")]
    pub number: String,
    /// ISO 3166-1 alpha-2 of the issuing country.
    #[schema(example = "BR", value_type = crate::domain::CountryCode)]
    pub nationality: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchRecords {
    pub identity_document: SearchDocument,
    /// Why the agency searches; logged, and shown to the holder.
    #[schema(
        example = "work permit application 2026-0042",
        min_length = 1,
        max_length = 500,
        pattern = r"\S"
    )]
    pub purpose: String,
}

impl SearchRecords {
    fn validate(&self) -> Result<(IdentityDocument, String), Vec<FieldError>> {
        let mut errors = Vec::new();
        let doc = &self.identity_document;
        let doc_type = doc.doc_type.trim();
        if !(2..=32).contains(&doc_type.len())
            || !doc_type.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        {
            errors.push(FieldError::new(
                "identity_document.type",
                "invalid",
                "A lower-case slug such as passport.",
            ));
        }
        let number = normalize_number(&doc.number);
        if !(3..=32).contains(&number.len()) || !number.chars().all(|c| c.is_ascii_alphanumeric()) {
            errors.push(FieldError::new(
                "identity_document.number",
                "invalid",
                "3 to 32 letters and digits (spaces and hyphens are ignored).",
            ));
        }
        let nationality = country_code(&doc.nationality);
        if nationality.is_none() {
            errors.push(FieldError::new(
                "identity_document.nationality",
                "invalid",
                "An ISO 3166-1 alpha-2 code.",
            ));
        }
        let purpose = self.purpose.trim();
        if purpose.is_empty() || purpose.chars().count() > MAX_PURPOSE_CHARS {
            errors.push(FieldError::new(
                "purpose",
                "required",
                format!("Say why you search, in 1 to {MAX_PURPOSE_CHARS} characters."),
            ));
        }
        match nationality {
            Some(nat) if errors.is_empty() => Ok((
                IdentityDocument::new(doc_type, &nat, &number),
                purpose.to_owned(),
            )),
            _ => Err(errors),
        }
    }
}

/// Find the records of an identity document. Needs `records:search` and a purpose; every
/// record found is logged as read, with that purpose, for its holder to see.
#[utoipa::path(tag = "records", security(("client_credentials" = ["records:search"])),
    request_body = SearchRecords, responses((status = 200, body = Page<RecordView>)))]
#[post("/v1/records/search")]
pub async fn search(
    state: web::Data<AppState>,
    agency: Agency,
    body: web::Json<SearchRecords>,
) -> Result<HttpResponse, ApiError> {
    agency.require(SCOPE_RECORDS_SEARCH)?;
    let (document, purpose) = body.validate().map_err(ApiError::validation)?;
    let hmac = state.pii.document_digest(&document);
    let rows = db::run(&state.pool, move |conn| {
        write_transaction(conn, |conn| {
            Ok::<_, ApiError>(hq::search(conn, &agency, &hmac, &purpose)?)
        })
    })
    .await?;
    let limit = rows.len() as i64;
    Ok(HttpResponse::Ok().json(Page::of(rows, limit, |r| r.id.clone(), |r| r.view())))
}
