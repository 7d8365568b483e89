//! `/portal/records/{id}`: one record — status, qualification, body, dates; its share
//! codes (make one, shown once; list; revoke); who looked at it; the signed record to
//! download (JSON and vc+jwt, the bytes the API serves); and the form for the PDF report.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::super::render::{date, not_found, Chrome};
use super::home::{access_line, AccessLine};
use crate::app::AppState;
use crate::error::ApiError;
use crate::records::holder_ops as records;
use crate::records::lookup_routes::ShareCodeCheck;
use crate::records::RecordRow;

/// How many reads of the holder's records are searched for this record's.
const ACCESS_SHOWN: i64 = 100;

pub struct Code {
    pub hash: String,
    pub hint: String,
    pub expires: String,
    pub made: String,
}

/// A code just made: shown on this one page and never again.
pub struct NewCode {
    pub code: String,
    pub expires: String,
}

#[derive(Template)]
#[template(path = "portal_record.html")]
struct Page<'a> {
    c: &'a Chrome,
    csrf: String,
    id: String,
    status: String,
    class: &'static str,
    qualification: String,
    qualification_other: Option<String>,
    body: Option<String>,
    categories: String,
    holder_name: String,
    valid_from: String,
    valid_until: String,
    codes: Vec<Code>,
    access: Vec<AccessLine>,
    new_code: Option<NewCode>,
    /// The share-code form's error, and the days as typed.
    days_error: Option<String>,
    days: String,
    /// A revocation that found nothing (already revoked).
    notice: Option<String>,
}

/// What a record's page shows besides its own parts.
#[derive(Default)]
struct Extra {
    new_code: Option<NewCode>,
    days_error: Option<String>,
    days: Option<String>,
    notice: Option<String>,
    status: Option<StatusCode>,
}

async fn show(req: &HttpRequest, state: &AppState, id: String, extra: Extra) -> HttpResponse {
    let (signed, mut c) = match super::enter(req, state).await {
        Ok(entered) => entered,
        Err(response) => return response,
    };
    super::switch_to(&mut c, req, &format!("/portal/records/{id}"));
    let holder_id = signed.holder_id.clone();
    let found = async {
        let row = records::record(state, holder_id.clone(), id.clone()).await?;
        let codes = records::live_codes(state, holder_id.clone(), id.clone()).await?;
        let log = records::access_log(state, holder_id.clone(), None, ACCESS_SHOWN).await?;
        Ok::<_, ApiError>((row, codes, log))
    }
    .await;
    let (row, codes, log) = match found {
        Ok(found) => found,
        Err(e) if e.status == StatusCode::NOT_FOUND => return not_found(req),
        Err(e) => return c.failure(e),
    };
    let check = ShareCodeCheck::of(&row);
    let code = check.qualification.code.clone();
    let body = crate::db::run_retrying(&state.pool, move |conn| {
        crate::registry::qualification_detail(conn, &code)
    })
    .await
    .ok()
    .map(|d| {
        let b = d.qualification.issuing_body;
        c.pick(&b.name_en, b.name_zh.as_deref()).to_owned()
    });
    let (status, class) = super::record_status(check.status);
    let q = &check.qualification;
    let (qualification, qualification_other) = c.names(&q.name, q.name_zh.as_deref());
    let page = Page {
        csrf: signed.csrf,
        status: c.t(status),
        class,
        qualification,
        qualification_other,
        body,
        categories: check.categories.join(" · "),
        holder_name: check.name.clone(),
        valid_from: date(c.lang, &check.valid_from),
        valid_until: date(c.lang, &check.valid_until),
        codes: codes
            .into_iter()
            .map(|k| Code {
                hash: k.code_hash,
                hint: k.hint,
                expires: super::date_time(&c, &k.expires_at),
                made: date(c.lang, &k.created_at.date().to_string()),
            })
            .collect(),
        access: log
            .into_iter()
            .filter(|a| a.record_id == row.id)
            .map(|a| access_line(&c, a))
            .collect(),
        new_code: extra.new_code,
        days_error: extra.days_error,
        days: extra.days.unwrap_or_else(|| "30".to_owned()),
        notice: extra.notice,
        id: row.id,
        c: &c,
    };
    c.respond(extra.status.unwrap_or(StatusCode::OK), &page)
}

pub async fn page(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    show(&req, &state, id.into_inner(), Extra::default()).await
}

#[derive(Deserialize, Default)]
struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    expires_in_days: String,
    #[serde(default)]
    code_hash: String,
}

impl super::WithCsrf for CodeForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// Makes a share code with the API's operation and shows it, this once.
pub async fn create_code(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    payload: web::Payload,
) -> HttpResponse {
    let (signed, c, form) = match super::posted::<CodeForm>(&req, &state, payload).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let id = id.into_inner();
    let typed = form.expires_in_days.trim().to_owned();
    // Not a whole number is out of range too: the operation decides what the range is.
    let days = typed.parse::<i64>().unwrap_or(0);
    let mut extra = Extra::default();
    match records::create_share_code(&state, super::holder(&signed), id.clone(), days).await {
        Ok((code, expires_at)) => {
            extra.new_code = Some(NewCode {
                code: code.display,
                expires: super::date_time(&c, &expires_at),
            });
            extra.status = Some(StatusCode::CREATED);
        }
        Err(e) if e.status == StatusCode::NOT_FOUND => return not_found(&req),
        Err(e) if !e.errors.is_empty() => {
            extra.days_error = Some(super::field_text(&c, "expires_in_days", &e.errors[0].code));
            extra.days = Some(typed);
            extra.status = Some(StatusCode::UNPROCESSABLE_ENTITY);
        }
        Err(e) => return c.failure(e),
    }
    show(&req, &state, id, extra).await
}

/// Revokes one of the record's codes with the API's operation.
pub async fn revoke_code(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    payload: web::Payload,
) -> HttpResponse {
    let (signed, c, form) = match super::posted::<CodeForm>(&req, &state, payload).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let id = id.into_inner();
    let revoked =
        records::delete_share_code(&state, super::holder(&signed), form.code_hash.clone()).await;
    match revoked {
        Ok(()) => super::see_other(&format!("/portal/records/{id}#share-codes")),
        Err(e) if e.status == StatusCode::NOT_FOUND => {
            let extra = Extra {
                notice: Some(c.t("portal-code-gone")),
                ..Extra::default()
            };
            show(&req, &state, id, extra).await
        }
        Err(e) => c.failure(e),
    }
}

/// The record as the holder's API read answers it (`{id, status, status_reason,
/// credential}`), as a file.
pub async fn download_json(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    download(&req, &state, id.into_inner(), |_, row| {
        serde_json::to_vec(&row.view())
            .map(|bytes| ("application/json", bytes, "json"))
            .map_err(ApiError::internal)
    })
    .await
}

/// The record as a VC-JOSE compact JWS, as the API answers `Accept: application/vc+jwt`.
pub async fn download_jwt(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    download(&req, &state, id.into_inner(), |state, row| {
        let jwt = crate::records::routes::jwt_of(state, row)?;
        Ok((
            crate::records::jose::VC_JWT_MEDIA_TYPE,
            jwt.into_bytes(),
            "jwt",
        ))
    })
    .await
}

type Encoded = (&'static str, Vec<u8>, &'static str);

async fn download(
    req: &HttpRequest,
    state: &AppState,
    id: String,
    encode: impl FnOnce(&AppState, &RecordRow) -> Result<Encoded, ApiError>,
) -> HttpResponse {
    let (signed, c) = match super::enter(req, state).await {
        Ok(entered) => entered,
        Err(response) => return response,
    };
    let row = match records::record(state, signed.holder_id, id).await {
        Ok(row) => row,
        Err(e) if e.status == StatusCode::NOT_FOUND => return not_found(req),
        Err(e) => return c.failure(e),
    };
    let (content_type, bytes, extension) = match encode(state, &row) {
        Ok(encoded) => encoded,
        Err(e) => return c.failure(e),
    };
    let mut response = HttpResponse::Ok();
    super::super::render::secure(&mut response);
    response
        .content_type(content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"record-{}.{extension}\"", row.id),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(bytes)
}
