//! `POST /portal/records/{id}/report.pdf`: the bilingual PDF report of one of the holder's
//! records, with a share code made for it (DESIGN.md "Web pages"). The code comes from the
//! same operation as `POST /v1/records/{id}/share-codes`; `crate::report` draws the page.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDateTime;
use serde::Deserialize;

use super::i18n::Lang;
use super::render::{date, secure, Chrome, Message};
use super::session;
use crate::app::AppState;
use crate::auth::Holder;
use crate::db;
use crate::error::ApiError;

use crate::records::holder_ops::create_share_code;
use crate::records::lookup_routes::ShareCodeCheck;
use crate::records::types::RecordStatus;
use crate::report::{self, Both, Check, Labels, ReportData, Tone};

#[derive(Deserialize)]
pub struct Form {
    #[serde(default)]
    csrf: String,
    /// The share code's lifetime, named as on the API and the share-code form.
    #[serde(default)]
    expires_in_days: String,
}

/// The link or a reload lands here without a form: back to the record's page.
/// Mounted by `web::configure`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/portal/records/{id}/report.pdf", web::post().to(download))
        .route("/portal/records/{id}/report.pdf", super::read().to(back));
}

pub async fn back(id: web::Path<String>) -> HttpResponse {
    let mut response = HttpResponse::SeeOther();
    secure(&mut response);
    let target = format!("/portal/records/{}", safe_id(&id));
    response.insert_header((header::LOCATION, target)).finish()
}

pub async fn download(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: web::Form<Form>,
) -> HttpResponse {
    let signed_in = match session::require(&req, &state).await {
        Ok(s) => s,
        Err(response) => return response,
    };
    let c = Chrome::new(&req);
    if !session::form_allowed(&req, &state, &signed_in.csrf, &form.csrf) {
        let page = Message::new(&c, "report-forbidden-title", "report-forbidden-text");
        return c.respond(StatusCode::FORBIDDEN, &page);
    }
    // Anything but a whole number is as out of range as 0 or 181: the operation says which.
    let days = form.expires_in_days.trim().parse::<i64>().unwrap_or(0);
    let holder = Holder {
        id: signed_in.holder_id,
    };
    let id = id.into_inner();
    let (code, expires_at) = match create_share_code(&state, holder.clone(), id.clone(), days).await
    {
        Ok(created) => created,
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let page = Message::new(&c, "report-days-title", "report-days-text");
            return c.respond(StatusCode::BAD_REQUEST, &page);
        }
        Err(e) => return c.failure(e),
    };
    let read = db::run_retrying(&state.pool, move |conn| {
        let Some(row) = crate::records::find_for_holder(conn, &holder, &id)? else {
            return Ok(None);
        };
        // The body's names are public registry data; a removed entry still has them.
        let body = crate::registry::qualification_detail(conn, &row.qualification_id)
            .ok()
            .map(|d| d.qualification.issuing_body);
        Ok::<_, ApiError>(Some((row.id.clone(), ShareCodeCheck::of(&row), body)))
    })
    .await;
    let (record_id, check, body) = match read {
        Ok(Some(found)) => found,
        Ok(None) => return c.failure(ApiError::not_found("No such record.")),
        Err(e) => return c.failure(e),
    };
    let now = chrono::Utc::now().naive_utc();
    let url = format!("{}/check/{}", state.public_url, code.display);
    let (tone, status_key) = match check.status {
        RecordStatus::Valid => (Tone::Good, "report-status-valid"),
        RecordStatus::Suspended => (Tone::Warn, "report-status-suspended"),
        RecordStatus::Revoked => (Tone::Bad, "report-status-revoked"),
        RecordStatus::Expired => (Tone::Bad, "report-status-expired"),
    };
    let q = check.qualification;
    let (body_en, body_zh) = body.map_or((String::new(), None), |b| (b.name_en, b.name_zh));
    let data = ReportData {
        labels: labels(&state.public_url),
        record_id: record_id.clone(),
        holder_name: check.name,
        qualification_en: q.name,
        qualification_zh: q.name_zh,
        body_en,
        body_zh,
        categories: check.categories,
        valid_from: day(&check.valid_from),
        valid_until: Some(day(&check.valid_until)),
        status: both(status_key),
        tone,
        printed_at: moment(now),
        check: Some(Check {
            url,
            code: code.display,
            expires: moment(expires_at),
        }),
    };
    let pdf = match report::render(&data) {
        Ok(pdf) => pdf,
        Err(e) => {
            tracing::error!(error = %e, "a PDF report failed to render");
            let page = Message::new(&c, "failure-title", "failure-text");
            return c.respond(StatusCode::INTERNAL_SERVER_ERROR, &page);
        }
    };
    let mut response = HttpResponse::Ok();
    secure(&mut response);
    response
        .content_type("application/pdf")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"record-{}.pdf\"",
                safe_id(&record_id)
            ),
        ))
        // It carries a share code shown once: no cache keeps a copy.
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(pdf)
}

/// The key's text in Chinese and in English.
fn both(key: &str) -> Both {
    Both::new(Lang::Zh.strings().get(key), Lang::En.strings().get(key))
}

fn labels(public_url: &str) -> Labels {
    let check = format!("{public_url}/check");
    let verify = format!("{public_url}/verify");
    let args = [("check", check.as_str()), ("verify", verify.as_str())];
    let fill = |key: &str| {
        Both::new(
            Lang::Zh.strings().fill(key, &args),
            Lang::En.strings().fill(key, &args),
        )
    };
    Labels {
        title: both("report-title"),
        record_id: both("report-record-id"),
        holder: both("report-holder"),
        qualification: both("report-qualification"),
        body: both("report-body"),
        categories: both("report-categories"),
        valid_from: both("report-valid-from"),
        valid_until: both("report-valid-until"),
        status: both("report-status"),
        printed_at: both("report-printed-at"),
        check_how: fill("report-check-how"),
        code: both("report-code"),
        code_expires: both("report-code-expires"),
        not_the_record: fill("report-not-the-record"),
    }
}

/// A credential's date (`2026-03-07…`) as each language writes it.
fn day(iso: &str) -> Both {
    Both::new(date(Lang::Zh, iso), date(Lang::En, iso))
}

/// A moment to the minute, in UTC, as each language writes it.
fn moment(at: NaiveDateTime) -> Both {
    let iso = at.format("%Y-%m-%d").to_string();
    let time = at.format("%H:%M UTC").to_string();
    Both::new(
        format!("{} {time}", date(Lang::Zh, &iso)),
        format!("{} {time}", date(Lang::En, &iso)),
    )
}

/// A record id in a header value (`Location`, `Content-Disposition`): ids are made of
/// letters, digits, `-` and `_`; anything else a path may carry is dropped.
fn safe_id(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}
