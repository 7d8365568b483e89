//! The page side of holder sessions (DESIGN.md "Web pages"): the session cookie, the CSRF
//! token every changing form carries, and the `Origin` check. The rows and their lifetimes
//! belong to `holders::sessions`; this module owns only what travels in HTTP.
//!
//! Two kinds of CSRF token, one check:
//! - signed in, the session's own token (stored with the session row);
//! - before login (register, login, reset), a random token in the `cv_csrf` cookie that
//!   the form repeats (double submit). It guards the login form against login CSRF; it
//!   is not a secret worth more than that.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};

use crate::app::AppState;
use crate::db;
use crate::error::ApiError;
use crate::holders::sessions::{self, Session};
use crate::holders::tokens::same_secret;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "cv_session";
/// The pre-login CSRF cookie's name.
pub const CSRF_COOKIE: &str = "cv_csrf";

/// A signed-in holder, as a page sees them.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub holder_id: String,
    /// Goes into every form of the page as `csrf`.
    pub csrf: String,
}

impl SignedIn {
    fn from_session(s: Session) -> Self {
        SignedIn {
            holder_id: s.holder_id,
            csrf: s.csrf_token,
        }
    }
}

/// The cookie value the browser sent, if any.
pub fn session_id(req: &HttpRequest) -> Option<String> {
    req.cookie(SESSION_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

/// The live session of this request (touched: its idle time starts again), or `None`.
pub async fn current(req: &HttpRequest, state: &AppState) -> Result<Option<SignedIn>, ApiError> {
    let Some(id) = session_id(req) else {
        return Ok(None);
    };
    let limits = state.settings.accounts;
    let session = db::run(&state.pool, move |conn| {
        Ok(sessions::touch(conn, &id, &limits)?)
    })
    .await?;
    Ok(session.map(SignedIn::from_session))
}

/// For pages only a signed-in holder sees: the holder, or the response to send instead (a
/// redirect to the login page that comes back here, or the failure page).
pub async fn require(req: &HttpRequest, state: &AppState) -> Result<SignedIn, HttpResponse> {
    match current(req, state).await {
        Ok(Some(holder)) => Ok(holder),
        Ok(None) => {
            let here = match req.uri().path_and_query() {
                Some(pq) => pq.as_str().to_owned(),
                None => req.path().to_owned(),
            };
            let mut response = HttpResponse::SeeOther();
            super::render::secure(&mut response);
            Err(response
                .insert_header((header::LOCATION, login_redirect(&here)))
                .finish())
        }
        Err(e) => Err(super::render::Chrome::new(req).failure(e)),
    }
}

/// Whether cookies must be `Secure`: whenever the public URL is https.
pub fn secure_cookies(state: &AppState) -> bool {
    state.public_url.starts_with("https://")
}

/// `Set-Cookie` for a new session id. No `Max-Age`: the browser forgets it when it closes,
/// and the server ends it after the idle or absolute limit anyway.
pub fn session_cookie(id: &str, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    )
}

/// `Set-Cookie` that removes the session cookie (logout).
pub fn clear_session_cookie(secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The pre-login CSRF token of this browser, and the `Set-Cookie` that plants it when the
/// browser had none (put it on the response that shows the form).
pub fn anonymous_csrf(req: &HttpRequest, secure: bool) -> (String, Option<String>) {
    if let Some(token) = req
        .cookie(CSRF_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() == 43 && v.bytes().all(is_token_byte))
    {
        return (token, None);
    }
    let token = crate::holders::tokens::random_secret();
    let cookie = format!(
        "{CSRF_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=86400{}",
        if secure { "; Secure" } else { "" }
    );
    (token, Some(cookie))
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// Whether a posted form may change something: its `Origin` (when the browser sends one,
/// as every current browser does on a POST) is this site, and its token matches `expected`
/// (the session's, or the pre-login cookie's). Compared in constant time.
pub fn form_allowed(req: &HttpRequest, state: &AppState, expected: &str, given: &str) -> bool {
    origin_allowed(req, state) && !expected.is_empty() && same_secret(expected, given)
}

/// A form's `Origin` is the public URL's origin or, where no public URL is set (the local
/// default), the `Host` the browser addressed. A missing `Origin` leaves the token alone
/// to decide; `null` (a sandboxed or privacy-stripped origin) is refused.
pub fn origin_allowed(req: &HttpRequest, state: &AppState) -> bool {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let origin = origin.trim_end_matches('/');
    if origin.eq_ignore_ascii_case(state.public_url.trim_end_matches('/')) {
        return true;
    }
    let Some(host) = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
    else {
        return false;
    };
    let info = req.connection_info();
    let own = format!("{}://{}", info.scheme(), host);
    origin.eq_ignore_ascii_case(&own)
}

/// Where a page that needs a signed-in holder sends everyone else: the login page, which
/// comes back to `path` afterwards. Only local paths are kept (no open redirect).
pub fn login_redirect(path_and_query: &str) -> String {
    match safe_next(path_and_query) {
        Some(next) => {
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            q.append_pair("next", next);
            format!("/account/login?{}", q.finish())
        }
        None => "/account/login".to_owned(),
    }
}

/// `next` if it is a local path (`/portal…`), else `None`: `//host`, `/\host` and
/// anything with a scheme are refused.
pub fn safe_next(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.contains(['\r', '\n'])
        && next.len() <= 512;
    ok.then_some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_login() {
        assert_eq!(safe_next("/portal/requests/1"), Some("/portal/requests/1"));
        assert_eq!(safe_next("//evil.example/"), None);
        assert_eq!(safe_next("/\\evil.example"), None);
        assert_eq!(safe_next("https://evil.example/"), None);
        assert_eq!(safe_next("/a\r\nSet-Cookie: x"), None);
        assert_eq!(
            login_redirect("/portal?x=1"),
            "/account/login?next=%2Fportal%3Fx%3D1"
        );
        assert_eq!(login_redirect("//evil"), "/account/login");
    }

    #[test]
    fn session_cookies_are_http_only_and_lax_and_secure_on_https() {
        let plain = session_cookie("abc", false);
        assert!(plain.contains("HttpOnly") && plain.contains("SameSite=Lax"));
        assert!(!plain.contains("Secure"));
        assert!(session_cookie("abc", true).ends_with("; Secure"));
        assert!(clear_session_cookie(false).contains("Max-Age=0"));
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
    }
}
