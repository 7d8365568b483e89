//! `/verify`: anyone pastes or uploads a record (JSON credential or vc+jwt) and gets the verdict of
//! `records::verify_platform`, the same checks as `certverify verify-record`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::render::{date, Chrome};
use crate::app::AppState;
use crate::problems::read_limited;
use crate::records::verify_platform::{verify_on_platform, Verdict, MAX_RECORD_BYTES};

#[derive(Template)]
#[template(path = "verify.html")]
struct Page<'a> {
    c: &'a Chrome,
    error: Option<String>,
    /// The error is about the uploaded file, not the pasted text (the summary links there).
    error_on_file: bool,
    /// (class, headline, detail) once a record was checked.
    verdict: Option<(&'static str, String, String)>,
}

pub async fn form(req: HttpRequest) -> HttpResponse {
    let c = Chrome::new(&req);
    let page = Page {
        c: &c,
        error: None,
        error_on_file: false,
        verdict: None,
    };
    c.respond(StatusCode::OK, &page)
}

#[derive(Deserialize)]
struct Submitted {
    #[serde(default)]
    record: String,
}

/// Changes nothing, so it carries no CSRF token; rate-limited like the share-code check.
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> HttpResponse {
    let c = Chrome::new(&req);
    let address = crate::auth::ratelimit::client_address(&req);
    if let Err(e) = state.share_code_limiter.check(&req, &address.to_string()) {
        return c.failure(e);
    }
    let refuse = |status, key: &str| {
        let page = Page {
            c: &c,
            error: Some(c.t(key)),
            error_on_file: key == "verify-error-no-file" || key == "verify-error-not-text",
            verdict: None,
        };
        c.respond(status, &page)
    };
    // The form encoding grows a file by up to three times; the record inside is what is limited.
    let Ok(body) = read_limited(payload, 3 * MAX_RECORD_BYTES + 1024, "a record").await else {
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, "verify-error-too-large");
    };
    // Pasted (a urlencoded form) or uploaded (multipart, the file's own bytes).
    let content_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let form = match super::multipart::boundary(content_type) {
        Some(boundary) => {
            let mut parts = super::multipart::parse(&body, &boundary);
            let Some(file) = parts.files.remove("file").filter(|f| !f.bytes.is_empty()) else {
                return refuse(StatusCode::BAD_REQUEST, "verify-error-no-file");
            };
            let Ok(record) = String::from_utf8(file.bytes) else {
                return refuse(StatusCode::BAD_REQUEST, "verify-error-not-text");
            };
            Submitted { record }
        }
        None => match serde_urlencoded::from_bytes::<Submitted>(&body) {
            Ok(form) => form,
            Err(_) => return refuse(StatusCode::BAD_REQUEST, "verify-error-empty"),
        },
    };
    if form.record.len() > MAX_RECORD_BYTES {
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, "verify-error-too-large");
    }
    if form.record.trim().is_empty() {
        return refuse(StatusCode::BAD_REQUEST, "verify-error-empty");
    }
    let verdict = match verify_on_platform(&state, &form.record).await {
        Ok(verdict) => verdict,
        Err(e) => return c.failure(e),
    };
    let verdict = match verdict {
        Verdict::Valid(v) => (
            "good",
            c.t("verify-valid"),
            c.fill(
                "verify-valid-detail",
                &[("id", &v.id), ("until", &date(c.lang, &v.valid_until))],
            ),
        ),
        Verdict::NotOurs => ("bad", c.t("verify-not-ours"), c.t("verify-not-ours-detail")),
        Verdict::Invalid(reason) => ("bad", c.t("verify-invalid"), reason),
        Verdict::Unusable(reason) => ("warn", c.t("verify-unusable"), reason),
    };
    let page = Page {
        c: &c,
        error: None,
        error_on_file: false,
        verdict: Some(verdict),
    };
    c.respond(StatusCode::OK, &page)
}
