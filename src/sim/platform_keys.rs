//! The platform's public keys, from its JWKS (an http(s) URL or a file), cached by kid.
//! An unknown kid triggers one refetch, so a key the platform has just rotated in is found
//! without a restart; concurrent misses share that refetch.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::RwLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::VerifyingKey;
use serde::Deserialize;

use crate::auth::keys::kid_of;

/// A JWKS larger than this is not a JWKS.
const MAX_JWKS_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub enum JwksSource {
    Url(String),
    File(PathBuf),
}

impl JwksSource {
    /// `http://…` or `https://…` is fetched; `file://…` or anything else is a file path.
    pub fn parse(text: &str) -> Self {
        let lower = text.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            Self::Url(text.to_owned())
        } else {
            Self::File(PathBuf::from(text.strip_prefix("file://").unwrap_or(text)))
        }
    }
}

impl std::fmt::Display for JwksSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Url(url) => f.write_str(url),
            Self::File(path) => write!(f, "{}", path.display()),
        }
    }
}

#[derive(Default)]
struct Cache {
    /// Bumped by every completed fetch, so a waiter can tell that someone else refetched.
    generation: u64,
    keys: HashMap<String, VerifyingKey>,
}

pub struct PlatformKeys {
    source: JwksSource,
    client: reqwest::Client,
    cache: RwLock<Cache>,
    fetching: tokio::sync::Mutex<()>,
}

impl PlatformKeys {
    pub fn new(source: JwksSource, client: reqwest::Client) -> Self {
        Self {
            source,
            client,
            cache: RwLock::new(Cache::default()),
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    fn cached(&self, kid: &str) -> (u64, Option<VerifyingKey>) {
        let cache = self.cache.read().unwrap_or_else(|e| e.into_inner());
        (cache.generation, cache.keys.get(kid).copied())
    }

    /// The platform key with this kid; `Ok(None)` when the platform does not publish it
    /// even after a refetch; `Err` when the JWKS cannot be had at all.
    pub async fn find(&self, kid: &str) -> anyhow::Result<Option<VerifyingKey>> {
        let (seen, found) = self.cached(kid);
        if found.is_some() {
            return Ok(found);
        }
        let _turn = self.fetching.lock().await;
        let (now, found) = self.cached(kid);
        if found.is_some() || now != seen {
            return Ok(found);
        }
        let keys = self.fetch().await?;
        tracing::info!(source = %self.source, keys = keys.len(), "fetched the platform's JWKS");
        let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
        cache.generation += 1;
        cache.keys = keys;
        Ok(cache.keys.get(kid).copied())
    }

    async fn fetch(&self) -> anyhow::Result<HashMap<String, VerifyingKey>> {
        let bytes = match &self.source {
            JwksSource::Url(url) => {
                let mut response = self
                    .client
                    .get(url)
                    .send()
                    .await
                    .and_then(|r| r.error_for_status())
                    .map_err(|e| anyhow::anyhow!("cannot fetch the platform's JWKS: {e}"))?;
                let mut body = Vec::new();
                while let Some(chunk) = response.chunk().await? {
                    body.extend_from_slice(&chunk);
                    if body.len() > MAX_JWKS_BYTES {
                        anyhow::bail!(
                            "the platform's JWKS at {url} is over {MAX_JWKS_BYTES} bytes"
                        );
                    }
                }
                body
            }
            JwksSource::File(path) => {
                let path = path.clone();
                tokio::task::spawn_blocking(move || {
                    std::fs::read(&path)
                        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))
                })
                .await??
            }
        };
        parse_jwks(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", self.source))
    }
}

#[derive(Deserialize)]
struct JwkSet {
    keys: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct OkpKey {
    kty: String,
    crv: String,
    x: String,
    #[serde(default)]
    kid: Option<String>,
}

/// The Ed25519 keys of a JWKS by kid; other kinds of key are skipped, since a JWKS may
/// publish keys for other uses. A key without a kid is known by its RFC 7638 thumbprint.
pub fn parse_jwks(bytes: &[u8]) -> anyhow::Result<HashMap<String, VerifyingKey>> {
    let set: JwkSet = serde_json::from_slice(bytes)
        .map_err(|e| anyhow::anyhow!("not a JWKS ({{\"keys\": [...]}}): {e}"))?;
    let mut keys = HashMap::new();
    for value in set.keys {
        let Ok(jwk) = serde_json::from_value::<OkpKey>(value) else {
            continue;
        };
        if jwk.kty != "OKP" || jwk.crv != "Ed25519" {
            continue;
        }
        let bytes: [u8; 32] = URL_SAFE_NO_PAD
            .decode(&jwk.x)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| anyhow::anyhow!("key {:?}: x is not 32 bytes of base64url", jwk.kid))?;
        let key = VerifyingKey::from_bytes(&bytes)
            .map_err(|e| anyhow::anyhow!("key {:?}: {e}", jwk.kid))?;
        keys.insert(jwk.kid.unwrap_or_else(|| kid_of(&key)), key);
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;
    use rand_core::OsRng;

    use super::*;
    use crate::auth::keys::jwk_of;

    #[test]
    fn sources_are_urls_or_paths() {
        assert_eq!(
            JwksSource::parse("https://p.test/.well-known/jwks.json"),
            JwksSource::Url("https://p.test/.well-known/jwks.json".into())
        );
        assert_eq!(
            JwksSource::parse("file:///tmp/jwks.json"),
            JwksSource::File("/tmp/jwks.json".into())
        );
        assert_eq!(
            JwksSource::parse("jwks.json"),
            JwksSource::File("jwks.json".into())
        );
    }

    #[test]
    fn a_jwks_yields_its_ed25519_keys_by_kid() {
        let key = SigningKey::generate(&mut OsRng).verifying_key();
        let jwk = serde_json::to_value(jwk_of(&key)).unwrap();
        let mut bare = jwk.clone();
        bare.as_object_mut().unwrap().remove("kid");
        let text = serde_json::json!({"keys": [
            jwk,
            {"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "rsa"},
            bare,
        ]});
        let keys = parse_jwks(text.to_string().as_bytes()).unwrap();
        assert_eq!(keys.len(), 1, "the thumbprint is the kid the JWK declares");
        assert_eq!(keys.get(&kid_of(&key)), Some(&key));
        assert!(parse_jwks(b"[]").is_err());
    }

    #[tokio::test]
    async fn an_unknown_kid_is_refetched_once_and_found() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jwks.json");
        let first = SigningKey::generate(&mut OsRng).verifying_key();
        let second = SigningKey::generate(&mut OsRng).verifying_key();
        let write = |keys: &[VerifyingKey]| {
            let keys: Vec<_> = keys.iter().map(jwk_of).collect();
            std::fs::write(&path, serde_json::json!({ "keys": keys }).to_string()).unwrap();
        };
        write(&[first]);
        let platform = PlatformKeys::new(JwksSource::File(path.clone()), reqwest::Client::new());
        assert_eq!(platform.find(&kid_of(&first)).await.unwrap(), Some(first));
        write(&[first, second]);
        assert_eq!(platform.find(&kid_of(&second)).await.unwrap(), Some(second));
        assert_eq!(platform.find("nobody").await.unwrap(), None);
        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            platform.find(&kid_of(&first)).await.unwrap(),
            Some(first),
            "a cached key needs no fetch"
        );
        assert!(platform.find("nobody").await.is_err());
    }
}
