//! Search over 10 000 qualifications through the HTTP API: median and p95 latency.
//!
//! `cargo bench --bench search` (SQLite); with `BENCH_DATABASE_URL=postgres://…/postgres`
//! it runs on a fresh PostgreSQL database, dropped afterwards.

mod common;

use std::time::{Duration, Instant};

use certverify::config::Settings;
use certverify::db::{self, write_transaction};
use certverify::registry::import;
use certverify::registry::input::UrlPolicy;
use certverify::startup::Application;
use serde_json::json;

const ROWS: usize = 10_000;
const REQUESTS: usize = 2_000;
const COUNTRIES: [&str; 5] = ["GB", "US", "HK", "DE", "SG"];
const CATEGORIES: [&[&str]; 4] = [&["A"], &["B"], &["A", "B"], &["A", "C"]];

fn document() -> serde_json::Value {
    let fields = [
        "accounting",
        "finance",
        "information_technology",
        "engineering",
        "aerospace",
        "biomedicine",
    ];
    let bodies: Vec<_> = (0..50)
        .map(|b| json!({"code": format!("body-{b}"), "name_en": format!("Body {b}"), "country": COUNTRIES[b % 5], "verification_mode": "manual"}))
        .collect();
    let quals: Vec<_> = (0..ROWS)
        .map(|i| {
            let mut q = json!({
                "code": format!("q-{i:05}"), "name_en": format!("Qualification {i} of the bench"),
                "name_zh": format!("资格证书{i}"), "abbreviation": format!("Q{i}"),
                "issuing_body": format!("body-{}", i % 50), "field": fields[i % fields.len()],
                "categories": CATEGORIES[i % 4], "list_version": "3.0"
            });
            if i % 4 == 3 {
                q["title_series"] = json!("accounting");
                q["title_level"] = json!("intermediate");
            }
            q
        })
        .collect();
    json!({"list_versions": [{"version": "3.0", "title": "List 3.0"}], "issuing_bodies": bodies, "qualifications": quals})
}

fn main() -> anyhow::Result<()> {
    let env = common::BenchEnv::new(&["BENCH_DATABASE_URL"])?;
    let settings = Settings::from_vars(env.vars())?;
    run(settings, env.backend)
}

fn run(settings: Settings, backend: &str) -> anyhow::Result<()> {
    let pool = db::build_pool(&settings.database_url, 2)?;
    {
        let mut conn = pool.get()?;
        db::migrations::run_pending(&mut conn)?;
        let checked = import::check_document(&document(), UrlPolicy { allow_http: false })
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let started = Instant::now();
        write_transaction(&mut conn, |c| {
            import::apply(c, checked, "bench", &|_, _| {})
        })?;
        println!(
            "{backend}: imported {ROWS} qualifications in {:?}",
            started.elapsed()
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let app = Application::build(settings).await?;
        let base = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        let client = reqwest::Client::new();
        let queries = [
            "/v1/qualifications",
            "/v1/qualifications?category=C",
            "/v1/qualifications?q=bench%20123",
            "/v1/qualifications?q=%E8%B5%84%E6%A0%BC%E8%AF%81%E4%B9%A6999",
            "/v1/qualifications?field=aerospace&country=GB&limit=100",
            "/v1/qualifications?issuing_body=body-7&category=A",
            "/v1/qualifications?q=zzz-no-match",
        ];
        let mut samples: Vec<Duration> = Vec::with_capacity(REQUESTS);
        let mut by_query: Vec<Vec<Duration>> = vec![Vec::new(); queries.len()];
        for i in 0..REQUESTS + 100 {
            let path = queries[i % queries.len()];
            let started = Instant::now();
            let res = client.get(format!("{base}{path}")).send().await?;
            anyhow::ensure!(res.status() == 200, "{path}: {}", res.status());
            res.bytes().await?;
            if i >= 100 {
                samples.push(started.elapsed());
                by_query[i % queries.len()].push(started.elapsed());
            }
        }
        for (path, mut times) in queries.iter().zip(by_query) {
            times.sort();
            println!("  {path}: median {:.2} ms", times[times.len() / 2].as_secs_f64() * 1e3);
        }
        samples.sort();
        let at = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)];
        println!(
            "{backend}: search over {ROWS} qualifications, {REQUESTS} requests through HTTP: median {:.2} ms, p95 {:.2} ms, p99 {:.2} ms",
            at(0.5).as_secs_f64() * 1e3,
            at(0.95).as_secs_f64() * 1e3,
            at(0.99).as_secs_f64() * 1e3
        );
        Ok(())
    })
}
