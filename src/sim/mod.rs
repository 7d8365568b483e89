//! The issuing-body simulator (`certverify issuer-sim`): a real HTTP server playing an
//! issuing body as DESIGN.md ("Issuing-body protocol", "Simulator") describes it. It checks
//! the platform's signed requests against the platform's JWKS, matches them against a
//! certificates file, and answers with a signed message, synchronously or by callback.
//!
//! It takes its own name from each request's `aud` and answers to the request's `iss`, so
//! one simulator can play any number of bodies.

pub mod certificates;
pub mod platform_keys;
mod server;
mod stats;

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{web, App, HttpServer};
use ed25519_dalek::pkcs8::DecodePrivateKey;
use ed25519_dalek::SigningKey;
use rand_core::OsRng;

pub use certificates::{fold_name, Certificate, CertificateStatus, Certificates, LoadError};
pub use platform_keys::JwksSource;
pub use server::MAX_MESSAGE_BYTES;
pub use stats::{SimCounts, SimStats};

use crate::auth::keys::{self, Jwk, JwkSet};
use crate::issuers::protocol::{
    self, Answer, AnswerBody, CertificateFacts, Outcome, ProtocolError, VerificationRequest,
};

/// How long the simulator's answers live (`exp - iat`); the protocol allows up to 300 s.
pub const ANSWER_LIFETIME_SECS: i64 = 120;

/// The platform asks again when a callback is lost, so the simulator need not try hard.
pub const DEFAULT_CALLBACK_ATTEMPTS: u32 = 3;

/// How the simulator answers a verification request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// `200` with the answer JWS as the body.
    #[default]
    Sync,
    /// `202` with an empty body, then the answer JWS to the request's `callback_url`.
    Callback,
}

pub struct SimConfig {
    pub listen: SocketAddr,
    pub certificates: Certificates,
    /// The platform's JWKS: an http(s) URL, or a file path (`file://` optional).
    pub platform_jwks: String,
    pub mode: Mode,
    /// Delay before the answer: the 200 in sync mode, the callback in callback mode.
    /// Refusals (4xx, 503) are immediate.
    pub latency: Duration,
    /// Probability, from 0 to 1, of answering 503 without looking at the request.
    pub fail_rate: f64,
    /// Tries of each callback before giving up (at least 1). One makes a callback to a
    /// platform that is down certainly lost, which tests of the platform's re-ask rely on.
    pub callback_attempts: u32,
    pub key: SigningKey,
    /// actix workers; actix's default (one per core) when None.
    pub workers: Option<usize>,
}

impl SimConfig {
    /// A synchronous simulator on a free loopback port, with no latency and no failures.
    pub fn new(
        certificates: Certificates,
        platform_jwks: impl Into<String>,
        key: SigningKey,
    ) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            certificates,
            platform_jwks: platform_jwks.into(),
            mode: Mode::Sync,
            latency: Duration::ZERO,
            fail_rate: 0.0,
            callback_attempts: DEFAULT_CALLBACK_ATTEMPTS,
            key,
            workers: None,
        }
    }
}

/// A simulator serving in the background of the current tokio runtime.
pub struct RunningSim {
    pub address: SocketAddr,
    pub port: u16,
    /// The kid of the simulator's key, as the platform's registry must know it.
    pub kid: String,
    pub public_jwk: Jwk,
    key: SigningKey,
    stats: Arc<SimStats>,
    handle: actix_web::dev::ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningSim {
    /// The base URL to register as the body's `api_base_url`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    /// What the simulator has seen and done so far.
    pub fn counts(&self) -> SimCounts {
        self.stats.counts()
    }

    /// A signed `certificate_revoked` message from the body `name` to `platform`.
    pub fn revocation_message(
        &self,
        name: &str,
        platform: &str,
        revocation: &Revocation,
    ) -> Result<String, ProtocolError> {
        revocation_message(name, platform, revocation, &self.key)
    }

    /// Stops taking connections and lets the requests in flight finish.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.handle.stop(true).await;
        self.task.await??;
        Ok(())
    }

    /// Serves until the process is told to stop (SIGINT or SIGTERM).
    pub async fn wait(self) -> anyhow::Result<()> {
        self.task.await??;
        Ok(())
    }
}

/// Binds and starts serving; the port is known when this returns (port 0 picks a free one).
pub async fn start(config: SimConfig) -> anyhow::Result<RunningSim> {
    if config.callback_attempts == 0 {
        anyhow::bail!("a callback needs at least one attempt");
    }
    if !(0.0..=1.0).contains(&config.fail_rate) {
        anyhow::bail!(
            "the fail rate must be between 0 and 1, not {}",
            config.fail_rate
        );
    }
    let verifying = config.key.verifying_key();
    let kid = keys::kid_of(&verifying);
    let public_jwk = keys::jwk_of(&verifying);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()?;
    let stats = Arc::new(SimStats::default());
    let state = web::Data::new(server::SimState {
        certificates: config.certificates,
        platform: platform_keys::PlatformKeys::new(
            JwksSource::parse(&config.platform_jwks),
            client.clone(),
        ),
        mode: config.mode,
        latency: config.latency,
        fail_rate: config.fail_rate,
        callback_attempts: config.callback_attempts,
        stats: stats.clone(),
        key: config.key.clone(),
        kid: kid.clone(),
        jwks: JwkSet {
            keys: vec![public_jwk.clone()],
        },
        client,
    });
    let listener = TcpListener::bind(config.listen)
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
    let address = listener.local_addr()?;
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .configure(server::configure)
            .default_service(web::to(server::fallback))
            .wrap(server::error_handlers())
    })
    .listen(listener)?
    .shutdown_timeout(5);
    if let Some(workers) = config.workers {
        server = server.workers(workers);
    }
    let server = server.run();
    let handle = server.handle();
    let task = tokio::spawn(server);
    tracing::info!(%address, %kid, mode = ?config.mode, platform_jwks = %config.platform_jwks, "issuer simulator listening");
    Ok(RunningSim {
        address,
        port: address.port(),
        kid,
        public_jwk,
        key: config.key,
        stats,
        handle,
        task,
    })
}

/// The key in `path`, generated (mode 0600) when the file does not exist; an in-memory key
/// when no path is given.
pub fn load_or_generate_key(path: Option<&Path>) -> anyhow::Result<SigningKey> {
    let Some(path) = path else {
        return Ok(SigningKey::generate(&mut OsRng));
    };
    if !path.exists() {
        let key = keys::generate_key_file(path, false)?;
        tracing::warn!(path = %path.display(), kid = %keys::kid_of(&key.verifying_key()), "generated a new simulator key");
        return Ok(key);
    }
    let pem = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("--key: cannot read {}: {e}", path.display()))?;
    SigningKey::from_pkcs8_pem(&pem).map_err(|e| {
        anyhow::anyhow!(
            "--key: {} is not an Ed25519 PKCS#8 PEM key: {e}",
            path.display()
        )
    })
}

/// The body's answer to a request: from the request's `aud` back to its `iss`.
pub fn answer_message(
    request: &VerificationRequest,
    outcome: Outcome,
    certificate: Option<CertificateFacts>,
    key: &SigningKey,
    kid: &str,
) -> Result<String, ProtocolError> {
    let now = chrono::Utc::now().timestamp();
    let answer = Answer {
        iss: request.aud.clone(),
        aud: request.iss.clone(),
        iat: now,
        exp: now + ANSWER_LIFETIME_SECS,
        jti: protocol::new_jti(),
        body: AnswerBody::VerificationResult {
            request_id: request.request_id.clone(),
            in_reply_to: Some(request.jti.clone()),
            outcome,
            certificate,
        },
    };
    protocol::sign(&answer, protocol::ANSWER_TYP, kid, key)
}

/// A later revocation, as a body reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Revocation {
    pub certificate_number: String,
    pub qualification_code: String,
    /// `YYYY-MM-DD`.
    pub revoked_on: String,
    pub reason: Option<String>,
}

/// A signed `certificate_revoked` message from the body `name` to `platform` (the
/// platform's public URL), ready to POST to `{platform}/v1/issuer-callbacks`.
pub fn revocation_message(
    name: &str,
    platform: &str,
    revocation: &Revocation,
    key: &SigningKey,
) -> Result<String, ProtocolError> {
    let now = chrono::Utc::now().timestamp();
    let answer = Answer {
        iss: name.to_owned(),
        aud: platform.to_owned(),
        iat: now,
        exp: now + ANSWER_LIFETIME_SECS,
        jti: protocol::new_jti(),
        body: AnswerBody::CertificateRevoked {
            certificate_number: revocation.certificate_number.clone(),
            qualification_code: revocation.qualification_code.clone(),
            revoked_on: revocation.revoked_on.clone(),
            reason: revocation.reason.clone(),
        },
    };
    let kid = keys::kid_of(&key.verifying_key());
    protocol::sign(&answer, protocol::ANSWER_TYP, &kid, key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revocation_message_verifies_and_names_the_certificate() {
        let key = SigningKey::generate(&mut OsRng);
        let revocation = Revocation {
            certificate_number: "DCFA-1".into(),
            qualification_code: "demo-financial-analyst".into(),
            revoked_on: "2024-01-31".into(),
            reason: Some("disciplinary".into()),
        };
        let token =
            revocation_message("demo-hk-institute", "https://p.test", &revocation, &key).unwrap();
        let sender = protocol::sender(&token, protocol::ANSWER_TYP).unwrap();
        assert_eq!(sender.iss, "demo-hk-institute");
        assert_eq!(sender.kid, keys::kid_of(&key.verifying_key()));
        let answer: Answer = protocol::verify(
            &token,
            protocol::ANSWER_TYP,
            &key.verifying_key(),
            Some("https://p.test"),
            chrono::Utc::now().timestamp(),
        )
        .unwrap();
        assert!(matches!(
            answer.body,
            AnswerBody::CertificateRevoked { ref certificate_number, .. } if certificate_number == "DCFA-1"
        ));
    }

    #[test]
    fn a_missing_key_file_is_generated_then_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sim.pem");
        let first = load_or_generate_key(Some(&path)).unwrap();
        let again = load_or_generate_key(Some(&path)).unwrap();
        assert_eq!(first.to_bytes(), again.to_bytes());
        std::fs::write(&path, "not a key").unwrap();
        let err = load_or_generate_key(Some(&path)).unwrap_err().to_string();
        assert!(err.contains("--key"), "{err}");
    }
}
