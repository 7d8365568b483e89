//! Makes every framework-level failure a problem document: extractor errors (malformed
//! JSON, wrong content type, oversized bodies, bad query strings), unknown routes, wrong
//! methods, and anything else that would otherwise leave with a plain-text body.

use actix_web::dev::ServiceResponse;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{web, HttpRequest, ResponseError};

use crate::error::{ApiError, PROBLEM_JSON};

pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(|err, _req| json_error(err).into())
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| {
        let detail = match &err {
            QueryPayloadError::Deserialize(e) => format!("Invalid query string: {e}"),
            other => format!("Invalid query string: {other}"),
        };
        ApiError::bad_request("invalid_query", detail).into()
    })
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, _req| {
        let PathError::Deserialize(e) = &err else {
            return ApiError::not_found("No such resource.").into();
        };
        ApiError::not_found(format!("No such resource: {e}")).into()
    })
}

fn json_error(err: JsonPayloadError) -> ApiError {
    match err {
        JsonPayloadError::OverflowKnownLength { length, limit } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("The body has {length} bytes; at most {limit} are accepted."),
        ),
        JsonPayloadError::Overflow { limit } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("The body is over the limit of {limit} bytes."),
        ),
        JsonPayloadError::ContentType => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "This endpoint takes application/json.",
        ),
        JsonPayloadError::Deserialize(e) if e.is_data() => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            format!("The body does not have the expected shape: {e}"),
        ),
        JsonPayloadError::Deserialize(e) => {
            ApiError::bad_request("malformed_json", format!("The body is not valid JSON: {e}"))
        }
        other => ApiError::bad_request(
            "malformed_body",
            format!("The body could not be read: {other}"),
        ),
    }
}

/// Reads a raw body (imports, evidence, callbacks) up to `limit` bytes; more is a 413
/// problem saying `what` is limited to that.
pub async fn read_limited(
    mut payload: web::Payload,
    limit: usize,
    what: &str,
) -> Result<web::BytesMut, ApiError> {
    use futures_util::StreamExt;
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::bad_request("malformed_body", format!("The body could not be read: {e}"))
        })?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("{what} is limited to {limit} bytes."),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The routes the API serves, by path template and method, taken from the OpenAPI
/// document so that the 404/405 decision can never drift from the real routes.
#[derive(Debug, Default)]
pub struct RouteTable {
    routes: Vec<(Vec<Segment>, Vec<Method>)>,
}

#[derive(Debug, PartialEq)]
enum Segment {
    Literal(String),
    Param,
}

impl RouteTable {
    pub fn from_openapi(doc: &utoipa::openapi::OpenApi) -> Self {
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let segments = split(path)
                    .map(|s| {
                        if s.starts_with('{') {
                            Segment::Param
                        } else {
                            Segment::Literal(s.to_owned())
                        }
                    })
                    .collect();
                let mut methods: Vec<Method> = [
                    (item.get.is_some(), Method::GET),
                    (item.post.is_some(), Method::POST),
                    (item.put.is_some(), Method::PUT),
                    (item.patch.is_some(), Method::PATCH),
                    (item.delete.is_some(), Method::DELETE),
                ]
                .into_iter()
                .filter_map(|(present, m)| present.then_some(m))
                .collect();
                if methods.contains(&Method::GET) {
                    methods.push(Method::HEAD);
                }
                (segments, methods)
            })
            .collect();
        Self { routes }
    }

    /// The methods allowed on a path, or None when no route has that path. As OpenAPI
    /// matches paths, a concrete path wins over a templated one (`/v1/records/search`
    /// is not `/v1/records/{id}`).
    pub fn allowed(&self, path: &str) -> Option<Vec<Method>> {
        let parts: Vec<&str> = split(path).collect();
        let mut found: Option<(usize, Vec<Method>)> = None;
        for (segments, methods) in &self.routes {
            let matches = segments.len() == parts.len()
                && segments.iter().zip(&parts).all(|(s, p)| match s {
                    Segment::Param => !p.is_empty(),
                    Segment::Literal(l) => l == p,
                });
            if !matches {
                continue;
            }
            let literal = segments
                .iter()
                .filter(|s| matches!(s, Segment::Literal(_)))
                .count();
            match &mut found {
                Some((best, found)) if *best == literal => found.extend(methods.iter().cloned()),
                Some((best, _)) if *best > literal => {}
                _ => found = Some((literal, methods.clone())),
            }
        }
        found.map(|(_, methods)| methods)
    }
}

fn split(path: &str) -> impl Iterator<Item = &str> {
    path.trim_end_matches('/').split('/').skip(1)
}

/// The default service: 405 with `Allow` when the path exists, 404 otherwise.
pub async fn fallback(
    req: HttpRequest,
    table: web::Data<RouteTable>,
) -> Result<actix_web::HttpResponse, ApiError> {
    Err(match table.allowed(req.path()) {
        Some(methods) => {
            let allow = methods
                .iter()
                .map(Method::as_str)
                .collect::<Vec<_>>()
                .join(", ");
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                format!("{} is not allowed here; allowed: {allow}.", req.method()),
            )
            .with_header(header::ALLOW, &allow)
        }
        None => ApiError::not_found(format!("No route for {}.", req.path())),
    })
}

/// Rewrites any error response that is not already JSON into a problem document, so no
/// framework default (plain text, empty body) reaches the caller.
pub fn ensure_problem<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    // JSON is already a problem; HTML is a page's own error page (src/web), in its language.
    let is_own = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.contains("json") || ct.starts_with("text/html"));
    if is_own {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let code = match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::REQUEST_TIMEOUT => "request_timeout",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        s if s.is_server_error() => "internal",
        _ => "http_error",
    };
    let detail = status.canonical_reason().unwrap_or("The request failed.");
    let mut rebuilt = ApiError::new(status, code, detail);
    for name in [header::ALLOW, header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
        if let Some(value) = res.headers().get(&name).and_then(|v| v.to_str().ok()) {
            rebuilt = rebuilt.with_header(name, value);
        }
    }
    let (req, _) = res.into_parts();
    let mut response = rebuilt.error_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(PROBLEM_JSON),
    );
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, response).map_into_right_body(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> RouteTable {
        use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem, PathsBuilder};
        let paths = PathsBuilder::new()
            .path(
                "/v1/holders",
                PathItem::new(HttpMethod::Post, OperationBuilder::new().build()),
            )
            .path(
                "/v1/records/{id}",
                PathItem::new(HttpMethod::Get, OperationBuilder::new().build()),
            )
            .build();
        RouteTable::from_openapi(&utoipa::openapi::OpenApiBuilder::new().paths(paths).build())
    }

    #[test]
    fn a_known_path_reports_its_methods() {
        assert_eq!(table().allowed("/v1/holders"), Some(vec![Method::POST]));
        assert_eq!(
            table().allowed("/v1/records/abc"),
            Some(vec![Method::GET, Method::HEAD])
        );
    }

    #[test]
    fn a_concrete_path_wins_over_a_template() {
        use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem, PathsBuilder};
        let paths = PathsBuilder::new()
            .path(
                "/v1/records/search",
                PathItem::new(HttpMethod::Post, OperationBuilder::new().build()),
            )
            .path(
                "/v1/records/{id}",
                PathItem::new(HttpMethod::Get, OperationBuilder::new().build()),
            )
            .build();
        let table =
            RouteTable::from_openapi(&utoipa::openapi::OpenApiBuilder::new().paths(paths).build());
        assert_eq!(
            table.allowed("/v1/records/search"),
            Some(vec![Method::POST])
        );
        assert_eq!(
            table.allowed("/v1/records/abc"),
            Some(vec![Method::GET, Method::HEAD])
        );
    }

    #[test]
    fn an_unknown_path_has_no_methods() {
        assert_eq!(table().allowed("/v1/nothing"), None);
        assert_eq!(table().allowed("/v1/records/abc/extra"), None);
        assert_eq!(table().allowed("/v1/records//"), None);
    }
}
