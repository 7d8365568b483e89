//! Structured logs. Logs go to stderr so that commands whose stdout is their answer
//! (`admin bootstrap`) stay machine-readable.

use tracing_subscriber::{fmt, EnvFilter};

use crate::config::LogFormat;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // A second init (tests start many apps in one process) is harmless, so its error is not.
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}

/// The route template a request matched, found once per request: actix finds it by trying
/// every route's pattern in turn, and the span and the metrics both need it.
#[derive(Clone)]
pub struct MatchedRoute(pub Option<String>);

impl MatchedRoute {
    /// The template, matched now or read from the request where it was stored.
    pub fn of(request: &actix_web::HttpRequest) -> Option<String> {
        use actix_web::HttpMessage;
        if let Some(found) = request.extensions().get::<MatchedRoute>() {
            return found.0.clone();
        }
        let route = request.match_pattern();
        request.extensions_mut().insert(MatchedRoute(route.clone()));
        route
    }
}

/// The request span of every request: tracing-actix-web's fields, except that a path
/// carrying a secret (a share code, an emailed token) is logged as its route template, never as typed.
pub struct RedactingRootSpan;

impl tracing_actix_web::RootSpanBuilder for RedactingRootSpan {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        use actix_web::HttpMessage;
        let route = MatchedRoute::of(request.request());
        let target = match &route {
            // Share codes, and the emailed tokens of the account pages' links.
            Some(pattern) if pattern.contains("{code}") || pattern.contains("{token}") => {
                pattern.clone()
            }
            _ => request
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default(),
        };
        let request_id = request
            .extensions()
            .get::<tracing_actix_web::RequestId>()
            .map(|id| id.to_string())
            .unwrap_or_default();
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %route.as_deref().unwrap_or("default"),
            http.target = %target,
            http.status_code = tracing::field::Empty,
            otel.kind = "server",
            otel.status_code = tracing::field::Empty,
            request_id = %request_id,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        )
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        tracing_actix_web::DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}
