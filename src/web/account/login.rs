//! `/account/login` and `POST /account/logout`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::super::render::Chrome;
use super::super::session;
use super::{
    anonymous, anonymous_allowed, bad_form, failure, read_form, refused, see_other, with_cookie,
    Problems,
};
use crate::app::AppState;
use crate::db;
use crate::holders::{login, sessions};

#[derive(Template)]
#[template(path = "account_login.html")]
struct Form<'a> {
    c: &'a Chrome,
    csrf: String,
    /// Where to go after login: kept only when it is a local path.
    next: String,
    email: String,
    p: Problems,
}

#[derive(Deserialize)]
pub struct Query {
    #[serde(default)]
    next: String,
}

pub async fn form(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<Query>,
) -> HttpResponse {
    let c = Chrome::new(&req);
    let (csrf, cookie) = anonymous(&req, &state);
    let page = Form {
        c: &c,
        csrf,
        next: session::safe_next(&query.next)
            .unwrap_or_default()
            .to_owned(),
        email: String::new(),
        p: Problems::default(),
    };
    with_cookie(c.respond(StatusCode::OK, &page), cookie)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Typed {
    csrf: String,
    email: String,
    password: String,
    next: String,
}

/// `holders::login::login_session` (the API login's checks and limits), then a new session
/// id in the cookie and `303` to `next` or the portal. A wrong email and a wrong password
/// are one message.
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> HttpResponse {
    let c = Chrome::new(&req);
    let Some(typed) = read_form::<Typed>(payload).await else {
        return bad_form(&c);
    };
    if !anonymous_allowed(&req, &state, &typed.csrf) {
        return refused(&req, &state);
    }
    let again = |p: Problems| {
        let page = Form {
            c: &c,
            csrf: typed.csrf.clone(),
            next: session::safe_next(&typed.next)
                .unwrap_or_default()
                .to_owned(),
            email: typed.email.trim().to_owned(),
            p,
        };
        c.respond(StatusCode::BAD_REQUEST, &page)
    };
    // Only whether something was typed: the credentials themselves are the operation's.
    let mut missing = Vec::new();
    if typed.email.trim().is_empty() {
        missing.push(("email", "account-error-email-missing"));
    }
    if typed.password.is_empty() {
        missing.push(("password", "account-error-password-missing"));
    }
    if !missing.is_empty() {
        let p = missing
            .into_iter()
            .map(|(id, key)| super::Problem {
                id: id.to_owned(),
                text: c.t(key),
            })
            .collect();
        return again(Problems(p));
    }
    let previous = session::session_id(&req);
    let result = login::login_session(
        &req,
        &state,
        typed.email.clone(),
        typed.password.clone(),
        previous,
    )
    .await;
    match result {
        Ok((_, new)) => {
            let cookie = session::session_cookie(&new.id, session::secure_cookies(&state));
            let next = session::safe_next(&typed.next).unwrap_or("/portal");
            see_other(next, Some(cookie))
        }
        Err(e) if e.code == "invalid_credentials" => {
            again(Problems::one("email", c.t("account-error-credentials")))
        }
        Err(e) => failure(&c, e),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LogoutForm {
    csrf: String,
}

/// Ends the session (its own CSRF token, as every signed-in form), clears the cookie and
/// goes to the start page. A browser whose session has already ended only loses the cookie.
pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> HttpResponse {
    let c = Chrome::new(&req);
    let Some(typed) = read_form::<LogoutForm>(payload).await else {
        return bad_form(&c);
    };
    let clear = session::clear_session_cookie(session::secure_cookies(&state));
    let signed_in = match session::current(&req, &state).await {
        Ok(s) => s,
        Err(e) => return failure(&c, e),
    };
    let (Some(holder), Some(id)) = (signed_in, session::session_id(&req)) else {
        return see_other("/", Some(clear));
    };
    if !session::form_allowed(&req, &state, &holder.csrf, &typed.csrf) {
        return refused(&req, &state);
    }
    let ended = db::run(&state.pool, move |conn| {
        Ok(db::write_statement(conn, |conn| sessions::end(conn, &id))?)
    })
    .await;
    match ended {
        Ok(()) => see_other("/", Some(clear)),
        Err(e) => failure(&c, e),
    }
}
