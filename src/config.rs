//! Settings from the environment. Every setting has a default that lets `certverify serve`
//! start on a fresh machine; an unknown `CERTVERIFY_*` variable or a malformed value stops
//! the start with a message naming the setting. Secrets may also come from `NAME_FILE`.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub const DEFAULT_DATABASE_PATH: &str = "data/certverify.db";
const DEFAULT_DATABASE_FILE: &str = "certverify.db";
pub const DEFAULT_KEY_FILE: &str = "keys/platform-ed25519.pem";
pub const DEFAULT_PII_KEY_FILE: &str = "keys/pii-key.hex";
const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// Every variable certverify reads; anything else starting with `CERTVERIFY_` is a typo.
const KNOWN: &[&str] = &[
    "CERTVERIFY_LISTEN",
    "CERTVERIFY_PUBLIC_URL",
    "CERTVERIFY_KEY_FILE",
    "CERTVERIFY_PII_KEY",
    "CERTVERIFY_PII_KEY_FILE",
    "CERTVERIFY_TOKEN_TTL_SECONDS",
    "CERTVERIFY_DB_POOL_SIZE",
    "CERTVERIFY_MAX_BODY_BYTES",
    "CERTVERIFY_WORKERS",
    "CERTVERIFY_LOG_FORMAT",
    "CERTVERIFY_AUTH_RATE_LIMIT_PER_MINUTE",
    "CERTVERIFY_ARGON2_MEMORY_KIB",
    "CERTVERIFY_ARGON2_ITERATIONS",
    "CERTVERIFY_ALLOW_HTTP_ISSUERS",
    "CERTVERIFY_DISPATCHER_CONCURRENCY",
    "CERTVERIFY_ISSUER_CONCURRENCY",
    "CERTVERIFY_ISSUER_TIMEOUT_SECONDS",
    "CERTVERIFY_RETRY_BUDGET_SECONDS",
    "CERTVERIFY_RETRY_BASE_MS",
    "CERTVERIFY_REASK_AFTER_SECONDS",
    "CERTVERIFY_REQUEST_TTL_DAYS",
    "CERTVERIFY_POLICY_FILE",
    "CERTVERIFY_RECORD_VALIDITY_DAYS",
    "CERTVERIFY_SHARE_CODE_RATE_LIMIT_PER_MINUTE",
    "CERTVERIFY_IDEMPOTENCY_LEASE_SECONDS",
    "CERTVERIFY_DB_POOL_TIMEOUT_MS",
    "CERTVERIFY_SQLITE_BUSY_TIMEOUT_MS",
    "CERTVERIFY_DATA_DIR",
    "CERTVERIFY_SMTP_URL",
    "CERTVERIFY_SMTP_URL_FILE",
    "CERTVERIFY_MAIL_FROM",
    "CERTVERIFY_MAIL_POLL_MS",
    "CERTVERIFY_MAIL_RETRY_BASE_SECONDS",
    "CERTVERIFY_MAIL_GIVE_UP_SECONDS",
    "CERTVERIFY_EMAIL_VERIFY_TTL_SECONDS",
    "CERTVERIFY_PASSWORD_RESET_TTL_SECONDS",
    "CERTVERIFY_SESSION_IDLE_SECONDS",
    "CERTVERIFY_SESSION_ABSOLUTE_SECONDS",
];

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{setting}: {message}")]
pub struct ConfigError {
    pub setting: String,
    pub message: String,
}

impl ConfigError {
    fn new(setting: &str, message: impl Into<String>) -> Self {
        Self {
            setting: setting.to_owned(),
            message: message.into(),
        }
    }
}

/// Where the data lives. Debug never prints a PostgreSQL password.
#[derive(Clone, PartialEq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "Sqlite({})", path.display()),
            Self::Postgres(url) => match url::Url::parse(url) {
                Ok(mut parsed) => {
                    if parsed.password().is_some() {
                        let _ = parsed.set_password(Some("***"));
                    }
                    write!(f, "Postgres({parsed})")
                }
                Err(_) => f.write_str("Postgres(<unparsable>)"),
            },
        }
    }
}

impl DatabaseUrl {
    /// `postgres://`, `postgresql://`, `sqlite://PATH` or a plain file path. Another scheme
    /// or a `key=value` string is refused rather than taken as a file name.
    pub fn parse(value: &str) -> Result<Self, String> {
        let value = value.trim();
        if value.is_empty() {
            return Err("must not be empty".into());
        }
        if value.starts_with("postgres://") || value.starts_with("postgresql://") {
            url::Url::parse(value).map_err(|e| format!("not a valid PostgreSQL URL: {e}"))?;
            return Ok(Self::Postgres(value.to_owned()));
        }
        let path =
            match value.strip_prefix("sqlite://") {
                Some(rest) => rest,
                None if has_scheme(value) => return Err(
                    "unsupported scheme; use postgres://, postgresql://, sqlite:// or a file path"
                        .into(),
                ),
                None => value,
            };
        if path.is_empty() || path.contains('=') || path.contains(":memory:") {
            return Err("not a usable SQLite file path (in-memory databases are not shared across the pool)".into());
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, Self::Sqlite(_))
    }
}

fn has_scheme(value: &str) -> bool {
    match value.split_once(':') {
        Some((scheme, _)) => {
            !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
        }
        None => false,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Cost {
    pub memory_kib: u32,
    pub iterations: u32,
}

/// A secret given directly; Debug never shows it.
#[derive(Clone, PartialEq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: DatabaseUrl,
    pub listen: SocketAddr,
    /// Base URL others use to reach the service; derived from the bound address when unset.
    pub public_url: Option<url::Url>,
    pub key_file: PathBuf,
    /// Missing platform secrets may be generated (the SQLite development default only).
    pub generate_missing_secrets: bool,
    pub pii_key: Option<Secret>,
    pub token_ttl: Duration,
    pub db_pool_size: u32,
    pub max_body_bytes: usize,
    pub workers: Option<usize>,
    pub log_format: LogFormat,
    pub auth_rate_limit_per_minute: u32,
    pub argon2: Argon2Cost,
    pub allow_http_issuers: bool,
    pub dispatcher: DispatcherSettings,
    /// A services table replacing the embedded one; read and checked at start-up.
    pub policy_file: Option<PathBuf>,
    /// A record is valid at most this long after issue (or until the certificate expires).
    pub record_validity: chrono::Duration,
    /// Share-code look-ups per minute from one client address (or by one agency).
    pub share_code_rate_limit_per_minute: u32,
    /// How long a claimed Idempotency-Key whose request never answered holds the key;
    /// after it the same key and body start afresh. Longer than the slowest submission.
    pub idempotency_lease: Duration,
    pub storage: StorageTimeouts,
    /// `CERTVERIFY_DATA_DIR`: the SQLite default database and the mail outbox live here.
    pub data_dir: PathBuf,
    pub mail: MailSettings,
    pub accounts: AccountSettings,
    /// `serve --demo`: every page carries the demonstration banner. Never from the
    /// environment: only the demo command sets it.
    pub demo: bool,
}

/// How the platform talks to issuing bodies.
#[derive(Debug, Clone)]
pub struct DispatcherSettings {
    /// Jobs worked at once by this instance; 0 turns the dispatcher off.
    pub concurrency: usize,
    /// Calls in flight to one issuing body from this instance.
    pub per_issuer: usize,
    pub timeout: Duration,
    /// Counted from the first send; once spent the request goes to manual review.
    pub retry_budget: Duration,
    /// The first retry's delay; each further one doubles it (with jitter), up to 5 minutes.
    pub retry_base: Duration,
    /// A body that took the request (202) is asked again after this long without an answer.
    pub reask_after: Duration,
    /// Open requests older than this expire.
    pub request_ttl: Duration,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(std::env::vars())
    }

    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let vars: BTreeMap<String, String> = vars.into_iter().collect();
        if let Some(unknown) = vars
            .keys()
            .find(|k| k.starts_with("CERTVERIFY_") && !KNOWN.contains(&k.as_str()))
        {
            return Err(ConfigError::new(unknown, "unknown setting"));
        }
        let env = Env { vars: &vars };

        let data_dir = accounts::data_dir(&env)?;
        let database_url = match env.secret("DATABASE_URL")? {
            Some(s) => DatabaseUrl::parse(&s.0).map_err(|m| ConfigError::new("DATABASE_URL", m))?,
            // DEFAULT_DATABASE_PATH when CERTVERIFY_DATA_DIR is unset.
            None => DatabaseUrl::Sqlite(data_dir.join(DEFAULT_DATABASE_FILE)),
        };
        let key_file_given = env.get("CERTVERIFY_KEY_FILE");
        let pii_key = env.secret("CERTVERIFY_PII_KEY")?;
        if !database_url.is_sqlite() {
            // Every instance on a shared database must sign and hash with the same secrets.
            if key_file_given.is_none() {
                return Err(ConfigError::new(
                    "CERTVERIFY_KEY_FILE",
                    "must be set when DATABASE_URL is PostgreSQL",
                ));
            }
            if pii_key.is_none() {
                return Err(ConfigError::new(
                    "CERTVERIFY_PII_KEY",
                    "must be set when DATABASE_URL is PostgreSQL",
                ));
            }
        }
        if let Some(key) = &pii_key {
            validate_pii_key(&key.0).map_err(|m| ConfigError::new("CERTVERIFY_PII_KEY", m))?;
        }

        let public_url = match env.get("CERTVERIFY_PUBLIC_URL") {
            Some(v) => Some(
                parse_public_url(v).map_err(|m| ConfigError::new("CERTVERIFY_PUBLIC_URL", m))?,
            ),
            None => None,
        };

        let (storage, idempotency_lease) = storage::from_env(&env)?;

        let mail = accounts::mail(&env, &data_dir)?;
        let accounts = accounts::accounts(&env)?;

        Ok(Self {
            demo: false,
            data_dir,
            mail,
            accounts,
            idempotency_lease,
            storage,
            generate_missing_secrets: database_url.is_sqlite() && key_file_given.is_none(),
            database_url,
            listen: env.parse(
                "CERTVERIFY_LISTEN",
                DEFAULT_LISTEN.parse().ok(),
                "a socket address such as 127.0.0.1:8080",
            )?,
            public_url,
            key_file: PathBuf::from(key_file_given.unwrap_or(DEFAULT_KEY_FILE)),
            pii_key,
            token_ttl: Duration::from_secs(env.bounded(
                "CERTVERIFY_TOKEN_TTL_SECONDS",
                900,
                30,
                86_400,
            )?),
            db_pool_size: env.bounded("CERTVERIFY_DB_POOL_SIZE", 10, 1, 512)? as u32,
            max_body_bytes: env.bounded(
                "CERTVERIFY_MAX_BODY_BYTES",
                64 * 1024,
                1024,
                16 * 1024 * 1024,
            )? as usize,
            workers: env.parse_opt::<usize>("CERTVERIFY_WORKERS", "a number of worker threads")?,
            log_format: match env.get("CERTVERIFY_LOG_FORMAT") {
                None | Some("pretty") => LogFormat::Pretty,
                Some("json") => LogFormat::Json,
                Some(_) => {
                    return Err(ConfigError::new(
                        "CERTVERIFY_LOG_FORMAT",
                        "must be pretty or json",
                    ))
                }
            },
            auth_rate_limit_per_minute: env.bounded(
                "CERTVERIFY_AUTH_RATE_LIMIT_PER_MINUTE",
                10,
                1,
                100_000,
            )? as u32,
            argon2: Argon2Cost {
                memory_kib: env.bounded(
                    "CERTVERIFY_ARGON2_MEMORY_KIB",
                    19_456,
                    8,
                    4 * 1024 * 1024,
                )? as u32,
                iterations: env.bounded("CERTVERIFY_ARGON2_ITERATIONS", 2, 1, 100)? as u32,
            },
            policy_file: env
                .get("CERTVERIFY_POLICY_FILE")
                .filter(|p| !p.trim().is_empty())
                .map(PathBuf::from),
            allow_http_issuers: env.parse(
                "CERTVERIFY_ALLOW_HTTP_ISSUERS",
                Some(false),
                "true or false",
            )?,
            share_code_rate_limit_per_minute: env.bounded(
                "CERTVERIFY_SHARE_CODE_RATE_LIMIT_PER_MINUTE",
                30,
                1,
                100_000,
            )? as u32,
            record_validity: chrono::Duration::days(env.bounded(
                "CERTVERIFY_RECORD_VALIDITY_DAYS",
                3 * 365,
                1,
                36_500,
            )? as i64),
            dispatcher: DispatcherSettings {
                concurrency: env.bounded("CERTVERIFY_DISPATCHER_CONCURRENCY", 8, 0, 1024)? as usize,
                per_issuer: env.bounded("CERTVERIFY_ISSUER_CONCURRENCY", 4, 1, 1024)? as usize,
                timeout: Duration::from_secs(env.bounded(
                    "CERTVERIFY_ISSUER_TIMEOUT_SECONDS",
                    10,
                    1,
                    300,
                )?),
                retry_budget: Duration::from_secs(env.bounded(
                    "CERTVERIFY_RETRY_BUDGET_SECONDS",
                    86_400,
                    1,
                    30 * 86_400,
                )?),
                retry_base: Duration::from_millis(env.bounded(
                    "CERTVERIFY_RETRY_BASE_MS",
                    2_000,
                    1,
                    600_000,
                )?),
                reask_after: Duration::from_secs(env.bounded(
                    "CERTVERIFY_REASK_AFTER_SECONDS",
                    900,
                    1,
                    30 * 86_400,
                )?),
                request_ttl: Duration::from_secs(
                    86_400 * env.bounded("CERTVERIFY_REQUEST_TTL_DAYS", 30, 1, 3650)?,
                ),
            },
        })
    }
}

fn parse_public_url(value: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(value).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err("must be an http(s) URL with a host".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not have a query or fragment".into());
    }
    Ok(url)
}

pub fn validate_pii_key(hex_key: &str) -> Result<[u8; 32], String> {
    let bytes =
        hex::decode(hex_key.trim()).map_err(|_| "must be 64 hexadecimal characters".to_owned())?;
    bytes
        .try_into()
        .map_err(|_| "must be 32 bytes (64 hexadecimal characters)".to_owned())
}

struct Env<'a> {
    vars: &'a BTreeMap<String, String>,
}

impl<'a> Env<'a> {
    fn get(&self, name: &str) -> Option<&'a str> {
        self.vars.get(name).map(String::as_str)
    }

    /// A secret from `NAME` or from the file named by `NAME_FILE`, not both.
    fn secret(&self, name: &str) -> Result<Option<Secret>, ConfigError> {
        let file_var = format!("{name}_FILE");
        match (self.get(name), self.get(&file_var)) {
            (Some(_), Some(_)) => Err(ConfigError::new(
                name,
                format!("set either {name} or {file_var}, not both"),
            )),
            (Some(v), None) => Ok(Some(Secret(v.to_owned()))),
            (None, Some(path)) => std::fs::read_to_string(path)
                .map(|s| Some(Secret(s.trim().to_owned())))
                .map_err(|e| ConfigError::new(&file_var, format!("cannot read {path}: {e}"))),
            (None, None) => Ok(None),
        }
    }

    fn parse<T: std::str::FromStr>(
        &self,
        name: &str,
        default: Option<T>,
        expected: &str,
    ) -> Result<T, ConfigError> {
        match self.parse_opt(name, expected)? {
            Some(v) => Ok(v),
            None => default.ok_or_else(|| ConfigError::new(name, "must be set")),
        }
    }

    fn parse_opt<T: std::str::FromStr>(
        &self,
        name: &str,
        expected: &str,
    ) -> Result<Option<T>, ConfigError> {
        self.get(name)
            .map(|v| {
                v.trim()
                    .parse::<T>()
                    .map_err(|_| ConfigError::new(name, format!("expected {expected}, got {v:?}")))
            })
            .transpose()
    }

    fn bounded(&self, name: &str, default: u64, min: u64, max: u64) -> Result<u64, ConfigError> {
        let value = self.parse(
            name,
            Some(default),
            &format!("an integer from {min} to {max}"),
        )?;
        if !(min..=max).contains(&value) {
            return Err(ConfigError::new(
                name,
                format!("expected an integer from {min} to {max}, got {value}"),
            ));
        }
        Ok(value)
    }
}

#[path = "config_accounts.rs"]
mod accounts;
pub use accounts::{AccountSettings, MailSettings};

#[path = "config_storage.rs"]
mod storage;
pub use storage::StorageTimeouts;

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
