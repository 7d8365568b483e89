//! What every benchmark starts from: a fresh database and a platform key file. SQLite lives
//! in a temporary directory; with a PostgreSQL admin URL in one of the given variables, a
//! new database is made there and dropped when the environment is.

use diesel::{Connection, RunQueryDsl};

/// The allocator of the `certverify` binary (src/main.rs), so the figures are the service's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[allow(dead_code)] // the pages bench runs `serve --demo` in a directory of its own instead
pub struct BenchEnv {
    /// "SQLite" or "PostgreSQL", for the printed figures.
    pub backend: &'static str,
    url: String,
    key_file: std::path::PathBuf,
    postgres: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

#[allow(dead_code)]
impl BenchEnv {
    /// `admin_vars`: the variables that may hold a PostgreSQL admin URL, first found wins.
    pub fn new(admin_vars: &[&str]) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let admin = admin_vars
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()));
        let (url, postgres) = match admin {
            Some(admin) => {
                let name = format!("certverify_bench_{}", uuid::Uuid::new_v4().simple());
                let mut conn = diesel::PgConnection::establish(&admin)?;
                diesel::sql_query(format!("CREATE DATABASE \"{name}\"")).execute(&mut conn)?;
                let mut url = url::Url::parse(&admin)?;
                url.set_path(&name);
                (url.to_string(), Some((admin, name)))
            }
            None => (
                format!("sqlite://{}", dir.path().join("bench.db").display()),
                None,
            ),
        };
        let key_file = dir.path().join("bench-key.pem");
        certverify::auth::keys::generate_key_file(&key_file, false)?;
        Ok(Self {
            backend: if postgres.is_some() {
                "PostgreSQL"
            } else {
                "SQLite"
            },
            url,
            key_file,
            postgres,
            _dir: dir,
        })
    }

    /// The settings every benchmark shares; each adds its own.
    pub fn vars(&self) -> Vec<(String, String)> {
        vec![
            ("DATABASE_URL".into(), self.url.clone()),
            ("CERTVERIFY_LISTEN".into(), "127.0.0.1:0".into()),
            (
                "CERTVERIFY_KEY_FILE".into(),
                self.key_file.display().to_string(),
            ),
            ("CERTVERIFY_PII_KEY".into(), "22".repeat(32)),
            // The verification mail is a file here; holders verify through its link.
            (
                "CERTVERIFY_DATA_DIR".into(),
                self._dir.path().display().to_string(),
            ),
            ("CERTVERIFY_MAIL_POLL_MS".into(), "20".into()),
        ]
    }
}

impl Drop for BenchEnv {
    fn drop(&mut self) {
        let Some((admin, name)) = &self.postgres else {
            return;
        };
        let dropped = diesel::PgConnection::establish(admin).and_then(|mut conn| {
            diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&mut conn)
                .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))
        });
        if let Err(e) = dropped {
            eprintln!("could not drop the benchmark database {name}: {e}");
        }
    }
}

/// A client-credentials access token from the server at `base`.
#[allow(dead_code)] // each benchmark compiles this module; not all of them log in
pub async fn client_token(
    client: &reqwest::Client,
    base: &str,
    client_id: &str,
    secret: &str,
) -> anyhow::Result<String> {
    let body: serde_json::Value = client
        .post(format!("{base}/v1/oauth/token"))
        .basic_auth(client_id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await?
        .json()
        .await?;
    body["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no token: {body}"))
}

/// Verifies `email` the way a holder does: the link of the verification mail in the
/// outbox directory (its body is base64: bilingual lines are too long for 8bit).
#[allow(dead_code)] // not every benchmark registers a holder
pub async fn verify_email(
    client: &reqwest::Client,
    base: &str,
    outbox: &std::path::Path,
    email: &str,
) -> anyhow::Result<()> {
    use base64::Engine;
    const LINK: &str = "/account/verify-email/";
    let to = format!("To: {email}");
    for _ in 0..500 {
        for entry in std::fs::read_dir(outbox).into_iter().flatten().flatten() {
            let raw = std::fs::read_to_string(entry.path()).unwrap_or_default();
            let Some((head, body)) = raw.split_once("\r\n\r\n") else {
                continue;
            };
            if !head.lines().any(|l| l.eq_ignore_ascii_case(&to)) {
                continue;
            }
            let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
            let text = base64::engine::general_purpose::STANDARD
                .decode(compact)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .unwrap_or_else(|| body.to_owned());
            let Some(at) = text.find(LINK) else { continue };
            let token: String = text[at + LINK.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            let res = client
                .post(format!("{base}/v1/holders/verify-email"))
                .json(&serde_json::json!({ "token": token }))
                .send()
                .await?;
            anyhow::ensure!(res.status() == 204, "verify-email: {}", res.status());
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    anyhow::bail!("no verification mail to {email} in {}", outbox.display())
}
