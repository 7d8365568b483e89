//! A browser-like client for the page tests: it keeps cookies and sends this site's
//! `Origin` on forms; and the account pages' steps (register, log in) as a person does them.

use std::cell::RefCell;
use std::collections::BTreeMap;

use certverify::db::schema::{holder_sessions, holders};
use diesel::prelude::*;

use crate::helpers::{TestApp, PASSWORD};

/// A page as a browser got it.
pub struct Page {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    /// The value of the form's hidden `csrf` field.
    pub fn csrf(&self) -> String {
        hidden(&self.body, "csrf").expect("a csrf field")
    }
}

pub fn hidden(body: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let at = body.find(&marker)? + marker.len();
    Some(body[at..].split('"').next().unwrap_or_default().to_owned())
}

/// One browser: its cookies, and the `Origin` it sends with a form.
pub struct Browser<'a> {
    app: &'a TestApp,
    jar: RefCell<BTreeMap<String, String>>,
    pub origin: String,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Browser {
            app,
            jar: RefCell::new(BTreeMap::new()),
            origin: app.address.clone(),
        }
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar.borrow().get(name).cloned()
    }

    pub fn set_cookie(&self, name: &str, value: &str) {
        self.jar.borrow_mut().insert(name.into(), value.into());
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Page {
        let cookies: Vec<String> = self
            .jar
            .borrow()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let req = if cookies.is_empty() {
            req
        } else {
            req.header("cookie", cookies.join("; "))
        };
        let res = req.send().await.expect("request sent");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        for value in headers.get_all("set-cookie") {
            let text = value.to_str().unwrap();
            let (pair, attrs) = text.split_once(';').unwrap_or((text, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.jar.borrow_mut().remove(name);
            } else {
                self.set_cookie(name, value);
            }
        }
        let body = res.text().await.unwrap();
        Page {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Page {
        self.send(self.app.client.get(self.app.url(path))).await
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let req = self
            .app
            .client
            .post(self.app.url(path))
            .header("origin", &self.origin)
            .form(form);
        self.send(req).await
    }
}

/// What every page must be: its language, the headers of DESIGN.md, no untranslated key.
pub fn assert_page(page: &Page, lang: &str) {
    assert!(page.header("content-type").starts_with("text/html"));
    let csp = page.header("content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"));
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(page.header("x-content-type-options"), "nosniff");
    assert_eq!(page.header("referrer-policy"), "same-origin");
    assert!(
        page.body.contains(&format!("<html lang=\"{lang}\">")),
        "{}",
        page.body
    );
    assert!(!page.body.contains('⟦'), "a key shown: {}", page.body);
    assert!(!page.body.contains("<script"), "{}", page.body);
}

/// The registration form's fields for `email`, as a person fills them in.
pub fn registration<'f>(email: &'f str, csrf: &'f str) -> Vec<(&'f str, &'f str)> {
    vec![
        ("csrf", csrf),
        ("email", email),
        ("password", PASSWORD),
        ("full_name", "Ana Lima"),
        ("date_of_birth", "1988-04-02"),
        ("nationality", "BR"),
        ("identity_kind", "foreign_national"),
        ("identity_document_type", "passport"),
        ("identity_document_number", "FZ 123-4567"),
        ("residence_country", "BR"),
    ]
}

pub async fn register(browser: &Browser<'_>, email: &str) -> Page {
    let form = browser.get("/account/register?lang=en").await;
    let csrf = form.csrf();
    browser
        .post("/account/register", &registration(email, &csrf))
        .await
}

pub async fn login(browser: &Browser<'_>, email: &str, password: &str, next: &str) -> Page {
    let csrf = browser.get("/account/login").await.csrf();
    browser
        .post(
            "/account/login",
            &[
                ("csrf", &csrf),
                ("email", email),
                ("password", password),
                ("next", next),
            ],
        )
        .await
}

pub fn sessions_of(app: &TestApp) -> Vec<(String, String)> {
    app.with_db(|conn| {
        holder_sessions::table
            .select((holder_sessions::id_hash, holder_sessions::csrf_token))
            .load(conn)
            .unwrap()
    })
}

pub fn holder_count(app: &TestApp) -> i64 {
    app.with_db(|conn| holders::table.count().get_result(conn).unwrap())
}
