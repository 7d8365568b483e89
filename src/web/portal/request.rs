//! `/portal/requests/{id}`: one request, its state in words and its timeline; withdrawing
//! an open one; the confirmation after applying.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::super::render::{date, not_found, Chrome};
use crate::app::AppState;
use crate::domain::request_state::RequestState;
use crate::error::ApiError;
use crate::requests::holder_ops as requests;
use crate::requests::types::RequestView;

pub struct Event {
    pub state: String,
    pub at: String,
    pub reason: Option<String>,
}

#[derive(Template)]
#[template(path = "portal_request.html")]
struct Page<'a> {
    c: &'a Chrome,
    csrf: String,
    r: RequestView,
    qualification: String,
    state: String,
    /// The colour of the state: in progress, confirmed, or ended without a record.
    class: &'static str,
    next: String,
    issued_on: String,
    expires_on: Option<String>,
    timeline: Vec<Event>,
    /// Set when a withdrawal was refused (the request closed meanwhile).
    error: Option<String>,
    /// The confirmation right after applying.
    submitted: bool,
}

async fn show(
    req: &HttpRequest,
    state: &AppState,
    id: String,
    submitted: bool,
    error: Option<ApiError>,
) -> HttpResponse {
    let (signed, mut c) = match super::enter(req, state).await {
        Ok(entered) => entered,
        Err(response) => return response,
    };
    super::switch_to(&mut c, req, &format!("/portal/requests/{id}"));
    let r = match requests::one(state, signed.holder_id.clone(), id).await {
        Ok(r) => r,
        Err(e) if e.status == StatusCode::NOT_FOUND => return not_found(req),
        Err(e) => return c.failure(e),
    };
    let timeline = r
        .history
        .iter()
        .map(|h| Event {
            state: c.t(&super::state_key(h.state)),
            at: super::date_time(&c, &h.at),
            reason: h.reason.as_deref().and_then(|reason| {
                let key = format!("portal-reason-{}", reason.replace(' ', "-"));
                c.strings.has(&key).then(|| c.t(&key))
            }),
        })
        .collect();
    let status = match error.as_ref() {
        Some(_) => StatusCode::CONFLICT,
        None => StatusCode::OK,
    };
    let page = Page {
        qualification: super::qualification_name(state, &c, &r.qualification_code).await,
        state: c.t(&super::state_key(r.state)),
        class: match r.state {
            s if s.is_open() => "warn",
            RequestState::Confirmed | RequestState::Issued => "good",
            _ => "bad",
        },
        next: c.t(&format!("{}-next", super::state_key(r.state))),
        issued_on: date(c.lang, &r.issued_on.to_string()),
        expires_on: r.expires_on.map(|d| date(c.lang, &d.to_string())),
        timeline,
        error: error.map(|e| super::problem_text(&c, &e)),
        submitted,
        csrf: signed.csrf,
        r,
        c: &c,
    };
    c.respond(status, &page)
}

pub async fn page(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    show(&req, &state, id.into_inner(), false, None).await
}

/// Where applying lands (also after a repeated submit): reloading it changes nothing.
pub async fn submitted(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    show(&req, &state, id.into_inner(), true, None).await
}

#[derive(Deserialize, Default)]
struct Csrf {
    #[serde(default)]
    csrf: String,
}

impl super::WithCsrf for Csrf {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// Withdraws the request: the API's withdraw operation, then back to the request.
pub async fn withdraw(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    payload: web::Payload,
) -> HttpResponse {
    let (signed, c, _form) = match super::posted::<Csrf>(&req, &state, payload).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let id = id.into_inner();
    match requests::withdraw(&state, super::holder(&signed), id.clone()).await {
        Ok(view) => super::see_other(&format!("/portal/requests/{}", view.id)),
        Err(e) if e.status == StatusCode::NOT_FOUND => not_found(&req),
        Err(e) if e.status == StatusCode::CONFLICT => show(&req, &state, id, false, Some(e)).await,
        Err(e) => c.failure(e),
    }
}
