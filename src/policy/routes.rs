//! The services table (public) and eligibility decisions (agencies with eligibility:check).

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{decide, queries, record_services, DecideError, Decision, Facts, RecordServices};
use super::{PolicyTable, Service, ServiceCode, Source};
use crate::app::AppState;
use crate::auth::extract::{Agency, SCOPE_ELIGIBILITY_CHECK};
use crate::cache;
use crate::db::{self, write_transaction, DbConnection};
use crate::domain::qualification::Category;
use crate::error::{ApiError, FieldError};
use crate::records::share_code::ShareCode;
use crate::records::types::AccessVia;
use crate::records::{self, RecordRow};

/// The table changes only with a deployment; an hour of caching is safe with the ETag.
const MAX_AGE_SECS: u32 = 3600;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_services)
        .service(eligibility)
        .service(services_of_record);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ServicesQuery {
    /// Only the services of this category (A, B, C or D).
    #[serde(default, deserialize_with = "crate::page::empty_as_none")]
    category: Option<String>,
}

/// The services table: `items` is a list like every other, with the table's version and
/// the notice it rests on alongside.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServicesPage<'a> {
    pub policy_version: &'a str,
    pub source: &'a Source,
    pub items: Vec<&'a Service>,
    pub next_cursor: Option<String>,
}

/// What each category of the list opens: every service with who may use it, its limits,
/// its conditions, the facts an eligibility check needs, and the notice's sentence.
#[utoipa::path(tag = "policy", security(()), params(ServicesQuery),
    responses((status = 200, body = inline(ServicesPageSchema)), (status = 304, description = "Not modified"),
              (status = 400, body = crate::error::Problem, content_type = "application/problem+json", description = "Unknown category")))]
#[get("/v1/policy/services")]
pub async fn list_services(
    req: HttpRequest,
    policy: web::Data<PolicyTable>,
    query: web::Query<ServicesQuery>,
) -> Result<HttpResponse, ApiError> {
    let category = match query.category.as_deref() {
        None => None,
        Some(text) => Some(Category::parse(text).ok_or_else(|| {
            ApiError::bad_request("invalid_query", "category must be A, B, C or D.")
        })?),
    };
    let table: &PolicyTable = &policy;
    let page = ServicesPage {
        policy_version: table.policy_version(),
        source: table.source(),
        items: table
            .services()
            .iter()
            .filter(|s| category.map_or(true, |c| s.category == c))
            .collect(),
        next_cursor: None,
    };
    cache::json(&req, &page, MAX_AGE_SECS)
}

/// The schema of [`ServicesPage`], which borrows from the table and so cannot derive it.
#[derive(ToSchema)]
#[allow(dead_code)]
struct ServicesPageSchema {
    policy_version: String,
    source: Source,
    items: Vec<Service>,
    next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EligibilityRequest {
    /// The record, by id; or give `share_code` instead (exactly one of the two).
    #[serde(default)]
    pub record_id: Option<String>,
    /// A share code the holder gave the agency.
    #[serde(default)]
    pub share_code: Option<String>,
    #[schema(value_type = ServiceCode)]
    pub service: String,
    /// What only the agency knows; which ones a service needs is in the services table.
    #[serde(default)]
    pub facts: Facts,
}

enum Target {
    Id(String),
    Code(ShareCode),
}

impl EligibilityRequest {
    fn check(&self) -> Result<(Target, ServiceCode), ApiError> {
        let mut errors = Vec::new();
        let target = match (&self.record_id, &self.share_code) {
            (Some(id), None) => Some(Target::Id(id.clone())),
            (None, Some(code)) => match ShareCode::parse(code) {
                Some(code) => Some(Target::Code(code)),
                None => {
                    errors.push(FieldError::new(
                        "share_code",
                        "invalid_share_code",
                        "A share code has 16 characters, as XXXX-XXXX-XXXX-XXXX.",
                    ));
                    None
                }
            },
            (both, _) => {
                let message = if both.is_some() {
                    "Give record_id or share_code, not both."
                } else {
                    "Give record_id or share_code."
                };
                errors.push(FieldError::new("record_id", "exactly_one", message));
                None
            }
        };
        let service = ServiceCode::parse(&self.service);
        if service.is_none() {
            errors.push(FieldError::new(
                "service",
                "unknown_service",
                format!(
                    "{:?} is not a service code of the table (GET /v1/policy/services).",
                    self.service
                ),
            ));
        }
        match (target, service) {
            (Some(target), Some(service)) => Ok((target, service)),
            _ => Err(ApiError::validation(errors)),
        }
    }
}

/// Whether the holder of a record may use a service: decided from the holder's profile and
/// the qualification as the platform knows them now, and the facts the agency gives.
/// The read is written to the holder's access log and the decision to the audit log.
#[utoipa::path(tag = "policy", security(("client_credentials" = ["eligibility:check"])), request_body = EligibilityRequest,
    responses((status = 200, body = Decision),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such record, or no live share code"),
              (status = 429, body = crate::error::Problem, content_type = "application/problem+json", description = "Too many share-code look-ups; see Retry-After"),
              (status = 422, body = crate::error::Problem, content_type = "application/problem+json", description = "Unknown service, not exactly one of record_id and share_code, a malformed share code, or missing facts (code missing_facts, one error per fact)")))]
#[post("/v1/eligibility")]
pub async fn eligibility(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    policy: web::Data<PolicyTable>,
    agency: Agency,
    body: web::Json<EligibilityRequest>,
) -> Result<web::Json<Decision>, ApiError> {
    agency.require(SCOPE_ELIGIBILITY_CHECK)?;
    let body = body.into_inner();
    let (target, service) = body.check()?;
    if let Target::Code(_) = target {
        // Codes are guessable only by volume, so agencies' look-ups by code are counted
        // here as they are on GET /v1/records/by-share-code.
        state
            .share_code_limiter
            .check(&req, &format!("agency:{}", agency.id))?;
    }
    let decision = db::run(&state.pool, move |conn| {
        write_transaction(conn, |conn| {
            let record = find_record(conn, &target)?;
            let subject = queries::subject_of(conn, &record, shanghai_today())?;
            let decision =
                decide(&policy, service.as_str(), &subject, &body.facts).map_err(decide_error)?;
            let name = crate::accounts::name_of(conn, &agency.id)?;
            let via = match target {
                Target::Id(_) => AccessVia::Eligibility,
                Target::Code(_) => AccessVia::ShareCode,
            };
            let purpose = format!("eligibility: {service}");
            records::log_access(conn, &record, &agency, &name, via, Some(&purpose))?;
            queries::audit_decision(conn, &agency, &record, &decision)?;
            Ok(decision)
        })
    })
    .await?;
    Ok(web::Json(decision))
}

/// Every service the record's categories open, each decided from the platform's data alone,
/// or `needs_facts` naming what `POST /v1/eligibility` needs for it. Scope eligibility:check:
/// like a decision, it tells the agency what the holder may use, not the record itself.
#[utoipa::path(tag = "policy", security(("client_credentials" = ["eligibility:check"])),
    params(("id" = String, Path, description = "Record id")),
    responses((status = 200, body = RecordServices),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such record")))]
#[get("/v1/records/{id}/services")]
pub async fn services_of_record(
    state: web::Data<AppState>,
    policy: web::Data<PolicyTable>,
    agency: Agency,
    id: web::Path<String>,
) -> Result<web::Json<RecordServices>, ApiError> {
    agency.require(SCOPE_ELIGIBILITY_CHECK)?;
    let target = Target::Id(id.into_inner());
    let listing = db::run_retrying(&state.pool, move |conn| {
        write_transaction(conn, |conn| {
            let record = find_record(conn, &target)?;
            let subject = queries::subject_of(conn, &record, shanghai_today())?;
            let listing = record_services(&policy, &record.id, &subject);
            let name = crate::accounts::name_of(conn, &agency.id)?;
            let purpose = "eligibility: services";
            records::log_access(
                conn,
                &record,
                &agency,
                &name,
                AccessVia::Eligibility,
                Some(purpose),
            )?;
            queries::audit_listing(conn, &agency, &listing)?;
            Ok(listing)
        })
    })
    .await?;
    Ok(web::Json(listing))
}

fn find_record(conn: &mut DbConnection, target: &Target) -> Result<RecordRow, ApiError> {
    let found = match target {
        Target::Id(id) => records::find(conn, id)?,
        Target::Code(code) => records::find_by_share_code(conn, code)?,
    };
    found.ok_or_else(|| ApiError::not_found("No such record."))
}

fn decide_error(error: DecideError) -> ApiError {
    match error {
        DecideError::UnknownService(code) => ApiError::validation(vec![FieldError::new(
            "service",
            "unknown_service",
            format!("{code:?} is not a service code of the table."),
        )]),
        DecideError::MissingFacts(names) => {
            let mut e = ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "missing_facts",
                format!("The service needs these facts: {}.", names.join(", ")),
            );
            e.errors = names
                .iter()
                .map(|name| {
                    FieldError::new(
                        format!("facts.{name}"),
                        "missing",
                        format!("The rules of this service need {name}."),
                    )
                })
                .collect();
            e
        }
    }
}

/// Ages are counted in completed years on the date in Shanghai (UTC+8 all year round),
/// where the services are given, not on the server's date.
fn shanghai_today() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()
}
