//! `/`: what the platform does, for whom, and where to begin.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

use super::render::Chrome;

#[derive(Template)]
#[template(path = "start.html")]
struct Start<'a> {
    c: &'a Chrome,
}

pub async fn page(req: HttpRequest) -> HttpResponse {
    let c = Chrome::new(&req);
    c.respond(StatusCode::OK, &Start { c: &c })
}
