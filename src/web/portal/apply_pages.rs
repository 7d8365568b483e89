//! The pages of applying (see `apply.rs` for the flow): each step's page, filled from the
//! draft, with the error summary at the top and each message beside its field.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use askama::Template;

use super::apply::Draft;
use crate::app::AppState;
use crate::registry::search::SearchParams;
use crate::web::render::{date, Chrome};

/// (field id, message), in the order the fields appear.
pub type Errors = Vec<(String, String)>;

/// A field's error in the page's language.
pub fn error(c: &Chrome, field: &str, code: &str) -> (String, String) {
    (field.to_owned(), super::field_text(c, field, code))
}

fn status(errors: &Errors) -> StatusCode {
    match errors.is_empty() {
        true => StatusCode::OK,
        false => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// What the templates ask of a page's errors.
pub trait FieldErrors {
    fn errors(&self) -> &Errors;

    fn err(&self, field: &str) -> Option<&str> {
        self.errors()
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

pub struct Choice {
    pub id: String,
    pub name: String,
    pub other_name: Option<String>,
    pub body: String,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "portal_apply_qualification.html")]
struct Qualification<'a> {
    c: &'a Chrome,
    csrf: &'a str,
    d: &'a Draft,
    q: &'a str,
    choices: Vec<Choice>,
    errors: Errors,
}

impl FieldErrors for Qualification<'_> {
    fn errors(&self) -> &Errors {
        &self.errors
    }
}

/// Step 1: find the qualification (the registry's own search) and pick one.
pub async fn qualification(
    state: &AppState,
    c: &Chrome,
    csrf: &str,
    d: &Draft,
    q: &str,
    errors: Errors,
) -> HttpResponse {
    let params = SearchParams {
        q: Some(q.trim().to_owned()).filter(|q| !q.is_empty()),
        ..SearchParams::default()
    };
    let search = match params.check() {
        Ok(search) => search,
        Err(e) => return c.failure(e),
    };
    let chosen = d.qualification_id.clone();
    let found = crate::db::run_retrying(&state.pool, move |conn| {
        let page = crate::registry::search::run(conn, &search)?;
        let mut items = page.items;
        // The chosen one stays on the page even when this search does not find it.
        if !chosen.is_empty() && !items.iter().any(|i| i.id == chosen) {
            if let Ok(detail) = crate::registry::qualification_detail(conn, &chosen) {
                items.insert(0, detail.qualification);
            }
        }
        Ok::<_, crate::error::ApiError>(items)
    })
    .await;
    let items = match found {
        Ok(items) => items,
        Err(e) => return c.failure(e),
    };
    let choices = items
        .into_iter()
        .map(|i| {
            let name = c.pick(&i.name_en, i.name_zh.as_deref()).to_owned();
            Choice {
                other_name: if name == i.name_en {
                    i.name_zh.clone().filter(|n| !n.is_empty())
                } else {
                    Some(i.name_en.clone())
                },
                body: c
                    .pick(&i.issuing_body.name_en, i.issuing_body.name_zh.as_deref())
                    .to_owned(),
                checked: i.id == d.qualification_id,
                id: i.id,
                name,
            }
        })
        .collect();
    let page = Qualification {
        c,
        csrf,
        d,
        q,
        choices,
        errors,
    };
    c.respond(status(&page.errors), &page)
}

#[derive(Template)]
#[template(path = "portal_apply_details.html")]
struct Details<'a> {
    c: &'a Chrome,
    csrf: &'a str,
    d: &'a Draft,
    /// (name, value, input type, required)
    fields: Vec<(&'static str, String, &'static str, bool)>,
    errors: Errors,
}

impl FieldErrors for Details<'_> {
    fn errors(&self) -> &Errors {
        &self.errors
    }
}

/// Step 2: the certificate's details.
pub fn details(c: &Chrome, csrf: &str, d: &Draft, errors: Errors) -> HttpResponse {
    let fields = vec![
        (
            "certificate_number",
            d.certificate_number.clone(),
            "text",
            true,
        ),
        (
            "name_on_certificate",
            d.name_on_certificate.clone(),
            "text",
            true,
        ),
        ("issued_on", d.issued_on.clone(), "date", true),
        ("expires_on", d.expires_on.clone(), "date", false),
        ("applying_from", d.applying_from.clone(), "text", true),
    ];
    let page = Details {
        c,
        csrf,
        d,
        fields,
        errors,
    };
    c.respond(status(&page.errors), &page)
}

#[derive(Template)]
#[template(path = "portal_apply_evidence.html")]
struct Evidence<'a> {
    c: &'a Chrome,
    csrf: &'a str,
    d: &'a Draft,
    errors: Errors,
    limit_mb: usize,
}

impl FieldErrors for Evidence<'_> {
    fn errors(&self) -> &Errors {
        &self.errors
    }
}

/// Step 3: evidence, optional.
pub fn evidence(c: &Chrome, csrf: &str, d: &Draft, errors: Errors) -> HttpResponse {
    let page = Evidence {
        c,
        csrf,
        d,
        errors,
        limit_mb: crate::requests::holder_ops::EVIDENCE_LIMIT_BYTES / (1024 * 1024),
    };
    c.respond(status(&page.errors), &page)
}

#[derive(Template)]
#[template(path = "portal_apply_check.html")]
struct Check<'a> {
    c: &'a Chrome,
    csrf: &'a str,
    d: &'a Draft,
    key: &'a str,
    qualification: String,
    /// (field, answer as shown)
    answers: Vec<(&'static str, String)>,
    errors: Errors,
}

impl FieldErrors for Check<'_> {
    fn errors(&self) -> &Errors {
        &self.errors
    }
}

/// Step 4: check your answers, each with its change button; `key` is this showing's
/// idempotency key.
pub async fn check(
    state: &AppState,
    c: &Chrome,
    csrf: &str,
    d: &Draft,
    key: &str,
    errors: Errors,
) -> HttpResponse {
    let shown = |v: &str| match v.trim() {
        "" => c.t("portal-answer-none"),
        v => date(c.lang, v),
    };
    let page = Check {
        qualification: super::qualification_name(state, c, &d.qualification_id).await,
        answers: vec![
            ("certificate_number", d.certificate_number.clone()),
            ("name_on_certificate", d.name_on_certificate.clone()),
            ("issued_on", shown(&d.issued_on)),
            ("expires_on", shown(&d.expires_on)),
            ("applying_from", d.applying_from.trim().to_uppercase()),
            ("note", d.note.clone()),
        ],
        c,
        csrf,
        d,
        key,
        errors,
    };
    let status = match page.errors.is_empty() {
        true => StatusCode::OK,
        false => StatusCode::CONFLICT,
    };
    c.respond(status, &page)
}
