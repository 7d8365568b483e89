//! Builds the application: database, keys, routes, middleware, and the HTTP server.

use actix_web::dev::Server;
use actix_web::middleware::{from_fn, ErrorHandlers};
use actix_web::{web, App, HttpServer};
use std::net::TcpListener;
use std::sync::Arc;
use tracing_actix_web::TracingLogger;
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::app::AppState;
use crate::auth::extract::BearerVerifier;
use crate::auth::keys::{self, KeyRing};
use crate::auth::password::PasswordHasher;
use crate::auth::ratelimit::{AuthRateLimiter, LookupRateLimiter};
use crate::config::Settings;
use crate::db;
use crate::openapi::ApiDoc;
use crate::ops::metrics::Metrics;
use crate::policy::PolicyTable;
use crate::problems::{self, RouteTable};
use crate::records::RecordsState;
use crate::registry::ListingEffects;

pub struct Application {
    port: u16,
    public_url: String,
    server: Server,
}

impl Application {
    /// Connects, migrates, loads the keys and binds; the server runs once awaited.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        // Checked before anything else starts, so a bad table never serves a decision.
        let policy = load_policy(&settings)?;
        let pool = db::build_pool_with(
            &settings.database_url,
            settings.db_pool_size,
            settings.storage,
        )?;
        let migrate_pool = pool.clone();
        let applied = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<String>> {
            let mut conn = migrate_pool.get()?;
            db::migrations::run_pending(&mut conn)
        })
        .await??;
        if !applied.is_empty() {
            tracing::info!(?applied, "applied migrations");
        }
        let key_ring = KeyRing::new(keys::load_platform_key(&settings)?)?;
        let pii = keys::load_pii_key(&settings)?;
        let verifying = key_ring.active().signing.verifying_key();
        let key_pool = pool.clone();
        let published = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let mut conn = key_pool.get()?;
            crate::records::keys::register_active(&mut conn, &verifying)?;
            crate::records::keys::published(&mut conn)
        })
        .await??;
        key_ring.publish(&published)?;

        let listener = TcpListener::bind(settings.listen).map_err(|e| {
            anyhow::anyhow!("CERTVERIFY_LISTEN: cannot bind {}: {e}", settings.listen)
        })?;
        let local = listener.local_addr()?;
        let public_url = match &settings.public_url {
            Some(url) => url.as_str().trim_end_matches('/').to_owned(),
            None if local.ip().is_unspecified() => format!("http://127.0.0.1:{}", local.port()),
            None => format!("http://{local}"),
        };

        let records = web::Data::new(RecordsState::start(pool.clone())?);
        let policy = web::Data::new(policy);
        let state = web::Data::new(new_state(
            &settings,
            pool,
            key_ring,
            pii,
            public_url.clone(),
        )?);
        if settings.dispatcher.concurrency > 0 {
            let dispatcher = crate::issuers::dispatcher::Dispatcher::new(
                state.clone().into_inner(),
                records.clone().into_inner(),
            )?;
            tokio::spawn(dispatcher.run());
        }
        let mail = crate::notify::sender::Sender::new(state.pool.clone(), settings.mail.clone())?;
        if mail.writes_files() {
            if settings.database_url.is_sqlite() {
                tracing::info!(outbox = %settings.mail.outbox_dir.display(), "no CERTVERIFY_SMTP_URL: mail is written as .eml files");
            } else {
                // Instances share the queue, not a disk: each writes what it claims.
                tracing::warn!(outbox = %settings.mail.outbox_dir.display(), "no CERTVERIFY_SMTP_URL with PostgreSQL: mail stays in the outbox directory of whichever instance sends it; set CERTVERIFY_SMTP_URL to deliver it");
            }
        }
        tokio::spawn(mail.run());
        tokio::spawn(crate::records::keys::refresh_published(
            state.clone().into_inner(),
        ));
        tokio::spawn(crate::audit::chain::run(state.pool.clone()));
        if matches!(settings.database_url, crate::config::DatabaseUrl::Sqlite(_)) {
            tokio::spawn(db::checkpoint_sqlite(state.pool.clone()));
        }
        let metrics = web::Data::from(state.metrics.clone());
        let verifier: web::Data<dyn BearerVerifier> =
            web::Data::from(state.clone().into_inner() as Arc<dyn BearerVerifier>);
        let listing = web::Data::new(listing_effects());
        let doc = api_doc();
        let route_table = web::Data::new(RouteTable::from_openapi(&doc));
        let body_limit = settings.max_body_bytes;

        let mut server = HttpServer::new(move || {
            App::new()
                .into_utoipa_app()
                // `/v1/records/search` is POST only: without this, a GET would reach the
                // record read with "search" for an id, where the document says 405.
                .map(|app| {
                    app.service(
                        web::resource("/v1/records/search")
                            .guard(
                                actix_web::guard::Any(actix_web::guard::Get())
                                    .or(actix_web::guard::Head()),
                            )
                            .to(problems::fallback),
                    )
                })
                .app_data(state.clone())
                .app_data(verifier.clone())
                .app_data(records.clone())
                .app_data(policy.clone())
                .app_data(listing.clone())
                .app_data(metrics.clone())
                .app_data(route_table.clone())
                .app_data(problems::json_config(body_limit))
                .app_data(problems::query_config())
                .app_data(problems::path_config())
                .app_data(web::PayloadConfig::new(body_limit))
                .configure(routes)
                .openapi_service(|_| {
                    SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", doc.clone())
                })
                .map(|app| {
                    app.service(web::redirect("/docs", "/docs/"))
                        .configure(crate::web::configure)
                        .default_service(web::to(crate::web::fallback))
                        .wrap(
                            ErrorHandlers::new()
                                .default_handler_client(problems::ensure_problem)
                                .default_handler_server(problems::ensure_problem),
                        )
                        .wrap(from_fn(crate::auth::ratelimit::headers))
                        .wrap(from_fn(crate::ops::metrics::middleware))
                        .wrap(TracingLogger::<crate::ops::telemetry::RedactingRootSpan>::new())
                })
                .into_app()
        })
        .listen(listener)?
        .shutdown_timeout(30);
        if let Some(workers) = settings.workers {
            server = server.workers(workers);
        }
        tracing::info!(address = %local, %public_url, "listening");
        Ok(Self {
            port: local.port(),
            public_url,
            server: server.run(),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// Runs until SIGTERM or ctrl-c, then stops taking connections and lets the
    /// requests in flight finish (actix's graceful shutdown).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

fn new_state(
    settings: &Settings,
    pool: db::Pool,
    keys: KeyRing,
    pii: crate::domain::identity::PiiKey,
    public_url: String,
) -> anyhow::Result<AppState> {
    Ok(AppState {
        hasher: PasswordHasher::new(settings.argon2)?,
        limiter: AuthRateLimiter::new(settings.auth_rate_limit_per_minute),
        share_code_limiter: LookupRateLimiter::new(settings.share_code_rate_limit_per_minute),
        metrics: Arc::new(Metrics::new()?),
        verified_tokens: crate::auth::token_cache::VerifiedTokens::new(
            crate::auth::token_cache::DEFAULT_CAPACITY,
        ),
        pool,
        keys,
        pii,
        public_url,
        settings: settings.clone(),
    })
}

/// The shared state on an already migrated database, without a server: for calling the
/// domain operations from tests and tools (its limiters are its own).
pub async fn test_state(settings: Settings, public_url: String) -> anyhow::Result<AppState> {
    let pool = db::build_pool_with(&settings.database_url, 2, settings.storage)?;
    let key_ring = KeyRing::new(keys::load_platform_key(&settings)?)?;
    let pii = keys::load_pii_key(&settings)?;
    new_state(&settings, pool, key_ring, pii, public_url)
}

/// The embedded services table, or the file CERTVERIFY_POLICY_FILE names.
pub fn load_policy(settings: &Settings) -> anyhow::Result<PolicyTable> {
    match &settings.policy_file {
        None => PolicyTable::embedded()
            .map_err(|e| anyhow::anyhow!("the embedded services table is invalid: {e}")),
        Some(path) => {
            let table = PolicyTable::from_path(path)
                .map_err(|e| anyhow::anyhow!("CERTVERIFY_POLICY_FILE ({}): {e}", path.display()))?;
            tracing::info!(path = %path.display(), policy_version = table.policy_version(), "services table loaded");
            Ok(table)
        }
    }
}

/// What removing a qualification from the list, or restoring it, does to its records: the
/// registry sits below the records, so their operations are handed to it here.
pub fn listing_effects() -> ListingEffects {
    ListingEffects {
        removed: crate::records::status::suspend_delisted,
        restored: crate::records::status::reinstate_relisted,
    }
}

/// Every route of the API, each module registering its own.
fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(crate::health::healthz)
        .service(crate::health::readyz)
        .service(crate::health::metrics)
        .configure(crate::holders::routes::configure)
        .configure(crate::accounts::routes::configure)
        .configure(crate::registry::routes::configure)
        .configure(crate::registry::admin_routes::configure)
        .configure(crate::registry::import_routes::configure)
        .configure(crate::requests::routes::configure)
        .configure(crate::requests::review::configure)
        .configure(crate::issuers::callbacks::configure)
        .configure(crate::records::routes::configure)
        .configure(crate::records::admin_routes::configure)
        .configure(crate::records::holder_routes::configure)
        .configure(crate::records::lookup_routes::configure)
        .configure(crate::audit::routes::configure)
        .configure(crate::policy::routes::configure);
}

/// The full OpenAPI document as the server serves it at `/openapi.json`.
pub fn api_doc() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(routes)
        .split_for_parts();
    // Runs after the routes registered their paths; `#[openapi(modifiers)]` runs before.
    crate::openapi::ErrorResponses.modify(&mut doc);
    doc
}
