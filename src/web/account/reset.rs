//! `/account/reset` (ask for a link) and `/account/reset/{token}` (choose a new password).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::super::render::Chrome;
use super::super::session;
use super::register::{token_shaped, EmailOnly};
use super::{
    anonymous, anonymous_allowed, bad_form, failure, read_form, refused, with_cookie, Done,
    Problems,
};
use crate::app::AppState;
use crate::holders::reset;

/// Asking for a reset link: one address, the same page for every address.
const RESET: EmailOnly = EmailOnly {
    kind: "reset",
    action: "/account/reset",
};

pub async fn form(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    RESET.form(&req, &state)
}

/// `holders::reset::request`: the same page for every address.
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> HttpResponse {
    let (r, st) = (&req, state.clone());
    RESET
        .submit(r, &state, payload, move |address| async move {
            reset::request(r, st, &address).await
        })
        .await
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
