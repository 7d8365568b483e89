//! Agency reads of a record (`GET /v1/records/{id}`, each one logged) against `/healthz` on
//! the same server in the same run: throughput of each and their ratio.
//!
//! `cargo bench --bench records` (SQLite); with `BENCH_DATABASE_URL=postgres://…/postgres`
//! on a fresh PostgreSQL database, dropped afterwards. BENCH_SECONDS (default 5) per phase,
//! BENCH_CONCURRENCY (default 32) clients in flight.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use certverify::accounts;
use certverify::auth::password::PasswordHasher;
use certverify::config::Settings;
use certverify::db;
use certverify::startup::Application;
use serde_json::{json, Value};

fn main() -> anyhow::Result<()> {
    let env = common::BenchEnv::new(&["BENCH_DATABASE_URL"])?;
    let mut vars = env.vars();
    vars.push((
        "CERTVERIFY_AUTH_RATE_LIMIT_PER_MINUTE".into(),
        "10000".into(),
    ));
    let settings = Settings::from_vars(vars)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(settings, env.backend))
}

async fn run(settings: Settings, backend: &str) -> anyhow::Result<()> {
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let concurrency: usize = std::env::var("BENCH_CONCURRENCY")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(32);
    let pool = db::build_pool(&settings.database_url, 1)?;
    let admin_secret = {
        let mut conn = pool.get()?;
        db::migrations::run_pending(&mut conn)?;
        let hasher = PasswordHasher::new(settings.argon2)?;
        accounts::create_admin(&mut conn, &hasher, "bench")?
    };
    let outbox = settings.mail.outbox_dir.clone();
    let app = Application::build(settings).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    let setup = Setup {
        client: client.clone(),
        base: base.clone(),
        pool,
        outbox,
    };
    let admin = setup.token(&admin_secret.0, &admin_secret.1).await?;
    let record_id = setup.issue_record(&admin).await?;
    let agency = setup
        .post(
            &admin,
            "/v1/admin/agencies",
            &json!({"name": "Bench agency", "scopes": ["records:read"]}),
        )
        .await?;
    let agency = setup
        .token(
            agency["client_id"].as_str().unwrap_or(""),
            agency["client_secret"].as_str().unwrap_or(""),
        )
        .await?;

    let phase = Duration::from_secs(seconds);
    let read = format!("{base}/v1/records/{record_id}");
    // Warm both paths, then measure each phase in turn.
    load(
        &client,
        &format!("{base}/healthz"),
        None,
        Duration::from_secs(1),
        concurrency,
    )
    .await?;
    load(
        &client,
        &read,
        Some(&agency),
        Duration::from_secs(1),
        concurrency,
    )
    .await?;
    let health = load(
        &client,
        &format!("{base}/healthz"),
        None,
        phase,
        concurrency,
    )
    .await?;
    let records = load(&client, &read, Some(&agency), phase, concurrency).await?;
    println!("{backend}: /healthz {health:.0} req/s; GET /v1/records/{{id}} {records:.0} req/s (each read logged); ratio {:.0} % ({concurrency} clients, {seconds} s each)", 100.0 * records / health);
    Ok(())
}

/// Requests per second answered 200 by `concurrency` clients over `duration`.
async fn load(
    client: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    duration: Duration,
    concurrency: usize,
) -> anyhow::Result<f64> {
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, url, token, done) = (
            client.clone(),
            url.to_owned(),
            token.map(str::to_owned),
            done.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while started.elapsed() < duration {
                let mut req = client.get(&url);
                if let Some(t) = &token {
                    req = req.bearer_auth(t);
                }
                let res = req.send().await?;
                anyhow::ensure!(res.status() == 200, "{url}: {}", res.status());
                res.bytes().await?;
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}

struct Setup {
    client: reqwest::Client,
    base: String,
    pool: db::Pool,
    outbox: std::path::PathBuf,
}

impl Setup {
    async fn token(&self, id: &str, secret: &str) -> anyhow::Result<String> {
        common::client_token(&self.client, &self.base, id, secret).await
    }

    async fn post(&self, token: &str, path: &str, body: &Value) -> anyhow::Result<Value> {
        let res = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("idempotency-key", uuid::Uuid::new_v4().to_string())
            .json(body)
            .send()
            .await?;
        anyhow::ensure!(
            res.status().is_success(),
            "{path}: {} {}",
            res.status(),
            res.text().await?
        );
        Ok(res.json().await.unwrap_or(Value::Null))
    }

    /// A record made the way production makes one: a holder applies, the body works in
    /// manual mode, an admin confirms.
    async fn issue_record(&self, admin: &str) -> anyhow::Result<String> {
        self.post(
            admin,
            "/v1/admin/list-versions",
            &json!({"version": "3.0", "title": "List 3.0"}),
        )
        .await?;
        self.post(admin, "/v1/admin/issuing-bodies", &json!({"code": "acca", "name_en": "ACCA", "country": "GB", "verification_mode": "manual"})).await?;
        let q = self.post(admin, "/v1/admin/qualifications", &json!({"code": "acca-fcca", "name_en": "FCCA", "issuing_body_id": "acca", "field": "accounting", "categories": ["A", "B"], "list_version": "3.0"})).await?;
        let holder = json!({"email": "bench@example.org", "password": "correct horse battery staple", "full_name": "Ana Lima", "nationality": "BR",
            "identity_kind": "foreign_national", "date_of_birth": "1988-04-02", "identity_document": {"type": "passport", "number": "FZ1234567"},
            "residence_country": "BR", "shanghai_hukou": false});
        self.client
            .post(format!("{}/v1/holders", self.base))
            .json(&holder)
            .send()
            .await?;
        common::verify_email(&self.client, &self.base, &self.outbox, "bench@example.org").await?;
        let login: Value = self
            .client
            .post(format!("{}/v1/auth/login", self.base))
            .json(
                &json!({"email": "bench@example.org", "password": "correct horse battery staple"}),
            )
            .send()
            .await?
            .json()
            .await?;
        let holder = login["access_token"].as_str().unwrap_or("").to_owned();
        let request = self.post(&holder, "/v1/verification-requests", &json!({"qualification_id": q["id"], "certificate_number": "FCCA-1001",
            "name_on_certificate": "Ana Lima", "issued_on": "2019-06-30", "expires_on": null, "applying_from": "BR", "note": null})).await?;
        let id = request["id"].as_str().unwrap_or("").to_owned();
        for _ in 0..100 {
            let r: Value = self
                .client
                .get(format!("{}/v1/verification-requests/{id}", self.base))
                .bearer_auth(&holder)
                .send()
                .await?
                .json()
                .await?;
            if r["state"] == "manual_review" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.post(
            admin,
            &format!("/v1/admin/verification-requests/{id}/decision"),
            &json!({"decision": "confirmed", "note": "bench"}),
        )
        .await?;
        let mut conn = self.pool.get()?;
        let record = certverify::records::find_by_request(&mut conn, &id)?;
        record
            .map(|r| r.id)
            .ok_or_else(|| anyhow::anyhow!("no record issued for {id}"))
    }
}
