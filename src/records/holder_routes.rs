//! Holders and their records: `GET /v1/me/records`, share codes, `GET /v1/me/access-log`.

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::holder_queries::{self as hq, AccessRow};
use super::share_code::ShareCode;
use super::types::{AccessVia, RecordView};
use crate::app::AppState;
use crate::auth::Holder;
use crate::db::{self, write_transaction};
use crate::error::{ApiError, FieldError};
use crate::page::ListParams;
use crate::page::Page;

pub const MAX_SHARE_DAYS: i64 = 180;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(my_records)
        .service(create_share_code)
        .service(delete_share_code)
        .service(access_log);
}

/// A code as typed into a path; 400 when it cannot be a share code at all.
pub fn parse_code(text: &str) -> Result<ShareCode, ApiError> {
    ShareCode::parse(text).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_share_code",
            "A share code is 16 Crockford base32 characters, e.g. XXXX-XXXX-XXXX-XXXX.",
        )
    })
}

/// The calling holder's records, newest first.
#[utoipa::path(tag = "records", security(("holder_token" = [])), params(ListParams),
    responses((status = 200, body = Page<RecordView>),
        (status = 400, body = crate::error::Problem, content_type = "application/problem+json", description = "A bad limit or cursor (invalid_query)")))]
#[get("/v1/me/records")]
pub async fn my_records(
    state: web::Data<AppState>,
    holder: Holder,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = params.checked_limit()?;
    let cursor = params.cursor.clone();
    let rows = db::run_retrying(&state.pool, move |conn| {
        Ok(hq::list_for_holder(
            conn,
            &holder.id,
            cursor.as_deref(),
            limit + 1,
        )?)
    })
    .await?
    .ok_or_else(|| ApiError::bad_request("invalid_query", "Unknown cursor."))?;
    Ok(HttpResponse::Ok().json(Page::of(rows, limit, |r| r.id.clone(), |r| r.view())))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateShareCode {
    /// How long the code works: 1 to 180 days.
    #[schema(minimum = 1, maximum = 180, example = 30)]
    #[serde(deserialize_with = "crate::page::whole_number")]
    pub expires_in_days: i64,
}

/// A new share code. The code itself is shown here once and never again.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShareCodeCreated {
    #[schema(example = "7QK2-M9XD-4HTR-B0ZP")]
    pub code: String,
    #[serde(with = "crate::domain::rfc3339")]
    pub expires_at: NaiveDateTime,
    /// The code's last four characters, to tell codes apart later.
    #[schema(example = "B0ZP")]
    pub hint: String,
}

/// Make a share code for one of the caller's records, for an agency to read it by.
#[utoipa::path(tag = "records", security(("holder_token" = [])), params(("id" = String, Path)),
    request_body = CreateShareCode, responses((status = 201, body = ShareCodeCreated)))]
#[post("/v1/records/{id}/share-codes")]
pub async fn create_share_code(
    state: web::Data<AppState>,
    holder: Holder,
    id: web::Path<String>,
    body: web::Json<CreateShareCode>,
) -> Result<HttpResponse, ApiError> {
    let created =
        create_share_code_for(&state, holder, id.into_inner(), body.expires_in_days).await?;
    Ok(HttpResponse::Created().json(created))
}

/// A new share code for one of `holder`'s records, valid `days` days (1 to 180), with its
/// audit row: the one operation behind `POST /v1/records/{id}/share-codes` and the code
/// printed on the PDF report. Another holder's record is a 404, as if it did not exist.
pub async fn create_share_code_for(
    state: &AppState,
    holder: Holder,
    id: String,
    days: i64,
) -> Result<ShareCodeCreated, ApiError> {
    if !(1..=MAX_SHARE_DAYS).contains(&days) {
        return Err(ApiError::validation(vec![FieldError::new(
            "expires_in_days",
            "out_of_range",
            format!("1 to {MAX_SHARE_DAYS} days."),
        )]));
    }
    let (code, expires_at) = db::run(&state.pool, move |conn| {
        write_transaction(conn, |conn| {
            Ok::<_, ApiError>(hq::create_share_code(conn, &holder, &id, days)?)
        })
    })
    .await?
    // Another holder's record is as absent as one that never existed.
    .ok_or_else(|| ApiError::not_found("No such record."))?;
    Ok(ShareCodeCreated {
        code: code.display,
        expires_at,
        hint: code.hint,
    })
}

/// Withdraw one of the caller's share codes; it stops working at once.
#[utoipa::path(tag = "records", security(("holder_token" = [])), params(("code" = String, Path)),
    responses((status = 204, description = "Deleted"),
        (status = 400, body = crate::error::Problem, content_type = "application/problem+json", description = "Not a share code (invalid_share_code)")))]
#[delete("/v1/share-codes/{code}")]
pub async fn delete_share_code(
    state: web::Data<AppState>,
    holder: Holder,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let code = parse_code(&code)?;
    let deleted = db::run(&state.pool, move |conn| {
        write_transaction(conn, |conn| {
            Ok::<_, ApiError>(hq::delete_share_code(conn, &holder, &code)?)
        })
    })
    .await?;
    if deleted {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::not_found("No such share code."))
    }
}

/// One agency read of one of the holder's records.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessItem {
    pub id: String,
    pub record_id: String,
    /// The agency that read it.
    pub agency_name: String,
    #[serde(with = "crate::domain::rfc3339")]
    pub at: NaiveDateTime,
    /// How the agency came to it.
    #[schema(value_type = AccessVia)]
    pub via: String,
    /// The purpose the agency stated, where it stated one.
    pub purpose: Option<String>,
}

impl From<AccessRow> for AccessItem {
    fn from(row: AccessRow) -> Self {
        Self {
            id: row.id,
            record_id: row.record_id,
            agency_name: row.agency_name,
            at: row.at,
            via: row.via,
            purpose: row.purpose,
        }
    }
}

/// Every agency read of the caller's records, newest first.
#[utoipa::path(tag = "records", security(("holder_token" = [])), params(ListParams),
    responses((status = 200, body = Page<AccessItem>),
        (status = 400, body = crate::error::Problem, content_type = "application/problem+json", description = "A bad limit or cursor (invalid_query)")))]
#[get("/v1/me/access-log")]
pub async fn access_log(
    state: web::Data<AppState>,
    holder: Holder,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = params.checked_limit()?;
    let cursor = params.cursor.clone();
    let rows = db::run_retrying(&state.pool, move |conn| {
        Ok(hq::access_log(
            conn,
            &holder.id,
            cursor.as_deref(),
            limit + 1,
        )?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(Page::of(rows, limit, |r| r.id.clone(), AccessItem::from)))
}
