//! Eligibility decisions per second through the HTTP API, on a record issued through the
//! whole flow (holder → simulator → record), with a `/healthz` baseline from the same run.
//!
//! `cargo bench --bench eligibility` (SQLite); with `BENCH_DATABASE_URL=postgres://…/postgres`
//! it runs on a fresh PostgreSQL database, dropped afterwards.

mod common;

use std::time::{Duration, Instant};

use anyhow::Context;
use certverify::accounts;
use certverify::auth::password::PasswordHasher;
use certverify::config::Settings;
use certverify::db::schema::records;
use certverify::db::{self, Pool};
use certverify::sim::{self, Certificates, SimConfig};
use certverify::startup::Application;
use diesel::prelude::*;
use futures_util::future::join_all;
use serde_json::{json, Value};

const DECISIONS: usize = 4_000;
const IN_FLIGHT: usize = 8;

fn main() -> anyhow::Result<()> {
    let env = common::BenchEnv::new(&["BENCH_DATABASE_URL"])?;
    let mut vars = env.vars();
    vars.extend([
        ("CERTVERIFY_ALLOW_HTTP_ISSUERS".into(), "true".into()),
        ("CERTVERIFY_ARGON2_MEMORY_KIB".into(), "64".into()),
        ("CERTVERIFY_ARGON2_ITERATIONS".into(), "1".into()),
        (
            "CERTVERIFY_AUTH_RATE_LIMIT_PER_MINUTE".into(),
            "1000".into(),
        ),
    ]);
    let settings = Settings::from_vars(vars)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(settings, env.backend))
}

struct Api {
    outbox: std::path::PathBuf,
    base: String,
    client: reqwest::Client,
}

impl Api {
    async fn post(&self, path: &str, body: &Value, token: Option<&str>) -> anyhow::Result<Value> {
        let mut req = self.client.post(format!("{}{path}", self.base)).json(body);
        if let Some(token) = token {
            req = req
                .bearer_auth(token)
                .header("idempotency-key", uuid::Uuid::new_v4().to_string());
        }
        let res = req.send().await?;
        let status = res.status();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        anyhow::ensure!(status.is_success(), "{path}: {status} {body}");
        Ok(body)
    }

    async fn token(&self, client_id: &str, secret: &str) -> anyhow::Result<String> {
        common::client_token(&self.client, &self.base, client_id, secret).await
    }
}

async fn run(settings: Settings, backend: &str) -> anyhow::Result<()> {
    let pool = db::build_pool(&settings.database_url, 2)?;
    let hasher = PasswordHasher::new(settings.argon2)?;
    let outbox = settings.mail.outbox_dir.clone();
    let app = Application::build(settings).await?;
    let api = Api {
        base: format!("http://127.0.0.1:{}", app.port()),
        client: reqwest::Client::new(),
        outbox,
    };
    tokio::spawn(app.run_until_stopped());
    let (record_id, agency) = issue_record(&api, &pool, &hasher).await?;

    let bodies = [
        json!({"record_id": record_id, "service": "A.visa.multi_entry"}),
        json!({"record_id": record_id, "service": "A.work_permit", "facts": {"permit_category": "B"}}),
        json!({"record_id": record_id, "service": "C.professional_title", "facts": {
            "degree": "master", "relevant_experience_years": 8, "shanghai_experience_years": 2,
            "title_series": "accounting", "title_level": "intermediate", "employer_type": "enterprise"}}),
    ];
    for body in &bodies {
        let decision = api.post("/v1/eligibility", body, Some(&agency)).await?;
        anyhow::ensure!(decision["eligible"] == true, "{decision}");
    }
    let decide = |i: usize| {
        let (api, agency) = (&api, &agency);
        let body = &bodies[i % bodies.len()];
        async move {
            api.post("/v1/eligibility", body, Some(agency))
                .await
                .map(|_| ())
        }
    };
    let sequential = time(DECISIONS / 4, 1, decide).await?;
    let concurrent = time(DECISIONS, IN_FLIGHT, decide).await?;
    let healthz = time(DECISIONS, IN_FLIGHT, |_| {
        let api = &api;
        async move {
            let res = api
                .client
                .get(format!("{}/healthz", api.base))
                .send()
                .await?;
            anyhow::ensure!(res.status().is_success());
            res.bytes().await?;
            Ok(())
        }
    })
    .await?;
    println!(
        "{backend}: eligibility through HTTP (each decision a logged read and an audit row): \
         {:.0} decisions/s one at a time, {:.0} decisions/s with {IN_FLIGHT} in flight; \
         /healthz {:.0} req/s in the same run ({:.0} %)",
        sequential,
        concurrent,
        healthz,
        100.0 * concurrent / healthz
    );
    Ok(())
}

/// Requests per second for `count` requests, `in_flight` at a time.
async fn time<F, Fut>(count: usize, in_flight: usize, make: F) -> anyhow::Result<f64>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let started = Instant::now();
    let mut i = 0;
    while i < count {
        let batch: Vec<_> = (i..(i + in_flight).min(count)).map(&make).collect();
        for outcome in join_all(batch).await {
            outcome?;
        }
        i += in_flight;
    }
    Ok(count as f64 / started.elapsed().as_secs_f64())
}

/// Admin, registry, simulator, holder, request → the issued record, and an agency token.
async fn issue_record(
    api: &Api,
    pool: &Pool,
    hasher: &PasswordHasher,
) -> anyhow::Result<(String, String)> {
    let (client_id, secret) = {
        let mut conn = pool.get()?;
        accounts::create_admin(&mut conn, hasher, "bench")?
    };
    let admin = api.token(&client_id, &secret).await?;
    let certificates = r#"[{"certificate_number": "FCCA-1001", "qualification_code": "acca-fcca", "holder_name": "Ana Lima", "issued_on": "2019-06-30", "expires_on": null, "status": "valid"}]"#;
    let sim = sim::start(SimConfig::new(
        Certificates::parse(certificates)?,
        format!("{}/.well-known/jwks.json", api.base),
        ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng),
    ))
    .await?;
    api.post(
        "/v1/admin/list-versions",
        &json!({"version": "3.0", "title": "List 3.0"}),
        Some(&admin),
    )
    .await?;
    api.post("/v1/admin/issuing-bodies", &json!({"code": "acca", "name_en": "ACCA", "country": "GB",
        "verification_mode": "api", "api_base_url": sim.base_url(), "public_keys": [sim.public_jwk]}), Some(&admin)).await?;
    let qualification = api.post("/v1/admin/qualifications", &json!({"code": "acca-fcca", "name_en": "FCCA",
        "issuing_body_id": "acca", "field": "accounting", "categories": ["A", "B", "C"], "title_series": "accounting",
        "title_level": "associate_senior", "list_version": "3.0"}), Some(&admin)).await?;
    let password = "correct horse battery staple";
    api.post(
        "/v1/holders",
        &json!({"email": "ana@example.org", "password": password, "full_name": "Ana Lima",
        "nationality": "BR", "identity_kind": "foreign_national", "date_of_birth": "1988-04-02",
        "identity_document": {"type": "passport", "number": "FZ1234567"}, "residence_country": "BR",
        "shanghai_hukou": false}),
        None,
    )
    .await?;
    common::verify_email(&api.client, &api.base, &api.outbox, "ana@example.org").await?;
    let login = api
        .post(
            "/v1/auth/login",
            &json!({"email": "ana@example.org", "password": password}),
            None,
        )
        .await?;
    let holder = login["access_token"].as_str().context("holder token")?;
    let request = api.post("/v1/verification-requests", &json!({"qualification_id": qualification["id"],
        "certificate_number": "FCCA-1001", "name_on_certificate": "Ana Lima", "issued_on": "2019-06-30",
        "expires_on": null, "applying_from": "BR", "note": null}), Some(holder)).await?;
    let request_id = request["id"].as_str().context("request id")?.to_owned();
    let mut record_id = None;
    for _ in 0..200 {
        let mut pooled = pool.get()?;
        let conn: &mut db::DbConnection = &mut pooled;
        record_id = records::table
            .filter(records::request_id.eq(&request_id))
            .select(records::id)
            .first::<String>(conn)
            .optional()?;
        if record_id.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let record_id = record_id.context("the request was never issued a record")?;
    let agency = api
        .post(
            "/v1/admin/agencies",
            &json!({"name": "Bench", "scopes": ["eligibility:check"]}),
            Some(&admin),
        )
        .await?;
    let token = api
        .token(
            agency["client_id"].as_str().context("client_id")?,
            agency["client_secret"].as_str().context("secret")?,
        )
        .await?;
    drop(sim);
    Ok((record_id, token))
}
