//! What the pages cost: bytes per page (with its stylesheet) and the server's CPU time per
//! rendered page as a multiple of `/healthz`, read from `/proc/<pid>/stat` of the real
//! binary (`serve --demo` in a fresh directory), so the load generator's own CPU never
//! counts and a busy machine moves the figures less than wall-clock throughput.
//!
//! `cargo bench --bench pages` (release build of the binary; SQLite).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

mod common;

/// Requests per page and language (`BENCH_ROUNDS` to change).
fn rounds() -> usize {
    std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000)
}

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .ok_or_else(|| anyhow::anyhow!("odd /proc stat"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat(5); `rest` starts at field 3.
    Ok(fields[11].parse::<u64>()? + fields[12].parse::<u64>()?)
}

struct Served {
    child: std::process::Child,
    base: String,
    dir: tempfile::TempDir,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve_demo() -> anyhow::Result<Served> {
    let dir = tempfile::tempdir()?;
    let mut child = Command::new(env!("CARGO_BIN_EXE_certverify"))
        .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .env("CERTVERIFY_LOG_FORMAT", "json")
        .env("RUST_LOG", "warn")
        .env("CERTVERIFY_MAIL_POLL_MS", "20")
        .env("CERTVERIFY_WORKERS", "1")
        // The check page is rate-limited per address, and the bench is one address.
        .env("CERTVERIFY_SHARE_CODE_RATE_LIMIT_PER_MINUTE", "100000")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let stderr = child
        .stderr
        .take()
        .ok_or_else(|| anyhow::anyhow!("stderr"))?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(url) = line.trim().strip_prefix("certverify demonstration: ") {
                let _ = tx.send(url.to_owned());
            }
        }
    });
    let base = rx.recv_timeout(Duration::from_secs(60))?;
    Ok(Served { child, base, dir })
}

/// A holder with an issued record and a share code, signed in on the pages: (the page
/// session cookie, the share code).
async fn holder_with_a_code(c: &reqwest::Client, s: &Served) -> anyhow::Result<(String, String)> {
    let base = &s.base;
    let email = "bench@example.org";
    c.post(format!("{base}/v1/holders"))
        .json(&json!({"email": email, "password": "correct horse battery staple", "full_name": "Ana Lima",
            "nationality": "BR", "identity_kind": "foreign_national", "date_of_birth": "1988-04-02",
            "identity_document": {"type": "passport", "number": "FZ 123-4567"},
            "residence_country": "BR", "shanghai_hukou": false}))
        .send()
        .await?;
    common::verify_email(c, base, &s.dir.path().join("data/outbox"), email).await?;
    let login: Value = c
        .post(format!("{base}/v1/auth/login"))
        .json(&json!({"email": email, "password": "correct horse battery staple"}))
        .send()
        .await?
        .json()
        .await?;
    let bearer = login["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let list: Value = c
        .get(format!(
            "{base}/v1/qualifications?q=Demo%20Certified%20Financial"
        ))
        .send()
        .await?
        .json()
        .await?;
    let request: Value = c
        .post(format!("{base}/v1/verification-requests"))
        .bearer_auth(&bearer)
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .json(&json!({"qualification_id": list["items"][0]["id"], "certificate_number": "DCFA-2020-0042",
            "name_on_certificate": "Ana Lima", "issued_on": "2020-11-15", "expires_on": "2030-11-15",
            "applying_from": "BR", "note": null}))
        .send()
        .await?
        .json()
        .await?;
    let id = request["id"].as_str().unwrap_or_default().to_owned();
    let mut record = Value::Null;
    for _ in 0..500 {
        let r: Value = c
            .get(format!("{base}/v1/verification-requests/{id}"))
            .bearer_auth(&bearer)
            .send()
            .await?
            .json()
            .await?;
        if r["record_id"].is_string() {
            record = r["record_id"].clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let record = record
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no record issued"))?;
    let code: Value = c
        .post(format!("{base}/v1/records/{record}/share-codes"))
        .bearer_auth(&bearer)
        .json(&json!({"expires_in_days": 30}))
        .send()
        .await?
        .json()
        .await?;
    let code = code["code"].as_str().unwrap_or_default().to_owned();
    // A page session, made as the login page makes one.
    let db = s.dir.path().join("data/certverify.db");
    let pool = certverify::db::build_pool(
        &certverify::config::DatabaseUrl::parse(&db.display().to_string())
            .map_err(anyhow::Error::msg)?,
        1,
    )?;
    let mut conn = pool.get()?;
    let holder: Value = c
        .get(format!("{base}/v1/me"))
        .bearer_auth(&bearer)
        .send()
        .await?
        .json()
        .await?;
    let holder_id = holder["id"].as_str().unwrap_or_default();
    let session = certverify::holders::sessions::create(&mut conn, holder_id, None)?;
    Ok((format!("cv_session={}", session.id), code))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let s = serve_demo()?;
    let pid = s.child.id();
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let (cookie, code) = holder_with_a_code(&c, &s).await?;
    let base = &s.base;
    let qualification: Value = c
        .get(format!("{base}/v1/qualifications?limit=1"))
        .send()
        .await?
        .json()
        .await?;
    let qid = qualification["items"][0]["id"].as_str().unwrap_or_default();
    let pages = [
        ("/healthz", false),
        ("/", false),
        ("/registry", false),
        (&format!("/registry/{qid}") as &str, false),
        (&format!("/check/{code}") as &str, false),
        ("/verify", false),
        ("/portal", true),
    ];
    let css = {
        let html = c
            .get(format!("{base}/?lang=en"))
            .send()
            .await?
            .text()
            .await?;
        let href = html
            .split("rel=\"stylesheet\" href=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or("")
            .to_owned();
        c.get(format!("{base}{href}"))
            .send()
            .await?
            .bytes()
            .await?
            .len()
    };
    println!("stylesheet: {css} B (cached for a year under its hashed name)");
    let mut health = None;
    for (path, signed_in) in pages {
        for lang in ["zh-CN", "en"] {
            let get = || {
                let mut r = c.get(format!("{base}{path}?lang={lang}"));
                if signed_in {
                    r = r.header("cookie", &cookie);
                }
                r
            };
            let first = get().send().await?;
            let status = first.status();
            let bytes = first.bytes().await?.len();
            let before = cpu_ticks(pid)?;
            for _ in 0..rounds() {
                get().send().await?.bytes().await?;
            }
            let ticks = cpu_ticks(pid)? - before;
            // Linux counts CPU in ticks of 10 ms (USER_HZ = 100 on every common build).
            let per = ticks as f64 * 10_000.0 / rounds() as f64;
            let base_cost = *health.get_or_insert(per);
            println!(
                "{path:<44} {lang:<5} {status} {bytes:>6} B (+{css} B css)  {per:>6.0} µs CPU/request  {:>4.1}× /healthz",
                per / base_cost
            );
            if path == "/healthz" {
                break;
            }
        }
    }
    Ok(())
}
