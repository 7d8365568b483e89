//! `certverify serve --demo` (DESIGN.md "Web pages"): the sample registry, one built-in
//! simulated issuing body answering for every sample body, the mail outbox on disk and a
//! banner on every page, so one person on one machine can walk from registration to a PDF
//! report. It only arranges existing parts: the registry import, the simulator and the
//! server are the real ones.

use std::path::PathBuf;

use serde_json::{json, Value};

use crate::auth::keys;
use crate::config::Settings;
use crate::db;
use crate::registry::cli::import_document;
use crate::registry::input::UrlPolicy;
use crate::sim::{self, Certificates, RunningSim, SimConfig};
use crate::startup::Application;

/// The registry the demo serves (the committed sample, compiled in so the demo runs from
/// any directory).
const SAMPLE_REGISTRY: &str = include_str!("../../samples/registry-sample.json");
/// What the simulated bodies know: the simulator's sample certificates.
const SAMPLE_CERTIFICATES: &str = include_str!("../../samples/issuer-sim-certificates.json");

/// The demo's settings: SQLite only (it is for one machine), loopback issuers allowed,
/// the banner on.
pub fn settings(mut settings: Settings) -> anyhow::Result<Settings> {
    if !settings.database_url.is_sqlite() {
        anyhow::bail!(
            "serve --demo runs on SQLite only (it is for one machine); unset DATABASE_URL or give a file path"
        );
    }
    settings.allow_http_issuers = true;
    settings.demo = true;
    Ok(settings)
}

/// Starts the simulator and points every sample body at it; returns it so the caller
/// keeps it running beside the server.
pub async fn start(settings: &Settings, app: &Application) -> anyhow::Result<RunningSim> {
    let key = issuer_key(settings)?;
    let certificates = Certificates::parse(SAMPLE_CERTIFICATES)?;
    let known = certificates.entries().to_vec();
    let jwks = format!("{}/.well-known/jwks.json", app.public_url());
    let sim = sim::start(SimConfig::new(certificates, jwks, key)).await?;
    let doc = registry_for(&sim)?;
    let pool = db::build_pool(&settings.database_url, 1)?;
    let report = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let mut conn = pool.get()?;
        import_document(&mut conn, &doc, UrlPolicy { allow_http: true }, "demo")
    })
    .await??;
    tracing::info!(changed = report.changed, simulator = %sim.base_url(), "demo registry ready");
    eprintln!("\n  certverify demonstration: {}", app.public_url());
    eprintln!(
        "  mail is written to {} (open the .eml files; the links in them work here)",
        settings.mail.outbox_dir.display()
    );
    eprintln!("  the simulated issuing bodies know these certificates:");
    for c in &known {
        eprintln!(
            "    {} ({}) of {}, issued {}{}",
            c.certificate_number,
            c.qualification_code
                .as_deref()
                .unwrap_or("any qualification"),
            c.holder_name,
            c.issued_on,
            c.date_of_birth
                .map(|d| format!(", born {d}"))
                .unwrap_or_default()
        );
    }
    eprintln!();
    Ok(sim)
}

/// The sample registry with every body answering through the simulator (api mode, the
/// simulator's address and key). A restart changes only the address (a new free port).
fn registry_for(sim: &RunningSim) -> anyhow::Result<Value> {
    let mut doc: Value = serde_json::from_str(SAMPLE_REGISTRY)?;
    let key = json!({
        "kty": sim.public_jwk.kty,
        "crv": sim.public_jwk.crv,
        "x": sim.public_jwk.x,
        "kid": sim.public_jwk.kid,
    });
    let bodies = doc
        .get_mut("issuing_bodies")
        .and_then(Value::as_array_mut)
        .ok_or_else(|| anyhow::anyhow!("the sample registry has no issuing_bodies"))?;
    for body in bodies {
        if let Some(body) = body.as_object_mut() {
            body.insert("verification_mode".into(), json!("api"));
            body.insert("api_base_url".into(), json!(sim.base_url()));
            body.insert("public_keys".into(), json!([key]));
        }
    }
    Ok(doc)
}

/// The simulated bodies' key, kept beside the platform key so that a restarted demo is
/// the same body to the records it already holds.
fn issuer_key(settings: &Settings) -> anyhow::Result<ed25519_dalek::SigningKey> {
    let path: PathBuf = settings.key_file.with_file_name("demo-issuer-ed25519.pem");
    if path.exists() {
        keys::read_platform_key(&path)
    } else {
        keys::generate_key_file(&path, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compiled_in_samples_parse() {
        let doc: Value = serde_json::from_str(SAMPLE_REGISTRY).unwrap();
        assert!(!doc["issuing_bodies"].as_array().unwrap().is_empty());
        assert!(!Certificates::parse(SAMPLE_CERTIFICATES).unwrap().is_empty());
    }
}
