//! The real binary as a child process (`certverify serve`), so a test can kill it with
//! SIGKILL mid-work and start another on the same database.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::TestApp;

pub struct ServerProcess {
    child: Child,
    pub address: String,
    log: tempfile::NamedTempFile,
}

impl ServerProcess {
    /// Starts `serve` with the app's settings (same database, keys) changed by `extra`, on a
    /// port of its own, and waits until it answers.
    pub async fn start(app: &TestApp, extra: &[(&str, &str)]) -> Self {
        // Reserved then released: the child binds it again at once.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let mut env = app.env.clone();
        let listen = format!("127.0.0.1:{port}");
        for (k, v) in extra
            .iter()
            .copied()
            .chain([("CERTVERIFY_LISTEN", listen.as_str())])
        {
            env.retain(|(name, _)| name != k);
            env.push((k.to_owned(), v.to_owned()));
        }
        let log = tempfile::NamedTempFile::new().expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_certverify"))
            .arg("serve")
            .env_clear()
            .envs(env)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.reopen().expect("log"))
            .stderr(log.reopen().expect("log"))
            .spawn()
            .expect("the binary starts");
        let server = Self {
            child,
            address: format!("http://{listen}"),
            log,
        };
        server.wait_ready().await;
        server
    }

    async fn wait_ready(&self) {
        let client = reqwest::Client::new();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            let ok = client
                .get(format!("{}/healthz", self.address))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ok {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server never answered; its log:\n{}", self.log_text());
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    /// SIGKILL: no graceful shutdown, leases and half-done work stay as they were.
    pub fn kill(mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("reaped");
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
