//! `/account/…`: register, confirm the address, log in and out, reset a password
//! (DESIGN.md "Web pages"). Every check and write is a `holders` operation the API shares;
//! these pages only read forms, check CSRF and turn answers into words.

mod login;
mod register;
mod reset;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use askama::Template;
use serde::de::DeserializeOwned;

use super::render::{Chrome, Message};
use super::session;
use crate::app::AppState;
use crate::error::{ApiError, FieldError};

/// Mounts the account pages (`web::configure` calls it).
pub fn configure(cfg: &mut web::ServiceConfig) {
    let read = super::read;
    cfg.route("/account/register", read().to(register::form))
        .route("/account/register", web::post().to(register::submit))
        .route("/account/resend", read().to(register::resend_form))
        .route("/account/resend", web::post().to(register::resend))
        .route(
            "/account/verify-email/{token}",
            read().to(register::confirm),
        )
        .route(
            "/account/verify-email/{token}",
            web::post().to(register::verify),
        )
        .route("/account/login", read().to(login::form))
        .route("/account/login", web::post().to(login::submit))
        .route("/account/logout", web::post().to(login::logout))
        .route("/account/reset", read().to(reset::form))
        .route("/account/reset", web::post().to(reset::submit))
        .route("/account/reset/{token}", read().to(reset::choose))
        .route("/account/reset/{token}", web::post().to(reset::set));
}

/// A form's fields are a few short strings; anything larger is not one of these forms.
const FORM_LIMIT: usize = 16 * 1024;

/// The posted form, or `None` when it is too large or not a form (the caller answers with
/// [`bad_form`]). Every field is `#[serde(default)]`, so a missing one is empty, not an error.
async fn read_form<T: DeserializeOwned>(payload: web::Payload) -> Option<T> {
    let body = crate::problems::read_limited(payload, FORM_LIMIT, "a form")
        .await
        .ok()?;
    serde_urlencoded::from_bytes(&body).ok()
}

/// One problem with a form: the id of the field it belongs to and the message, in the
/// page's language. The summary links to `#id`; the field shows the message beside it.
pub struct Problem {
    pub id: String,
    pub text: String,
}

/// The problems of a form, in the order of its fields.
#[derive(Default)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    pub fn one(id: &str, text: String) -> Self {
        Problems(vec![Problem {
            id: id.to_owned(),
            text,
        }])
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The message beside field `id`, or `""` (what the templates test for).
    pub fn err(&self, id: &str) -> &str {
        self.of(id).unwrap_or_default()
    }

    /// The message beside field `id`, if it has one.
    pub fn of(&self, id: &str) -> Option<&str> {
        self.0.iter().find(|p| p.id == id).map(|p| p.text.as_str())
    }

    /// `has-error` on a field that has a message (the class of its wrapper).
    pub fn class(&self, id: &str) -> &'static str {
        if self.of(id).is_some() {
            " has-error"
        } else {
            ""
        }
    }

    /// The field errors of a `422 validation_failed` from a `holders` operation, each as a
    /// message of the page's language, ordered as `order` lists the fields.
    pub fn from_fields(c: &Chrome, errors: &[FieldError], order: &[&str]) -> Self {
        let mut problems: Vec<Problem> = errors
            .iter()
            .map(|e| {
                let id = field_id(&e.field);
                Problem {
                    text: field_message(c, &id, &e.code),
                    id,
                }
            })
            .collect();
        problems.sort_by_key(|p| order.iter().position(|f| *f == p.id).unwrap_or(order.len()));
        Problems(problems)
    }
}

/// `identity_document.number` → `identity_document_number`: the API's field path as the
/// id and name of the form's input.
pub fn field_id(field: &str) -> String {
    field.replace('.', "_")
}

/// The translation of field error (`id`, `code`): `account-error-{id}-{code}`, or a general
/// "check this answer" for a code the pages do not know yet (a unit test keeps every code
/// the operations give mapped).
pub fn field_message(c: &Chrome, id: &str, code: &str) -> String {
    let key = format!("account-error-{id}-{code}");
    if c.strings.has(&key) {
        c.fill(
            &key,
            &[(
                "min",
                &crate::holders::types::MIN_PASSWORD_CHARS.to_string(),
            )],
        )
    } else {
        c.t("account-error-generic")
    }
}

/// The pre-login CSRF token (DESIGN.md: every changing form carries one) and the cookie
/// that plants it when the browser had none.
fn anonymous(req: &HttpRequest, state: &AppState) -> (String, Option<String>) {
    session::anonymous_csrf(req, session::secure_cookies(state))
}

/// Whether a pre-login form may change something: its `Origin` is this site and its
/// `csrf` repeats the browser's `cv_csrf` cookie. A browser without the cookie fails.
fn anonymous_allowed(req: &HttpRequest, state: &AppState, given: &str) -> bool {
    let expected = req
        .cookie(session::CSRF_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    session::form_allowed(req, state, &expected, given)
}

/// Adds a `Set-Cookie` to a response (beside the language cookie `respond` may set).
fn with_cookie(mut response: HttpResponse, cookie: Option<String>) -> HttpResponse {
    if let Some(value) = cookie.and_then(|c| header::HeaderValue::from_str(&c).ok()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The 403 page for a form whose token or `Origin` is wrong: nothing changed. It plants a
/// fresh pre-login token, so going back and sending the form again works.
fn refused(req: &HttpRequest, state: &AppState) -> HttpResponse {
    let c = Chrome::new(req);
    let (_, cookie) = anonymous(req, state);
    let page = Message::new(&c, "account-csrf-title", "account-csrf-text");
    with_cookie(c.respond(StatusCode::FORBIDDEN, &page), cookie)
}

/// The 400 page for a body that is not one of these forms.
fn bad_form(c: &Chrome) -> HttpResponse {
    let page = Message::new(c, "account-bad-form-title", "account-bad-form-text");
    c.respond(StatusCode::BAD_REQUEST, &page)
}

/// `303 See Other` to `location`, with the security headers and an optional cookie.
fn see_other(location: &str, cookie: Option<String>) -> HttpResponse {
    let mut response = HttpResponse::SeeOther();
    super::render::secure(&mut response);
    response.insert_header((header::LOCATION, location));
    if let Some(cookie) = cookie {
        response.insert_header((header::SET_COOKIE, cookie));
    }
    response.finish()
}

/// The page for a `429`: in words, with how long to wait, and the `Retry-After` of the
/// limiter. Any other failure is the shared failure page.
fn failure(c: &Chrome, err: ApiError) -> HttpResponse {
    if err.status != StatusCode::TOO_MANY_REQUESTS {
        return c.failure(err);
    }
    let retry = err
        .error_response()
        .headers()
        .get(header::RETRY_AFTER)
        .cloned();
    let seconds: u64 = retry
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let minutes = seconds.div_ceil(60).max(1).to_string();
    let page = Message {
        c,
        title: c.t("account-limited-title"),
        text: c.fill("account-limited-text", &[("minutes", &minutes)]),
    };
    let mut response = c.respond(StatusCode::TOO_MANY_REQUESTS, &page);
    if let Some(retry) = retry {
        response.headers_mut().insert(header::RETRY_AFTER, retry);
    }
    response
}

/// A page of one message and one link onwards (confirmation and dead-end pages).
#[derive(Template)]
#[template(path = "account_done.html")]
struct Done<'a> {
    c: &'a Chrome,
    title: String,
    text: String,
    link_href: &'static str,
    link_text: String,
}

impl<'a> Done<'a> {
    fn new(c: &'a Chrome, title: &str, text: &str, href: &'static str, link: &str) -> Self {
        Done {
            c,
            title: c.t(title),
            text: c.t(text),
            link_href: href,
            link_text: c.t(link),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::i18n::Lang;

    /// Every field error the registration and the reset can give has a message in both
    /// languages, and every key the account templates and handlers name exists.
    #[test]
    fn every_account_string_exists_in_both_languages() {
        let mut keys: Vec<String> = [
            ("email", "invalid"),
            ("password", "too_short"),
            ("password", "too_long"),
            ("full_name", "invalid"),
            ("nationality", "invalid"),
            ("residence_country", "invalid"),
            ("identity_kind", "invalid"),
            ("identity_kind", "inconsistent"),
            ("shanghai_hukou", "inconsistent"),
            ("date_of_birth", "invalid"),
            ("date_of_birth", "out_of_range"),
            ("identity_document_type", "invalid"),
            ("identity_document_number", "invalid"),
        ]
        .iter()
        .map(|(id, code)| format!("account-error-{id}-{code}"))
        .collect();
        let sources = [
            include_str!("../templates/account_register.html"),
            include_str!("../templates/account_sent.html"),
            include_str!("../templates/account_email.html"),
            include_str!("../templates/account_confirm.html"),
            include_str!("../templates/account_login.html"),
            include_str!("../templates/account_password.html"),
            include_str!("../templates/account_done.html"),
            include_str!("../templates/account_fields.html"),
            include_str!("mod.rs"),
            include_str!("register.rs"),
            include_str!("login.rs"),
            include_str!("reset.rs"),
        ];
        for source in sources {
            for piece in source.split("\"account-").skip(1) {
                let key = piece.split('"').next().unwrap_or_default();
                if !key.is_empty() && !key.ends_with('-') && !key.contains('{') {
                    keys.push(format!("account-{key}"));
                }
            }
            for piece in source.split(".t(\"").skip(1) {
                keys.push(piece.split('"').next().unwrap_or_default().to_owned());
            }
        }
        for key in keys {
            for lang in [Lang::Zh, Lang::En] {
                assert!(lang.strings().has(&key), "{key} missing in {}", lang.tag());
            }
        }
    }

    #[test]
    fn field_paths_become_form_ids() {
        assert_eq!(
            super::field_id("identity_document.number"),
            "identity_document_number"
        );
        assert_eq!(super::field_id("email"), "email");
    }
}
