//! Share codes never reach the logs in clear, not even as part of a request's path.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::helpers::spawn_app;

#[tokio::test]
async fn a_share_code_in_a_path_is_logged_as_its_route_template() {
    let app = spawn_app().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_certverify"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env_clear()
        .envs(app.env.iter().cloned())
        .env("CERTVERIFY_LOG_FORMAT", "json")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let code = "7QK2-M9XD-4HTR-B0ZP";
    let mut answered = false;
    for _ in 0..100 {
        if let Ok(res) = app
            .client
            .get(format!("{base}/v1/share-codes/{code}"))
            .send()
            .await
        {
            assert_eq!(res.status(), 404);
            answered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(answered, "the server never answered");
    let res = app
        .client
        .get(format!("{base}/v1/records/by-share-code/{code}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    // The page for people, typed as a person might, and the form that leads to it.
    let res = app
        .client
        .get(format!("{base}/check/{}?lang=en", code.to_lowercase()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = app
        .client
        .post(format!("{base}/check"))
        .form(&[("code", code)])
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    assert!(
        matches!(status, 303 | 404),
        "{status}: redirected to /check/{{code}}"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _ = child.kill();
    let mut logs = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    let _ = child.wait();
    assert!(logs.contains("/v1/share-codes/{code}"), "{logs}");
    assert!(logs.contains("/check/{code}"), "{logs}");
    let lower = code.to_lowercase();
    for secret in [code, "7QK2M9XD", lower.as_str(), "7qk2m9xd"] {
        assert!(!logs.contains(secret), "{secret} in {logs}");
    }
}
