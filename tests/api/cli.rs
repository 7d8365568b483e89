use std::process::Command;

use crate::helpers::spawn_app;

fn certverify(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_certverify"))
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

#[test]
fn every_subcommand_has_help() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["keys", "--help"],
        vec!["keys", "generate", "--help"],
        vec!["admin", "--help"],
        vec!["admin", "bootstrap", "--help"],
        vec!["openapi", "--help"],
        vec!["audit", "verify", "--help"],
    ] {
        let out = certverify(&args, &[]);
        assert!(out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage:"),
            "{args:?}"
        );
    }
}

#[test]
fn an_unknown_or_malformed_setting_stops_the_start_and_is_named() {
    let out = certverify(&["migrate"], &[("CERTVERIFY_LISTNE", "127.0.0.1:1")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("CERTVERIFY_LISTNE"));
    let out = certverify(
        &["serve"],
        &[("DATABASE_URL", "host=localhost password=secret")],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("DATABASE_URL") && !stderr.contains("secret"),
        "{stderr}"
    );
}

#[tokio::test]
async fn admin_bootstrap_prints_exactly_one_json_line() {
    let app = spawn_app().await;
    let out = app.cli(&["admin", "bootstrap", "--name", "Bureau IT"]);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let creds: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(creds.as_object().unwrap().len(), 2);
    assert!(creds["client_id"].as_str().unwrap().starts_with("adm_"));
    assert!(creds["client_secret"].as_str().unwrap().len() >= 32);
}

#[test]
fn keys_generate_writes_a_private_pem_and_prints_its_public_jwk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.pem");
    let out = certverify(&["keys", "generate", "--out", path.to_str().unwrap()], &[]);
    assert!(out.status.success());
    let jwk: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(jwk["crv"], "Ed25519");
    assert!(jwk.get("d").is_none(), "no private part is printed");
    let pem = std::fs::read_to_string(&path).unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    openssl_reads_the_key(&path, jwk["x"].as_str().unwrap());
    let again = certverify(&["keys", "generate", "--out", path.to_str().unwrap()], &[]);
    assert!(
        !again.status.success(),
        "an existing key is not overwritten"
    );
}

#[tokio::test]
async fn serve_starts_on_its_defaults_and_generates_private_keys() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_certverify"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env_clear()
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let key = dir.path().join("keys/platform-ed25519.pem");
    let pii = dir.path().join("keys/pii-key.hex");
    let mut waited = 0;
    while !(key.exists() && pii.exists() && dir.path().join("data/certverify.db").exists())
        && waited < 200
    {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        waited += 1;
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        key.exists(),
        "the platform key is generated on the SQLite default"
    );
    let generated = certverify::auth::keys::read_platform_key(&key).unwrap();
    let x = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        generated.verifying_key().as_bytes(),
    );
    openssl_reads_the_key(&key, &x);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            std::fs::metadata(&pii).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}

/// `openssl pkey` reads the key file and derives the public key `x` (base64url) from it,
/// when openssl is installed: key files are PKCS#8 v1, as `openssl genpkey` writes them.
fn openssl_reads_the_key(path: &std::path::Path, x: &str) {
    let out = match Command::new("openssl")
        .args(["pkey", "-pubout", "-outform", "DER", "-in"])
        .arg(path)
        .output()
    {
        Ok(out) => out,
        Err(_) => {
            eprintln!("openssl is not installed: the key file is not checked with it");
            return;
        }
    };
    assert!(
        out.status.success(),
        "openssl pkey refused the key: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // SubjectPublicKeyInfo for Ed25519: a 12-byte header, then the 32-byte key.
    let public = &out.stdout[out.stdout.len() - 32..];
    use base64::Engine;
    assert_eq!(
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(public),
        x
    );
}
