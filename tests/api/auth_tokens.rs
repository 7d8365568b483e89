//! Every way a token can be wrong is refused with a 401 or 403 problem document.

use crate::times::JsonBody;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, TestApp};

fn kid(app: &TestApp) -> String {
    certverify::auth::keys::kid_of(&app.signing_key.verifying_key())
}

fn claims(app: &TestApp, kind: &str, scope: &str, exp_offset: i64) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({"iss": app.address, "aud": app.address, "sub": "someone", "iat": now, "exp": now + exp_offset,
           "jti": "j1", "kind": kind, "scope": scope})
}

fn sign(key: &ed25519_dalek::SigningKey, typ: &str, kid: &str, claims: &Value) -> String {
    use ed25519_dalek::pkcs8::EncodePrivateKey;
    let pem = key.to_pkcs8_pem(Default::default()).unwrap();
    let mut header = Header::new(Algorithm::EdDSA);
    header.typ = Some(typ.to_owned());
    header.kid = Some(kid.to_owned());
    encode(
        &header,
        claims,
        &EncodingKey::from_ed_pem(pem.as_bytes()).unwrap(),
    )
    .unwrap()
}

async fn assert_refused(app: &TestApp, token: &str, code: &str) {
    assert_problem(app.get("/v1/me", Some(token)).await, 401, code).await;
}

#[tokio::test]
async fn a_request_without_a_token_is_401_with_a_bearer_challenge() {
    let app = spawn_app().await;
    let res = app.get("/v1/me", None).await;
    assert_eq!(res.headers().get("www-authenticate").unwrap(), "Bearer");
    assert_problem(res, 401, "missing_token").await;
    let res = app
        .client
        .get(app.url("/v1/me"))
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_problem(res, 401, "invalid_token").await;
    assert_refused(&app, "not.a.jwt", "invalid_token").await;
}

#[tokio::test]
async fn an_unsigned_token_is_refused() {
    let app = spawn_app().await;
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"at+jwt"}"#);
    let body = URL_SAFE_NO_PAD.encode(claims(&app, "holder", "holder", 600).to_string());
    assert_refused(&app, &format!("{header}.{body}."), "invalid_token").await;
}

#[tokio::test]
async fn an_hs256_token_keyed_with_the_public_key_is_refused() {
    let app = spawn_app().await;
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("at+jwt".into());
    header.kid = Some(kid(&app));
    let public = app.signing_key.verifying_key().to_bytes();
    let token = encode(
        &header,
        &claims(&app, "holder", "holder", 600),
        &EncodingKey::from_secret(&public),
    )
    .unwrap();
    assert_refused(&app, &token, "invalid_token").await;
}

#[tokio::test]
async fn a_token_signed_by_another_key_is_refused() {
    let app = spawn_app().await;
    let other = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
    // Even when it claims the platform's kid.
    assert_refused(
        &app,
        &sign(
            &other,
            "at+jwt",
            &kid(&app),
            &claims(&app, "holder", "holder", 600),
        ),
        "invalid_token",
    )
    .await;
    let other_kid = certverify::auth::keys::kid_of(&other.verifying_key());
    assert_refused(
        &app,
        &sign(
            &other,
            "at+jwt",
            &other_kid,
            &claims(&app, "holder", "holder", 600),
        ),
        "invalid_token",
    )
    .await;
}

#[tokio::test]
async fn a_platform_signed_token_of_another_typ_is_refused() {
    let app = spawn_app().await;
    for typ in ["JWT", "vc+jwt", "certverify-request+jwt"] {
        assert_refused(
            &app,
            &sign(
                &app.signing_key,
                typ,
                &kid(&app),
                &claims(&app, "holder", "holder", 600),
            ),
            "invalid_token",
        )
        .await;
    }
}

#[tokio::test]
async fn a_token_for_another_audience_or_issuer_is_refused() {
    let app = spawn_app().await;
    let mut c = claims(&app, "holder", "holder", 600);
    c["aud"] = json!("https://elsewhere.example");
    assert_refused(
        &app,
        &sign(&app.signing_key, "at+jwt", &kid(&app), &c),
        "invalid_token",
    )
    .await;
    let mut c = claims(&app, "holder", "holder", 600);
    c["iss"] = json!("https://elsewhere.example");
    assert_refused(
        &app,
        &sign(&app.signing_key, "at+jwt", &kid(&app), &c),
        "invalid_token",
    )
    .await;
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let app = spawn_app().await;
    let token = sign(
        &app.signing_key,
        "at+jwt",
        &kid(&app),
        &claims(&app, "holder", "holder", -120),
    );
    assert_refused(&app, &token, "token_expired").await;
}

#[tokio::test]
async fn a_token_with_a_tampered_payload_is_refused() {
    let app = spawn_app().await;
    let token = app.holder_token("ana@example.org").await;
    let parts: Vec<&str> = token.split('.').collect();
    let mut payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    payload["kind"] = json!("admin");
    payload["scope"] = json!("admin");
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(payload.to_string()),
        parts[2]
    );
    let res = app
        .post_json(
            "/v1/admin/agencies",
            &json!({"name": "x", "scopes": ["records:read"]}),
            Some(&forged),
        )
        .await;
    assert_problem(res, 401, "invalid_token").await;
}

#[tokio::test]
async fn a_holder_token_cannot_reach_admin_routes() {
    let app = spawn_app().await;
    let token = app.holder_token("ana@example.org").await;
    let res = app
        .post_json(
            "/v1/admin/agencies",
            &json!({"name": "x", "scopes": ["records:read"]}),
            Some(&token),
        )
        .await;
    assert_problem(res, 403, "wrong_principal").await;
}

#[tokio::test]
async fn an_agency_token_cannot_reach_admin_or_holder_routes() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (id, secret) = app.agency(&admin, &["records:read"]).await;
    let agency = app.client_token(&id, &secret).await;
    let res = app
        .post_json(
            "/v1/admin/agencies",
            &json!({"name": "x", "scopes": ["records:read"]}),
            Some(&agency),
        )
        .await;
    assert_problem(res, 403, "wrong_principal").await;
    assert_problem(
        app.get("/v1/me", Some(&agency)).await,
        403,
        "wrong_principal",
    )
    .await;
}

#[tokio::test]
async fn an_admin_token_without_the_admin_scope_is_403() {
    let app = spawn_app().await;
    let token = sign(
        &app.signing_key,
        "at+jwt",
        &kid(&app),
        &claims(&app, "admin", "records:read", 600),
    );
    let res = app
        .post_json(
            "/v1/admin/agencies",
            &json!({"name": "x", "scopes": ["records:read"]}),
            Some(&token),
        )
        .await;
    assert_problem(res, 403, "insufficient_scope").await;
}

#[tokio::test]
async fn the_jwks_publishes_the_key_that_signs_access_tokens() {
    let app = spawn_app().await;
    let token = app.holder_token("ana@example.org").await;
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(header.alg, Algorithm::EdDSA);
    let jwks: Value = app
        .get("/.well-known/jwks.json", None)
        .await
        .json_checked()
        .await
        .unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["crv"], "Ed25519");
    assert_eq!(key["kid"].as_str(), header.kid.as_deref());
    assert_eq!(
        key["x"],
        URL_SAFE_NO_PAD.encode(app.signing_key.verifying_key().as_bytes())
    );
}
