//! `/check`: anyone checks a share code. The form posts the code and is redirected to
//! `/check/{code}`, whose path the request log writes as its template, never as typed.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::render::{date, Chrome, Message};
use crate::app::AppState;
use crate::db;
use crate::records::lookup_routes::{check_share_code_for, ShareCodeCheck};

#[derive(Template)]
#[template(path = "check.html")]
struct Form<'a> {
    c: &'a Chrome,
    /// Set when the form came back empty.
    error: Option<String>,
}

pub async fn form(req: HttpRequest) -> HttpResponse {
    let c = Chrome::new(&req);
    c.respond(StatusCode::OK, &Form { c: &c, error: None })
}

#[derive(Deserialize)]
pub struct Submitted {
    #[serde(default)]
    code: String,
}

/// Changes nothing, so it carries no CSRF token (docs/decisions.md "Pages").
pub async fn submit(req: HttpRequest, form: web::Form<Submitted>) -> HttpResponse {
    let code: String = form
        .code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    if code.is_empty() {
        let c = Chrome::new(&req);
        let error = Some(c.t("check-error-empty"));
        return c.respond(StatusCode::BAD_REQUEST, &Form { c: &c, error });
    }
    let mut response = HttpResponse::SeeOther();
    super::render::secure(&mut response);
    response
        .insert_header((header::LOCATION, format!("/check/{code}")))
        .finish()
}

#[derive(Template)]
#[template(path = "check_result.html")]
struct Result<'a> {
    c: &'a Chrome,
    check: ShareCodeCheck,
    status_text: String,
    status_class: &'static str,
    qualification: String,
    qualification_other: Option<String>,
    body: Option<String>,
    valid_from: String,
    valid_until: String,
}

pub async fn result(
    req: HttpRequest,
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> HttpResponse {
    let c = Chrome::new(&req);
    let check = match check_share_code_for(&req, &state, &code).await {
        Ok(check) => check,
        // A malformed code is as wrong as an unknown one to a person.
        Err(e) if e.status == StatusCode::BAD_REQUEST || e.status == StatusCode::NOT_FOUND => {
            let page = Message::new(&c, "check-unknown-title", "check-unknown-text");
            return c.respond(StatusCode::NOT_FOUND, &page);
        }
        Err(e) => return c.failure(e),
    };
    // The body is public registry data; the share code's answer names the qualification.
    let code = check.qualification.code.clone();
    let body = db::run_retrying(&state.pool, move |conn| {
        crate::registry::qualification_detail(conn, &code)
    })
    .await
    .ok()
    .map(|d| {
        let b = d.qualification.issuing_body;
        c.pick(&b.name_en, b.name_zh.as_deref()).to_owned()
    });
    let (status_key, status_class) = super::render::record_status(check.status);
    let q = &check.qualification;
    let (qualification, qualification_other) = c.names(&q.name, q.name_zh.as_deref());
    let page = Result {
        status_text: c.t(status_key),
        status_class,
        qualification,
        qualification_other,
        body,
        valid_from: date(c.lang, &check.valid_from),
        valid_until: date(c.lang, &check.valid_until),
        check,
        c: &c,
    };
    c.respond(StatusCode::OK, &page)
}
