//! The holder's portal (DESIGN.md "Web pages"): `/portal`, applying, one request, one
//! record. Every page needs a signed-in holder (`session::require`), every form that
//! changes something carries the session's CSRF token, and every change goes through the
//! same operation as its API route (`requests::holder_ops`, `records::holder_ops`).

mod apply;
mod apply_pages;
mod home;
mod record;
mod request;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::de::DeserializeOwned;

use super::render::record_status;
use super::render::{Chrome, Message};
use super::session::{self, SignedIn};
use crate::app::AppState;
use crate::auth::Holder;
use crate::domain::request_state::RequestState;
use crate::error::ApiError;

/// The most a plain (not file-carrying) portal form may be.
const FORM_LIMIT: usize = 64 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    let read = super::read;
    cfg.route("/portal", read().to(home::page))
        .route("/portal/requests/new", read().to(apply::start))
        .route("/portal/requests/new", web::post().to(apply::step))
        .route("/portal/requests/{id}", read().to(request::page))
        .route(
            "/portal/requests/{id}/submitted",
            read().to(request::submitted),
        )
        .route(
            "/portal/requests/{id}/withdraw",
            web::post().to(request::withdraw),
        )
        .route("/portal/records/{id}", read().to(record::page))
        .route(
            "/portal/records/{id}/record.json",
            read().to(record::download_json),
        )
        .route(
            "/portal/records/{id}/record.jwt",
            read().to(record::download_jwt),
        )
        .route(
            "/portal/records/{id}/share-codes",
            web::post().to(record::create_code),
        )
        .route(
            "/portal/records/{id}/share-codes/revoke",
            web::post().to(record::revoke_code),
        );
}

/// The signed-in holder and the page chrome, or the response to send instead.
async fn enter(req: &HttpRequest, state: &AppState) -> Result<(SignedIn, Chrome), HttpResponse> {
    let signed = session::require(req, state).await?;
    Ok((signed, Chrome::new(req)))
}

/// After a form, the language switch leads to the page the form belongs to (`page`),
/// not to the address the form was posted to.
fn switch_to(c: &mut Chrome, req: &HttpRequest, page: &str) {
    if req.method() == actix_web::http::Method::POST {
        c.switch_href = format!("{page}?lang={}", c.lang.other().tag());
    }
}

fn holder(signed: &SignedIn) -> Holder {
    Holder {
        id: signed.holder_id.clone(),
    }
}

/// Whether a posted form may change something (Origin and the session's token).
fn allowed(req: &HttpRequest, state: &AppState, signed: &SignedIn, given: &str) -> bool {
    session::form_allowed(req, state, &signed.csrf, given)
}

/// A form that carries the session's token.
pub trait WithCsrf {
    fn csrf(&self) -> &str;
}

/// The signed-in holder, the chrome and the posted form, once its Origin and token hold;
/// else the response to send instead (login, or the 403 page).
async fn posted<T: DeserializeOwned + Default + WithCsrf>(
    req: &HttpRequest,
    state: &AppState,
    payload: web::Payload,
) -> Result<(SignedIn, Chrome, T), HttpResponse> {
    let (signed, c) = enter(req, state).await?;
    // A form that cannot be read is said so, not taken for a forged one.
    let Some(form) = read_form::<T>(payload).await else {
        return Err(c.respond(
            StatusCode::BAD_REQUEST,
            &Message::new(&c, "account-bad-form-title", "account-bad-form-text"),
        ));
    };
    if !allowed(req, state, &signed, form.csrf()) {
        return Err(refused(&c));
    }
    Ok((signed, c, form))
}

/// A form without the session's token (or from another site): a clear 403, nothing changed.
fn refused(c: &Chrome) -> HttpResponse {
    c.respond(
        StatusCode::FORBIDDEN,
        &Message::new(c, "portal-csrf-title", "portal-csrf-text"),
    )
}

/// A 303 to another portal page.
fn see_other(location: &str) -> HttpResponse {
    let mut response = HttpResponse::SeeOther();
    super::render::secure(&mut response);
    response
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// A urlencoded form, read up to [`FORM_LIMIT`]; None when it cannot be read.
async fn read_form<T: DeserializeOwned>(payload: web::Payload) -> Option<T> {
    let body = crate::problems::read_limited(payload, FORM_LIMIT, "A form")
        .await
        .ok()?;
    serde_urlencoded::from_bytes(&body).ok()
}

/// A request's state in words (`portal-state-…`).
fn state_key(state: RequestState) -> String {
    format!("portal-state-{}", state.as_str())
}

/// An operation's problem in words: its code's message (`portal-problem-…`) where one
/// exists, else the general failure text.
fn problem_text(c: &Chrome, e: &ApiError) -> String {
    let key = format!("portal-problem-{}", e.code);
    match c.strings.has(&key) {
        true => c.t(&key),
        false => c.t("failure-text"),
    }
}

/// A field's error in words: `portal-field-{field}-{code}`, else `portal-field-{field}`.
fn field_text(c: &Chrome, field: &str, code: &str) -> String {
    let exact = format!("portal-field-{field}-{code}");
    if c.strings.has(&exact) {
        return c.t(&exact);
    }
    c.t(&format!("portal-field-{field}"))
}

/// `2026-12-03 14:05 UTC` in the page's language.
fn date_time(c: &Chrome, at: &chrono::NaiveDateTime) -> String {
    format!(
        "{} {} UTC",
        super::render::date(c.lang, &at.date().to_string()),
        at.format("%H:%M")
    )
}

/// The name of a qualification in the page's language (by id or code), its code if unknown.
async fn qualification_name(state: &AppState, c: &Chrome, id_or_code: &str) -> String {
    let key = id_or_code.to_owned();
    let found = crate::db::run_retrying(&state.pool, move |conn| {
        crate::registry::qualification_detail(conn, &key)
    })
    .await;
    match found {
        Ok(d) => {
            let q = d.qualification;
            c.pick(&q.name_en, q.name_zh.as_deref()).to_owned()
        }
        Err(_) => id_or_code.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::i18n::Lang;
    use crate::domain::request_state::RequestState;

    /// The keys the portal builds from codes (not found by the scan for `t("…")`).
    #[test]
    fn every_key_the_portal_builds_exists_in_both_languages() {
        let mut keys = Vec::new();
        for s in RequestState::ALL {
            keys.push(super::state_key(s));
            keys.push(format!("{}-next", super::state_key(s)));
        }
        for f in [
            "certificate_number",
            "name_on_certificate",
            "issued_on",
            "expires_on",
            "applying_from",
            "note",
            "evidence",
            "expires_in_days",
        ] {
            keys.push(format!("portal-label-{f}"));
            keys.push(format!("portal-hint-{f}"));
            keys.push(format!("portal-field-{f}"));
        }
        for via in ["id", "share_code", "search", "eligibility"] {
            keys.push(format!("portal-via-{via}"));
        }
        keys.push("portal-field-qualification_id".into());
        keys.push("portal-problem-email_unverified".into());
        for lang in [Lang::Zh, Lang::En] {
            for key in &keys {
                assert!(lang.strings().has(key), "{key} missing in {}", lang.tag());
            }
        }
    }
}
