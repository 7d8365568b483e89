//! A browser signed in to the portal: a session row made through the holders' own
//! operation, its cookie and CSRF token sent as a browser would send them.

use certverify::db::schema::holders;
use certverify::holders::sessions;
use diesel::prelude::*;

use crate::helpers::TestApp;

/// A browser signed in as one holder.
pub struct Browser<'a> {
    pub app: &'a TestApp,
    pub cookie: String,
    pub csrf: String,
}

/// A page as a browser got it: status, headers, body.
pub struct Got {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Got {
    pub fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

async fn got(res: reqwest::Response) -> Got {
    Got {
        status: res.status().as_u16(),
        headers: res.headers().clone(),
        body: res.text().await.unwrap(),
    }
}

/// Signs the holder of `email` in: a session row, as the login page would make it.
pub fn sign_in<'a>(app: &'a TestApp, email: &str) -> Browser<'a> {
    let email = email.to_owned();
    let session = app.with_db(|conn| {
        let id: String = holders::table
            .filter(holders::email.eq(&email))
            .select(holders::id)
            .first(conn)
            .unwrap();
        sessions::create(conn, &id, None).unwrap()
    });
    Browser {
        app,
        cookie: format!("cv_session={}", session.id),
        csrf: session.csrf_token,
    }
}

impl Browser<'_> {
    pub async fn get(&self, path: &str) -> Got {
        let res = self
            .app
            .client
            .get(self.app.url(path))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        got(res).await
    }

    /// A form posted from this site's page (`Origin` is the site itself).
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Got {
        let res = self
            .app
            .client
            .post(self.app.url(path))
            .header("cookie", &self.cookie)
            .header("origin", &self.app.address)
            .form(form)
            .send()
            .await
            .unwrap();
        got(res).await
    }

    /// A multipart form (the evidence step) with one file.
    pub async fn post_file(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        file: (&str, &str, &[u8]),
    ) -> Got {
        let boundary = "----portaltestboundary7MA4YWxk";
        let mut body = Vec::new();
        for (k, v) in fields {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                )
                .as_bytes(),
            );
        }
        let (name, content_type, bytes) = file;
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"evidence\"; \
                 filename=\"{name}\"\r\nContent-Type: {content_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let res = self
            .app
            .client
            .post(self.app.url(path))
            .header("cookie", &self.cookie)
            .header("origin", &self.app.address)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .unwrap();
        got(res).await
    }
}

/// What every portal page must be: the headers of DESIGN.md, its language, no key shown.
pub fn assert_portal_page(page: &Got, lang: &str) {
    let h = |name: &str| {
        page.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(h("content-type").starts_with("text/html"));
    let csp = h("content-security-policy");
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    assert_eq!(h("x-content-type-options"), "nosniff");
    assert_eq!(h("referrer-policy"), "same-origin");
    assert!(
        page.body.contains(&format!("<html lang=\"{lang}\">")),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains('⟦'),
        "a key instead of text: {}",
        page.body
    );
    assert!(!page.body.contains("<script"), "{}", page.body);
}

/// The value of the hidden field `name` on a page.
pub fn hidden(body: &str, name: &str) -> String {
    let needle = format!("name=\"{name}\" value=\"");
    let at = body
        .find(&needle)
        .unwrap_or_else(|| panic!("no {name}: {body}"))
        + needle.len();
    body[at..].split('"').next().unwrap().to_owned()
}
