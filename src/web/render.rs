//! What every page shares: the chrome around it (language, switch link, stylesheet), the
//! security headers, and the pages for errors.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use askama::Template;

use super::assets;
use super::i18n::{negotiate, Lang, Negotiated, Strings};
use crate::error::ApiError;

/// No inline script, no third-party origin, no framing (DESIGN.md "Web pages").
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
    form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The parts of a page its layout needs.
pub struct Chrome {
    pub lang: Lang,
    pub strings: &'static Strings,
    /// This page in the other language.
    pub switch_href: String,
    pub css_href: &'static str,
    /// `serve --demo`: where the outbox is, for the banner on every page.
    pub demo_outbox: Option<String>,
    /// The browser sent a session cookie: the navigation offers the portal instead of
    /// login and registration. Presence only (no database read); a stale cookie still
    /// says so, and the portal then sends the browser to the login page.
    pub signed_in: bool,
    set_cookie: Option<String>,
}

impl Chrome {
    pub fn new(req: &HttpRequest) -> Chrome {
        let Negotiated { lang, set_cookie } = negotiate(req);
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in url::form_urlencoded::parse(req.query_string().as_bytes()) {
            if k != "lang" {
                query.append_pair(&k, &v);
            }
        }
        query.append_pair("lang", lang.other().tag());
        Chrome {
            lang,
            strings: lang.strings(),
            switch_href: format!("{}?{}", req.path(), query.finish()),
            css_href: assets::css_href(),
            demo_outbox: req
                .app_data::<actix_web::web::Data<crate::app::AppState>>()
                .filter(|state| state.settings.demo)
                .map(|state| state.settings.mail.outbox_dir.display().to_string()),
            signed_in: super::session::session_id(req).is_some(),
            set_cookie,
        }
    }

    /// The text for `key` in the page's language.
    pub fn t(&self, key: &str) -> String {
        self.strings.get(key)
    }

    /// The demonstration banner's text, under `serve --demo` only.
    pub fn demo_banner(&self) -> Option<String> {
        let outbox = self.demo_outbox.as_deref()?;
        Some(self.fill("demo-banner-text", &[("outbox", outbox)]))
    }

    pub fn fill(&self, key: &str, args: &[(&str, &str)]) -> String {
        self.strings.fill(key, args)
    }

    /// A name in the page's language, and the other language's beside it when there is one
    /// that differs (qualification names on the record and check pages).
    pub fn names(&self, en: &str, zh: Option<&str>) -> (String, Option<String>) {
        let first = self.pick(en, zh).to_owned();
        let other = if first == en {
            zh.filter(|n| !n.is_empty()).map(str::to_owned)
        } else {
            Some(en.to_owned())
        };
        (first, other)
    }

    /// The Chinese name where the page is Chinese and one exists, else the English one.
    pub fn pick<'a>(&self, en: &'a str, zh: Option<&'a str>) -> &'a str {
        match (self.lang, zh) {
            (Lang::Zh, Some(zh)) if !zh.is_empty() => zh,
            _ => en,
        }
    }

    /// A page: HTML with the security headers, and the language cookie when `?lang=` chose.
    pub fn respond(&self, status: StatusCode, page: &impl Template) -> HttpResponse {
        let html = match page.render() {
            Ok(html) => html,
            Err(e) => {
                tracing::error!(error = %e, "a page failed to render");
                return plain_failure();
            }
        };
        let mut response = HttpResponse::build(status);
        secure(&mut response);
        response
            .content_type("text/html; charset=utf-8")
            .insert_header((header::VARY, "Accept-Language, Cookie"))
            .insert_header((header::CACHE_CONTROL, "no-cache"));
        if let Some(cookie) = &self.set_cookie {
            response.insert_header((header::SET_COOKIE, cookie.as_str()));
        }
        response.body(html)
    }

    /// The message page for a failed operation: 404 and 429 in words, anything else as
    /// "try again later" (the problem itself is logged by the error, never shown).
    pub fn failure(&self, err: ApiError) -> HttpResponse {
        let (title, text) = match err.status {
            StatusCode::NOT_FOUND => ("notfound-title", "notfound-text"),
            StatusCode::TOO_MANY_REQUESTS => ("ratelimited-title", "ratelimited-text"),
            _ => ("failure-title", "failure-text"),
        };
        let status = err.status;
        // Built for its side effects: the log line of a server error and the Retry-After.
        let api = err.error_response();
        let mut page = self.respond(status, &Message::new(self, title, text));
        if let Some(retry) = api.headers().get(header::RETRY_AFTER) {
            page.headers_mut()
                .insert(header::RETRY_AFTER, retry.clone());
        }
        page
    }
}

/// The headers of DESIGN.md on every page and asset.
pub fn secure(response: &mut actix_web::HttpResponseBuilder) {
    response
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"));
}

fn plain_failure() -> HttpResponse {
    let mut response = HttpResponse::InternalServerError();
    secure(&mut response);
    response
        .content_type("text/plain; charset=utf-8")
        .body("500: the page could not be shown / 页面无法显示")
}

/// A page that only says something: not found, too many requests, a failure.
#[derive(Template)]
#[template(path = "message.html")]
pub struct Message<'a> {
    pub c: &'a Chrome,
    pub title: String,
    pub text: String,
}

impl<'a> Message<'a> {
    pub fn new(c: &'a Chrome, title: &str, text: &str) -> Self {
        Message {
            c,
            title: c.t(title),
            text: c.t(text),
        }
    }
}

/// The 404 page for a path no page has.
pub fn not_found(req: &HttpRequest) -> HttpResponse {
    let c = Chrome::new(req);
    c.respond(
        StatusCode::NOT_FOUND,
        &Message::new(&c, "notfound-title", "notfound-text"),
    )
}

/// A record's status in words (its translation key) and its tone (the CSS class), alike on
/// every page that shows one.
pub fn record_status(status: crate::records::types::RecordStatus) -> (&'static str, &'static str) {
    use crate::records::types::RecordStatus;
    match status {
        RecordStatus::Valid => ("status-valid", "good"),
        RecordStatus::Suspended => ("status-suspended", "warn"),
        RecordStatus::Revoked => ("status-revoked", "bad"),
        RecordStatus::Expired => ("status-expired", "bad"),
    }
}

/// The translation key of a policy service's title: Fluent keys have no dots.
pub fn service_key(code: &str) -> String {
    format!("service-{}", code.replace('.', "-"))
}

/// `2026-12-03`, as the page's language writes a date.
pub fn date(lang: Lang, iso: &str) -> String {
    let Ok(d) = chrono::NaiveDate::parse_from_str(iso.get(..10).unwrap_or(iso), "%Y-%m-%d") else {
        return iso.to_owned();
    };
    match lang {
        Lang::Zh => d.format("%Y年%-m月%-d日").to_string(),
        Lang::En => d.format("%-d %B %Y").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_each_language() {
        assert_eq!(date(Lang::Zh, "2026-03-07"), "2026年3月7日");
        assert_eq!(date(Lang::En, "2026-03-07T10:00:00Z"), "7 March 2026");
        assert_eq!(date(Lang::En, "soon"), "soon");
    }

    #[test]
    fn service_keys_have_no_dots() {
        assert_eq!(
            service_key("A.visa.multi_entry"),
            "service-A-visa-multi_entry"
        );
    }
}
