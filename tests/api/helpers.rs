//! The app on port 0 against a fresh database: a SQLite file per test, or, when
//! TEST_DATABASE_URL names a PostgreSQL server, a fresh database per test, dropped after.

use crate::times::JsonBody;
use certverify::config::Settings;
use certverify::db::{self, DbConnection, Pool};
use certverify::startup::Application;
use diesel::{Connection, RunQueryDsl};
use ed25519_dalek::pkcs8::EncodePrivateKey;
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub signing_key: SigningKey,
    pub env: Vec<(String, String)>,
    pub pool: Pool,
    _db: TestDb,
    _dir: tempfile::TempDir,
}

enum TestDb {
    Sqlite,
    Postgres { admin_url: String, name: String },
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { admin_url, name } = self {
            if let Ok(mut conn) = diesel::PgConnection::establish(admin_url) {
                let _ =
                    diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                        .execute(&mut conn);
            }
        }
    }
}

/// TEST_DATABASE_URL, with `sslmode=disable` unless it names a mode. Why: libpq's TLS is
/// OpenSSL, whose atexit cleanup frees its state while pool threads of apps that outlived
/// their test still hold TLS connections, and the test binary then dies of SIGSEGV after
/// every test passed (diesel#3441, r2d2#137; OpenSSL 3 has no opt-out). The suite talks to
/// a loopback server, where TLS protects nothing.
pub fn postgres_url() -> Option<String> {
    let url = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())?;
    let mut parsed = url::Url::parse(&url).expect("TEST_DATABASE_URL is a URL");
    if !parsed.query_pairs().any(|(k, _)| k == "sslmode") {
        parsed.query_pairs_mut().append_pair("sslmode", "disable");
    }
    Some(parsed.to_string())
}

/// A fresh database URL: a file in `dir`, or a new PostgreSQL database.
fn fresh_database(dir: &std::path::Path) -> (String, TestDb) {
    match postgres_url() {
        None => (
            format!("sqlite://{}", dir.join("test.db").display()),
            TestDb::Sqlite,
        ),
        Some(admin_url) => {
            let name = format!("certverify_test_{}", uuid::Uuid::new_v4().simple());
            let mut conn = diesel::PgConnection::establish(&admin_url)
                .expect("TEST_DATABASE_URL must be reachable");
            diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
                .execute(&mut conn)
                .expect("create test database");
            let mut url = url::Url::parse(&admin_url).expect("TEST_DATABASE_URL is a URL");
            url.set_path(&name);
            (url.to_string(), TestDb::Postgres { admin_url, name })
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts the app with extra settings on top of the test defaults.
pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let (database_url, test_db) = tokio::task::spawn_blocking({
        let path = dir.path().to_owned();
        move || fresh_database(&path)
    })
    .await
    .expect("database setup");
    let signing_key = SigningKey::generate(&mut rand_core::OsRng);
    let key_file = dir.path().join("test-platform-ed25519.pem");
    std::fs::write(
        &key_file,
        signing_key
            .to_pkcs8_pem(Default::default())
            .expect("pem")
            .as_bytes(),
    )
    .expect("key file");
    let mut env: Vec<(String, String)> = vec![
        ("DATABASE_URL".into(), database_url),
        ("CERTVERIFY_LISTEN".into(), "127.0.0.1:0".into()),
        ("CERTVERIFY_KEY_FILE".into(), key_file.display().to_string()),
        ("CERTVERIFY_PII_KEY".into(), "11".repeat(32)),
        // Cheap hashing keeps the suite fast; production cost is the default.
        ("CERTVERIFY_ARGON2_MEMORY_KIB".into(), "64".into()),
        ("CERTVERIFY_ARGON2_ITERATIONS".into(), "1".into()),
        (
            "CERTVERIFY_AUTH_RATE_LIMIT_PER_MINUTE".into(),
            "1000".into(),
        ),
        ("CERTVERIFY_WORKERS".into(), "2".into()),
        // Mail goes to .eml files under the test's own directory, picked up quickly.
        (
            "CERTVERIFY_DATA_DIR".into(),
            dir.path().display().to_string(),
        ),
        ("CERTVERIFY_MAIL_POLL_MS".into(), "20".into()),
    ];
    for (k, v) in extra {
        env.retain(|(name, _)| name != k);
        env.push((k.to_string(), v.to_string()));
    }
    let settings = Settings::from_vars(env.clone()).expect("test settings");
    let pool = db::build_pool(&settings.database_url, 2).expect("test pool");
    let app = Application::build(settings).await.expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    TestApp {
        address,
        client,
        signing_key,
        env,
        pool,
        _db: test_db,
        _dir: dir,
    }
}

impl TestApp {
    /// `CERTVERIFY_DATA_DIR` of this app (the outbox is `outbox/` in it).
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut req = self.client.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request sent")
    }

    pub async fn post_json(
        &self,
        path: &str,
        body: &Value,
        token: Option<&str>,
    ) -> reqwest::Response {
        let mut req = self.client.post(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request sent")
    }

    /// Runs a closure on a database connection of the app's own database.
    pub fn with_db<T>(&self, f: impl FnOnce(&mut DbConnection) -> T) -> T {
        let mut conn = self.pool.get().expect("connection");
        f(&mut conn)
    }

    /// Runs the real binary with this app's settings.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_certverify"))
            .args(args)
            .env_clear()
            .envs(self.env.iter().cloned())
            .output()
            .expect("binary runs")
    }

    /// An admin account made by `certverify admin bootstrap`, and its token.
    pub async fn admin_token(&self) -> String {
        let out = self.cli(&["admin", "bootstrap", "--name", "test admin"]);
        assert!(
            out.status.success(),
            "bootstrap failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let creds: Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
        self.client_token(
            creds["client_id"].as_str().unwrap(),
            creds["client_secret"].as_str().unwrap(),
        )
        .await
    }

    pub async fn client_token(&self, client_id: &str, secret: &str) -> String {
        let res = self
            .client
            .post(self.url("/v1/oauth/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("client_secret", secret),
            ])
            .send()
            .await
            .expect("token request");
        assert_eq!(res.status(), 200);
        let body: Value = res.json_checked().await.expect("token json");
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    /// An agency with the given scopes; returns (client_id, client_secret).
    pub async fn agency(&self, admin: &str, scopes: &[&str]) -> (String, String) {
        let res = self
            .post_json(
                "/v1/admin/agencies",
                &json!({"name": "Exit-Entry", "scopes": scopes}),
                Some(admin),
            )
            .await;
        assert_eq!(res.status(), 201);
        let body: Value = res.json_checked().await.expect("json");
        (
            body["client_id"].as_str().unwrap().to_owned(),
            body["client_secret"].as_str().unwrap().to_owned(),
        )
    }

    pub async fn register_holder(&self, email: &str) -> reqwest::Response {
        self.post_json("/v1/holders", &holder_body(email), None)
            .await
    }

    pub async fn holder_token(&self, email: &str) -> String {
        assert_eq!(self.register_holder(email).await.status(), 202);
        self.verify_email(email).await;
        self.login(email).await
    }

    /// The token of a holder registered a moment ago: verified through the mail, logged in.
    pub async fn holder_token_after_registration(&self, email: &str) -> String {
        self.verify_email(email).await;
        self.login(email).await
    }

    /// A holder registered but not verified, and its token.
    pub async fn unverified_holder_token(&self, email: &str) -> String {
        assert_eq!(self.register_holder(email).await.status(), 202);
        self.login(email).await
    }

    pub async fn login(&self, email: &str) -> String {
        let res = self
            .post_json(
                "/v1/auth/login",
                &json!({"email": email, "password": PASSWORD}),
                None,
            )
            .await;
        assert_eq!(res.status(), 200);
        res.json_checked::<Value>().await.expect("json")["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

pub const PASSWORD: &str = "correct horse battery staple";

pub fn holder_body(email: &str) -> Value {
    json!({
        "email": email, "password": PASSWORD, "full_name": "Ana Lima", "nationality": "BR",
        "identity_kind": "foreign_national", "date_of_birth": "1988-04-02",
        "identity_document": {"type": "passport", "number": "FZ 123-4567"},
        "residence_country": "BR", "shanghai_hukou": false
    })
}

/// Asserts an RFC 9457 problem document with the given status and code; returns it.
pub async fn assert_problem(res: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(res.status().as_u16(), status, "status");
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert_eq!(content_type, "application/problem+json", "content type");
    let body: Value = res.json_checked().await.expect("problem body is JSON");
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    for member in ["type", "title", "detail"] {
        assert!(body[member].is_string(), "problem has {member}: {body}");
    }
    body
}

pub const SAMPLE: &str = include_str!("../../samples/registry-sample.json");

impl TestApp {
    /// Imports the sample registry through the admin API.
    pub async fn import_sample(&self, admin: &str) -> Value {
        let res = self
            .client
            .post(self.url("/v1/admin/registry/import"))
            .bearer_auth(admin)
            .header("content-type", "application/json")
            .body(SAMPLE)
            .send()
            .await
            .expect("import");
        assert_eq!(res.status(), 200);
        res.json_checked().await.expect("report")
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let res = self.get(path, None).await;
        assert_eq!(res.status(), 200, "{path}");
        res.json_checked().await.expect("json")
    }

    pub async fn patch_json(&self, path: &str, body: &Value, token: &str) -> reqwest::Response {
        self.client
            .patch(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }
}

/// The codes of a page of qualifications.
pub fn codes(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|q| q["code"].as_str().unwrap().to_owned())
        .collect()
}

impl TestApp {
    pub async fn get_json_as(&self, path: &str, token: &str) -> Value {
        let res = self.get(path, Some(token)).await;
        assert_eq!(res.status(), 200, "{path}");
        res.json_checked().await.expect("json")
    }
}

impl TestApp {
    /// Another instance of the service on the same database (and keys), on its own port.
    pub async fn another_instance(&self) -> String {
        self.another_instance_with(&[]).await
    }

    /// Another instance with some settings changed.
    pub async fn another_instance_with(&self, extra: &[(&str, &str)]) -> String {
        let mut env = self.env.clone();
        for (k, v) in extra {
            env.retain(|(name, _)| name != k);
            env.push((k.to_string(), v.to_string()));
        }
        let settings = Settings::from_vars(env).expect("settings");
        let app = Application::build(settings)
            .await
            .expect("second instance builds");
        let address = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        address
    }
}

/// The `field` of each entry of a validation problem's `errors`, in order.
pub fn error_fields(problem: &Value) -> Vec<&str> {
    problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("field"))
        .collect()
}
