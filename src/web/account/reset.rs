//! `/account/reset` (ask for a link) and `/account/reset/{token}` (choose a new password).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::super::render::Chrome;
use super::super::session;
use super::register::{sent, token_shaped, EmailForm, EmailTyped};
use super::{
    anonymous, anonymous_allowed, bad_form, failure, read_form, refused, with_cookie, Done,
    Problems,
};
use crate::app::AppState;
use crate::holders::reset;

fn request_page(c: &Chrome, csrf: String, email: String, p: Problems) -> EmailForm<'_> {
    EmailForm {
        c,
        title: c.t("account-reset-title"),
        lead: c.t("account-reset-lead"),
        submit: c.t("account-reset-submit"),
        action: "/account/reset",
        csrf,
        email,
        p,
    }
}

pub async fn form(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let c = Chrome::new(&req);
    let (csrf, cookie) = anonymous(&req, &state);
    let page = request_page(&c, csrf, String::new(), Problems::default());
    with_cookie(c.respond(StatusCode::OK, &page), cookie)
}

/// `holders::reset::request`: the same page for every address.
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> HttpResponse {
    let c = Chrome::new(&req);
    let Some(typed) = read_form::<EmailTyped>(payload).await else {
        return bad_form(&c);
    };
    if !anonymous_allowed(&req, &state, &typed.csrf) {
        return refused(&req, &state);
    }
    let email = typed.email.trim().to_owned();
    if email.is_empty() {
        let p = Problems::one("email", c.t("account-error-email-missing"));
        let page = request_page(&c, typed.csrf, email, p);
        return c.respond(StatusCode::BAD_REQUEST, &page);
    }
    match reset::request(&req, state.clone(), &email).await {
        Ok(()) => {
            let text = c.fill("account-sent-reset", &[("email", &email)]);
            sent(&c, text, &email, typed.csrf, "/account/reset")
        }
        Err(e) => failure(&c, e),
    }
}

#[derive(Template)]
#[template(path = "account_password.html")]
struct Choose<'a> {
    c: &'a Chrome,
    csrf: String,
    action: String,
    p: Problems,
}

fn bad_reset_link(c: &Chrome) -> HttpResponse {
    let page = Done::new(
        c,
        "account-link-bad-title",
        "account-reset-bad-text",
        "/account/reset",
        "account-reset-again",
    );
    c.respond(StatusCode::BAD_REQUEST, &page)
}

/// The link's page: the new password's form (opening the link uses nothing up).
pub async fn choose(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> HttpResponse {
    let c = Chrome::new(&req);
    if !token_shaped(&token) {
        return bad_reset_link(&c);
    }
    let (csrf, cookie) = anonymous(&req, &state);
    let page = Choose {
        c: &c,
        csrf,
        action: format!("/account/reset/{token}"),
        p: Problems::default(),
    };
    with_cookie(c.respond(StatusCode::OK, &page), cookie)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Typed {
    csrf: String,
    password: String,
}

/// `holders::reset::reset_password`: registration's password rules, one use of the token,
/// and every session of the holder ends (this browser's cookie goes too).
pub async fn set(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    payload: web::Payload,
) -> HttpResponse {
    let mut c = Chrome::new(&req);
    let Some(typed) = read_form::<Typed>(payload).await else {
        return bad_form(&c);
    };
    if !anonymous_allowed(&req, &state, &typed.csrf) {
        return refused(&req, &state);
    }
    let token = token.into_inner();
    let action = format!("/account/reset/{token}");
    match reset::reset_password(state.clone(), token, typed.password).await {
        Ok(()) => {
            // Every session ended, this browser's with them: the navigation says so.
            c.signed_in = false;
            let page = Done::new(
                &c,
                "account-reset-done-title",
                "account-reset-done-text",
                "/account/login",
                "account-login-link",
            );
            let clear = session::clear_session_cookie(session::secure_cookies(&state));
            with_cookie(c.respond(StatusCode::OK, &page), Some(clear))
        }
        Err(e) if !e.errors.is_empty() => {
            let page = Choose {
                p: Problems::from_fields(&c, &e.errors, &["password"]),
                c: &c,
                csrf: typed.csrf,
                action,
            };
            c.respond(StatusCode::BAD_REQUEST, &page)
        }
        Err(e) if e.code == "invalid_email_token" => bad_reset_link(&c),
        Err(e) => failure(&c, e),
    }
}
