//! `certverify serve --demo`, run as a person runs it: the real binary in an empty
//! directory, nothing else set up.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{holder_body, PASSWORD};
use crate::mail_helpers::link_token;

struct Demo {
    child: Child,
    url: String,
    dir: tempfile::TempDir,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the demo on a free port in a fresh directory and reads its address from what
/// it prints for the person at the terminal.
fn start_demo() -> Demo {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_certverify"))
        .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .env_remove("CERTVERIFY_DATA_DIR")
        .env("CERTVERIFY_LOG_FORMAT", "json")
        .env("CERTVERIFY_ARGON2_MEMORY_KIB", "64")
        .env("CERTVERIFY_ARGON2_ITERATIONS", "1")
        .env("CERTVERIFY_MAIL_POLL_MS", "20")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(url) = line.trim().strip_prefix("certverify demonstration: ") {
                let _ = tx.send(url.to_owned());
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the demo prints its address");
    Demo { child, url, dir }
}

fn outbox_token(demo: &Demo, path: &str) -> Option<String> {
    let outbox = demo.dir.path().join("data/outbox");
    for entry in std::fs::read_dir(outbox).ok()?.flatten() {
        let raw = std::fs::read_to_string(entry.path()).ok()?;
        let mail = crate::mail_helpers::decode_mail(&raw);
        if mail.contains(path) {
            return Some(link_token(&mail, path));
        }
    }
    None
}

#[tokio::test]
async fn the_demo_takes_a_person_from_registration_to_an_issued_record_with_nothing_set_up() {
    let demo = start_demo();
    let client = reqwest::Client::new();
    let page = client.get(&demo.url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("class=\"demo-banner\""),
        "the banner is on the page"
    );
    assert!(
        html.contains("outbox"),
        "the banner tells where the mail goes"
    );

    let email = "ana.demo@example.org";
    let res = client
        .post(format!("{}/v1/holders", demo.url))
        .json(&holder_body(email))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let deadline = Instant::now() + Duration::from_secs(20);
    let token = loop {
        if let Some(token) = outbox_token(&demo, "/account/verify-email/") {
            break token;
        }
        assert!(
            Instant::now() < deadline,
            "the verification mail is a file in data/outbox"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let res = client
        .post(format!("{}/v1/holders/verify-email", demo.url))
        .json(&json!({ "token": token }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let login: Value = client
        .post(format!("{}/v1/auth/login", demo.url))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = login["access_token"].as_str().unwrap().to_owned();

    // The sample registry is there, every body answering through the simulator.
    let list: Value = client
        .get(format!(
            "{}/v1/qualifications?q=Demo%20Certified%20Financial",
            demo.url
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let qualification = list["items"][0]["id"].as_str().unwrap().to_owned();
    let submitted = Instant::now();
    let res = client
        .post(format!("{}/v1/verification-requests", demo.url))
        .bearer_auth(&bearer)
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .json(&json!({"qualification_id": qualification, "certificate_number": "DCFA-2020-0042",
            "name_on_certificate": "Ana Lima", "issued_on": "2020-11-15", "expires_on": "2030-11-15",
            "applying_from": "BR", "note": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let request = loop {
        let request: Value = client
            .get(format!("{}/v1/verification-requests/{id}", demo.url))
            .bearer_auth(&bearer)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if request["state"] == "issued" || submitted.elapsed() > Duration::from_secs(30) {
            break request;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(request["state"], "issued", "{request}");
    assert!(request["record_id"].is_string());
    eprintln!("demo: submit to issued in {:?}", submitted.elapsed());
}

#[test]
fn the_demo_refuses_postgresql() {
    let out = Command::new(env!("CARGO_BIN_EXE_certverify"))
        .args(["serve", "--demo"])
        .env(
            "DATABASE_URL",
            "postgres://postgres@127.0.0.1:5432/postgres",
        )
        .env("CERTVERIFY_KEY_FILE", "/nonexistent/platform.pem")
        .env("CERTVERIFY_PII_KEY", "11".repeat(32))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("SQLite only"), "{stderr}");
}
