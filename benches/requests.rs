//! Verification requests through the whole pipeline: 10 000 requests submitted over HTTP,
//! dispatched to the issuing-body simulator (synchronous mode, over HTTP), and settled.
//! Prints requests per second reaching `confirmed` (or `issued`, which the confirming commit
//! may go on to), from the first submission to the last confirmation.
//!
//! `cargo bench --bench requests` (SQLite); with `BENCH_DATABASE_URL=postgres://…/postgres`
//! (or TEST_DATABASE_URL) it runs on a fresh PostgreSQL database, dropped afterwards.
//! `BENCH_REQUESTS` changes the number of requests.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use certverify::config::Settings;
use certverify::db::schema::verification_requests;
use certverify::db::{self, write_transaction, Pool};
use certverify::domain::request_state::RequestState;
use certverify::registry::import;
use certverify::registry::input::UrlPolicy;
use certverify::sim::{self, Certificates, SimConfig};
use certverify::startup::Application;
use diesel::prelude::*;
use serde_json::{json, Value};

/// Submissions in flight at once, as many holders' clients would have.
const SUBMITTERS: usize = 32;

fn main() -> anyhow::Result<()> {
    let requests: usize = std::env::var("BENCH_REQUESTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let env = common::BenchEnv::new(&["BENCH_DATABASE_URL", "TEST_DATABASE_URL"])?;
    let mut vars = env.vars();
    vars.extend([
        ("CERTVERIFY_ALLOW_HTTP_ISSUERS".into(), "true".into()),
        // One holder logs in once; the password cost is not what is measured.
        ("CERTVERIFY_ARGON2_MEMORY_KIB".into(), "64".into()),
        ("CERTVERIFY_ARGON2_ITERATIONS".into(), "1".into()),
    ]);
    // Dispatcher settings to try (CERTVERIFY_DISPATCHER_CONCURRENCY, …) pass through.
    vars.extend(std::env::vars().filter(|(k, _)| k.starts_with("CERTVERIFY_")));
    let settings = Settings::from_vars(vars)?;
    run(settings, env.backend, requests)
}

fn certificates(requests: usize) -> anyhow::Result<Certificates> {
    let list: Vec<Value> = (0..requests)
        .map(|i| {
            json!({"certificate_number": format!("BENCH-{i}"), "qualification_code": "bench-q",
                   "holder_name": "Ana Lima", "date_of_birth": "1988-04-02", "issued_on": "2019-06-30",
                   "expires_on": null, "status": "valid"})
        })
        .collect();
    Ok(Certificates::parse(&Value::Array(list).to_string())?)
}

/// The registry: one body answered by the simulator, one qualification.
fn registry(pool: &Pool, sim: &sim::RunningSim) -> anyhow::Result<()> {
    let jwk = &sim.public_jwk;
    let doc = json!({
        "list_versions": [{"version": "3.0", "title": "List 3.0"}],
        "issuing_bodies": [{"code": "bench-body", "name_en": "Bench Body", "country": "GB",
            "verification_mode": "api", "api_base_url": sim.base_url(),
            "public_keys": [{"kty": jwk.kty, "crv": jwk.crv, "x": jwk.x, "kid": jwk.kid}]}],
        "qualifications": [{"code": "bench-q", "name_en": "Bench Qualification",
            "issuing_body": "bench-body", "field": "accounting", "categories": ["A"], "list_version": "3.0"}]
    });
    let checked = import::check_document(&doc, UrlPolicy { allow_http: true })
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |c| {
        import::apply(c, checked, "bench", &|_, _| {})
    })?;
    Ok(())
}

async fn holder_token(
    client: &reqwest::Client,
    base: &str,
    outbox: &std::path::Path,
) -> anyhow::Result<String> {
    let holder = json!({
        "email": "ana@example.org", "password": "correct horse battery staple", "full_name": "Ana Lima",
        "nationality": "BR", "identity_kind": "foreign_national", "date_of_birth": "1988-04-02",
        "identity_document": {"type": "passport", "number": "FZ1234567"},
        "residence_country": "BR", "shanghai_hukou": false
    });
    let res = client
        .post(format!("{base}/v1/holders"))
        .json(&holder)
        .send()
        .await?;
    anyhow::ensure!(res.status() == 202, "register: {}", res.status());
    common::verify_email(client, base, outbox, "ana@example.org").await?;
    let login = json!({"email": "ana@example.org", "password": "correct horse battery staple"});
    let res = client
        .post(format!("{base}/v1/auth/login"))
        .json(&login)
        .send()
        .await?;
    let body: Value = res.json().await?;
    body["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no token: {body}"))
}

/// Requests in any of `states`.
fn count_in(pool: &Pool, states: &[&str]) -> anyhow::Result<usize> {
    let mut pooled = pool.get()?;
    let conn: &mut db::DbConnection = &mut pooled;
    let n: i64 = verification_requests::table
        .filter(verification_requests::state.eq_any(states))
        .count()
        .get_result(conn)?;
    Ok(n as usize)
}

fn run(settings: Settings, backend: &str, requests: usize) -> anyhow::Result<()> {
    let pool = db::build_pool(&settings.database_url, 2)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let outbox = settings.mail.outbox_dir.clone();
    runtime.block_on(async {
        let app = Application::build(settings).await?;
        let base = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        let key = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
        let sim = sim::start(SimConfig::new(
            certificates(requests)?,
            format!("{base}/.well-known/jwks.json"),
            key,
        ))
        .await?;
        registry(&pool, &sim)?;
        let client = reqwest::Client::new();
        let token = holder_token(&client, &base, &outbox).await?;
        let qualification: Value = client
            .get(format!("{base}/v1/qualifications/bench-q"))
            .send()
            .await?
            .json()
            .await?;
        let qualification_id = qualification["id"].as_str().unwrap_or_default().to_owned();

        let started = Instant::now();
        let next = Arc::new(AtomicUsize::new(0));
        let accepted = Arc::new(AtomicUsize::new(0));
        let mut submitters = Vec::new();
        for _ in 0..SUBMITTERS {
            let (client, base, token, next) = (client.clone(), base.clone(), token.clone(), next.clone());
            let accepted = accepted.clone();
            let qualification_id = qualification_id.clone();
            submitters.push(tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= requests {
                        return Ok::<_, anyhow::Error>(());
                    }
                    let body = json!({"qualification_id": qualification_id, "certificate_number": format!("BENCH-{i}"),
                        "name_on_certificate": "Ana Lima", "issued_on": "2019-06-30", "expires_on": null,
                        "applying_from": "BR", "note": null});
                    let res = client
                        .post(format!("{base}/v1/verification-requests"))
                        .bearer_auth(&token)
                        .header("idempotency-key", format!("bench-{i}"))
                        .json(&body)
                        .send()
                        .await?;
                    anyhow::ensure!(res.status() == 201, "submit {i}: {}", res.status());
                    accepted.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        let (monitor, watched) = (pool.clone(), accepted.clone());
        // Watched by the requests not (yet) confirmed or issued, counted through the state
        // index over the few requests in these states; counting the confirmed ones read
        // every row, and about a tenth of PostgreSQL's time in this benchmark went to that.
        let unfinished: Vec<&str> = RequestState::ALL
            .iter()
            .filter(|s| !matches!(s, RequestState::Confirmed | RequestState::Issued))
            .map(|s| s.as_str())
            .collect();
        let waiter = tokio::task::spawn_blocking(move || -> anyhow::Result<Duration> {
            let (mut last, mut progress_at) = (0, Instant::now());
            loop {
                // Read before counting: a request accepted meanwhile is then at most
                // counted as unfinished, never as done.
                let submitted = watched.load(Ordering::Relaxed);
                let done = submitted.saturating_sub(count_in(&monitor, &unfinished)?);
                if done >= requests {
                    let elapsed = started.elapsed();
                    let confirmed = count_in(&monitor, &["confirmed", "issued"])?;
                    anyhow::ensure!(confirmed == requests, "{confirmed} of {requests} confirmed");
                    return Ok(elapsed);
                }
                if done > last {
                    (last, progress_at) = (done, Instant::now());
                }
                anyhow::ensure!(progress_at.elapsed() < Duration::from_secs(60), "stuck at {done} confirmed");
                // Each count costs the database a few milliseconds (the state index still
                // holds the rows' earlier states until vacuum), so it is asked about four
                // times per remaining stretch at the pace so far: rarely at first, often at
                // the end, where the finishing time is read.
                let pace = done.max(1) as f64 / started.elapsed().as_secs_f64();
                let remaining = (requests - done) as f64 / pace;
                std::thread::sleep(Duration::from_secs_f64((remaining / 4.0).clamp(0.02, 1.0)));
            }
        });
        for s in submitters {
            s.await??;
        }
        let submitted = started.elapsed();
        let all_confirmed = waiter.await??;
        let rate = |d: Duration| requests as f64 / d.as_secs_f64();
        println!(
            "{backend}: {requests} requests submitted in {:.2} s ({:.0}/s); all confirmed after {:.2} s: {:.0} requests/s reaching confirmed",
            submitted.as_secs_f64(),
            rate(submitted),
            all_confirmed.as_secs_f64(),
            rate(all_confirmed),
        );
        // How many synchronous confirmations were written with a record built beforehand.
        let metrics = client.get(format!("{base}/metrics")).send().await?.text().await?;
        for line in metrics.lines().filter(|l| l.starts_with("certverify_prebuilt_records_total")) {
            println!("  {line}");
        }
        Ok(())
    })
}
