//! Pages for people (DESIGN.md "Web pages"): server-rendered HTML in Chinese and English
//! over the same domain operations as the API. Nothing imports this module but `startup`.

mod account;
mod assets;
mod check;
pub mod i18n;
mod multipart;
mod portal;
mod registry;
mod render;
mod report;
mod session;
mod start;
mod verify;

use actix_web::{web, HttpRequest, HttpResponse};

use crate::problems::{self, RouteTable};

/// Mounts every page; `startup` calls it beside the API's routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    report::configure(cfg);
    cfg.route("/", read().to(start::page))
        .route("/registry", read().to(registry::search))
        .route("/registry/{id}", read().to(registry::detail))
        .route("/check", read().to(check::form))
        .route("/check", web::post().to(check::submit))
        .route("/check/{code}", read().to(check::result))
        .route("/verify", read().to(verify::form))
        .route("/verify", web::post().to(verify::submit))
        .configure(portal::configure)
        .route("/assets/{name}", read().to(assets::serve));
    account::configure(cfg);
}

/// GET, and HEAD as its bodiless twin (link checkers and monitors send HEAD).
fn read() -> actix_web::Route {
    use actix_web::guard;
    web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
}

/// The default service: the API's paths keep their problem documents (404, or 405 with
/// `Allow`); any other unknown path is the 404 page in the reader's language.
pub async fn fallback(
    req: HttpRequest,
    table: web::Data<RouteTable>,
) -> Result<HttpResponse, crate::error::ApiError> {
    let path = req.path();
    let api = path == "/v1"
        || path.starts_with("/v1/")
        || path.starts_with("/.well-known/")
        || table.allowed(path).is_some();
    if api {
        return problems::fallback(req, table).await;
    }
    Ok(render::not_found(&req))
}
