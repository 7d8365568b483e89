//! The stylesheet, compiled in and served under a name that carries its digest, so it can
//! be cached for a year and a new build is fetched at once.

use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

use super::render::{not_found, secure};

const CSS: &str = include_str!("assets/site.css");

/// `/assets/site.<first 12 hex of its SHA-256>.css`
pub fn css_href() -> &'static str {
    static HREF: OnceLock<String> = OnceLock::new();
    HREF.get_or_init(|| {
        let digest = hex::encode(Sha256::digest(CSS.as_bytes()));
        format!("/assets/site.{}.css", &digest[..12])
    })
}

pub async fn serve(req: HttpRequest) -> HttpResponse {
    if req.path() != css_href() {
        return not_found(&req);
    }
    let mut response = HttpResponse::Ok();
    secure(&mut response);
    response
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(CSS)
}
