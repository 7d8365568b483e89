//! The shared state every module may use: the pool, the keys, the settings and the caches
//! of the lower layers. It sits low in the tree (as rust-lang's registry backend keeps its
//! `App`): it imports `auth`, `config`, `db`, `domain` and `ops`, and no feature module.
//! A feature module's own running state (the records' access-log writer, the services
//! table) is its own type, which `startup` builds and hands to the routes beside this one.

use std::sync::Arc;

use crate::auth::extract::BearerVerifier;
use crate::auth::keys::KeyRing;
use crate::auth::password::PasswordHasher;
use crate::auth::ratelimit::{AuthRateLimiter, LookupRateLimiter};
use crate::auth::token::{AccessClaims, TokenError, TokenService};
use crate::auth::token_cache::VerifiedTokens;
use crate::config::Settings;
use crate::db::Pool;
use crate::domain::identity::PiiKey;
use crate::ops::metrics::Metrics;

/// What every handler can reach.
pub struct AppState {
    pub pool: Pool,
    pub settings: Settings,
    pub keys: KeyRing,
    pub pii: PiiKey,
    /// The base URL others use to reach the service, without a trailing slash.
    pub public_url: String,
    pub hasher: PasswordHasher,
    pub limiter: AuthRateLimiter,
    pub share_code_limiter: LookupRateLimiter,
    /// Access tokens whose signatures were already checked (auth::token_cache).
    pub verified_tokens: VerifiedTokens,
    /// What `/metrics` shows; the HTTP middleware and the dispatcher count into it.
    pub metrics: Arc<Metrics>,
}

impl AppState {
    pub fn tokens(&self) -> TokenService<'_> {
        TokenService {
            keys: &self.keys,
            issuer: &self.public_url,
        }
    }

    pub fn token_ttl_secs(&self) -> i64 {
        i64::try_from(self.settings.token_ttl.as_secs()).unwrap_or(900)
    }
}

/// The principal extractors of `auth` check bearer tokens through this, so that `auth`
/// needs nothing above it.
impl BearerVerifier for AppState {
    fn verify_bearer(&self, token: &str) -> Result<AccessClaims, TokenError> {
        self.tokens().verify_cached(&self.verified_tokens, token)
    }
}
