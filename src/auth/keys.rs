//! The platform's Ed25519 signing key and the PII hashing key.
//!
//! On the SQLite development default both are generated (mode 0600) when missing; with
//! PostgreSQL they must be given, because every instance must sign and hash alike.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::RwLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::{SigningKey, VerifyingKey};
use jsonwebtoken::DecodingKey;
use rand_core::{OsRng, RngCore};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::{self, Settings};
use crate::domain::identity::PiiKey;

/// An Ed25519 public key as a JWK (RFC 8037).
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Jwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    pub kid: String,
    pub alg: String,
    #[serde(rename = "use")]
    pub key_use: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

pub struct PlatformKey {
    pub kid: String,
    pub signing: SigningKey,
}

#[derive(Clone)]
struct PublishedKey {
    jwk: Jwk,
    verifying: VerifyingKey,
    decoding: DecodingKey,
}

impl PublishedKey {
    fn new(verifying: VerifyingKey) -> anyhow::Result<Self> {
        Ok(Self {
            jwk: jwk_of(&verifying),
            decoding: DecodingKey::from_ed_components(
                &URL_SAFE_NO_PAD.encode(verifying.as_bytes()),
            )?,
            verifying,
        })
    }
}

/// The key that signs, and every key whose signatures are still accepted, by kid.
///
/// The published set is the database's `active` and `retired` keys, refreshed while the
/// service runs, so a key another instance rotated in verifies here and a revoked key stops
/// verifying everywhere.
pub struct KeyRing {
    active: PlatformKey,
    published: RwLock<BTreeMap<String, PublishedKey>>,
}

impl KeyRing {
    pub fn new(signing: SigningKey) -> anyhow::Result<Self> {
        let active = platform_key(signing)?;
        let mut published = BTreeMap::new();
        published.insert(
            active.kid.clone(),
            PublishedKey::new(active.signing.verifying_key())?,
        );
        Ok(Self {
            active,
            published: RwLock::new(published),
        })
    }

    pub fn active(&self) -> &PlatformKey {
        &self.active
    }

    /// Replaces the published set; keys that are not given (revoked ones) stop verifying.
    pub fn publish(&self, keys: &[VerifyingKey]) -> anyhow::Result<()> {
        let mut next = BTreeMap::new();
        for key in keys {
            let published = PublishedKey::new(*key)?;
            next.insert(published.jwk.kid.clone(), published);
        }
        if !next.contains_key(&self.active.kid) {
            tracing::error!(kid = %self.active.kid, "this instance's signing key is no longer published (revoked?): restart it with the current key");
        }
        match self.published.write() {
            Ok(mut guard) => *guard = next,
            Err(poisoned) => *poisoned.into_inner() = next,
        }
        Ok(())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, PublishedKey>> {
        // A panic while holding the lock cannot leave the map half-written (it is swapped
        // whole), so a poisoned lock is still safe to read.
        self.published.read().unwrap_or_else(|p| p.into_inner())
    }

    pub fn decoding_key(&self, kid: &str) -> Option<DecodingKey> {
        self.read().get(kid).map(|k| k.decoding.clone())
    }

    pub fn is_published(&self, kid: &str) -> bool {
        self.read().contains_key(kid)
    }

    pub fn verifying_key(&self, kid: &str) -> Option<VerifyingKey> {
        self.read().get(kid).map(|k| k.verifying)
    }

    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: self.read().values().map(|k| k.jwk.clone()).collect(),
        }
    }

    /// The published keys, by kid.
    pub fn published(&self) -> Vec<(String, VerifyingKey)> {
        self.read()
            .iter()
            .map(|(kid, k)| (kid.clone(), k.verifying))
            .collect()
    }
}

fn platform_key(signing: SigningKey) -> anyhow::Result<PlatformKey> {
    Ok(PlatformKey {
        kid: kid_of(&signing.verifying_key()),
        signing,
    })
}

/// The RFC 7638 thumbprint: stable for a key, different for every other key.
pub fn kid_of(key: &VerifyingKey) -> String {
    let x = URL_SAFE_NO_PAD.encode(key.as_bytes());
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

pub fn jwk_of(key: &VerifyingKey) -> Jwk {
    Jwk {
        kty: "OKP".into(),
        crv: "Ed25519".into(),
        x: URL_SAFE_NO_PAD.encode(key.as_bytes()),
        kid: kid_of(key),
        alg: "EdDSA".into(),
        key_use: "sig".into(),
    }
}

/// Loads the platform key, generating it first where the settings allow.
pub fn load_platform_key(settings: &Settings) -> anyhow::Result<SigningKey> {
    let path = &settings.key_file;
    if !path.exists() && settings.generate_missing_secrets {
        let key = SigningKey::generate(&mut OsRng);
        write_secret_file(path, pkcs8_v1_pem(&key)?.as_bytes())?;
        tracing::warn!(path = %path.display(), kid = %kid_of(&key.verifying_key()), "generated a new platform signing key");
        return Ok(key);
    }
    read_platform_key(path)
}

pub fn read_platform_key(path: &Path) -> anyhow::Result<SigningKey> {
    let pem = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("CERTVERIFY_KEY_FILE: cannot read {}: {e}", path.display()))?;
    SigningKey::from_pkcs8_pem(&pem).map_err(|e| {
        anyhow::anyhow!(
            "CERTVERIFY_KEY_FILE: {} is not an Ed25519 PKCS#8 PEM key: {e}",
            path.display()
        )
    })
}

/// Writes a new key file; refuses to overwrite one unless forced.
pub fn generate_key_file(path: &Path, force: bool) -> anyhow::Result<SigningKey> {
    if path.exists() && !force {
        anyhow::bail!("{} exists; pass --force to replace it", path.display());
    }
    let key = SigningKey::generate(&mut OsRng);
    write_secret_file(path, pkcs8_v1_pem(&key)?.as_bytes())?;
    Ok(key)
}

/// The key as a PKCS#8 v1 PEM (RFC 8410 §7: the private key alone, as
/// `openssl genpkey -algorithm ed25519` writes it). ed25519-dalek's own encoding is v2,
/// with the public key appended, which OpenSSL 3 and Python's `cryptography` refuse;
/// operators back up, inspect and convert key files with those tools. Reading accepts
/// both forms.
pub fn pkcs8_v1_pem(
    key: &SigningKey,
) -> anyhow::Result<ed25519_dalek::pkcs8::spki::der::zeroize::Zeroizing<String>> {
    let v1 = ed25519_dalek::pkcs8::KeypairBytes {
        secret_key: key.to_bytes(),
        public_key: None,
    };
    Ok(v1.to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)?)
}

/// Loads the PII key from the settings, or from (or into) the development key file.
pub fn load_pii_key(settings: &Settings) -> anyhow::Result<PiiKey> {
    if let Some(secret) = &settings.pii_key {
        let bytes = config::validate_pii_key(&secret.0)
            .map_err(|m| anyhow::anyhow!("CERTVERIFY_PII_KEY: {m}"))?;
        return Ok(PiiKey::new(bytes));
    }
    let path = settings
        .key_file
        .parent()
        .map(|dir| {
            dir.join(
                Path::new(config::DEFAULT_PII_KEY_FILE)
                    .file_name()
                    .unwrap_or_default(),
            )
        })
        .unwrap_or_else(|| config::DEFAULT_PII_KEY_FILE.into());
    if !path.exists() {
        if !settings.generate_missing_secrets {
            anyhow::bail!(
                "CERTVERIFY_PII_KEY: not set, and {} does not exist",
                path.display()
            );
        }
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        write_secret_file(&path, hex::encode(bytes).as_bytes())?;
        tracing::warn!(path = %path.display(), "generated a new PII hashing key");
    }
    let text = std::fs::read_to_string(&path)?;
    let bytes =
        config::validate_pii_key(&text).map_err(|m| anyhow::anyhow!("{}: {m}", path.display()))?;
    Ok(PiiKey::new(bytes))
}

fn write_secret_file(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    file.write_all(contents)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kid_is_the_rfc7638_thumbprint() {
        // RFC 8037 appendix A.3: the thumbprint of its example Ed25519 key.
        let x = URL_SAFE_NO_PAD
            .decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
            .unwrap();
        let key = VerifyingKey::from_bytes(&x.try_into().unwrap()).unwrap();
        assert_eq!(kid_of(&key), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    }

    #[test]
    fn a_generated_key_file_is_private_and_reloads_to_the_same_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        let key = generate_key_file(&path, false).unwrap();
        assert_eq!(read_platform_key(&path).unwrap().to_bytes(), key.to_bytes());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        assert!(
            generate_key_file(&path, false).is_err(),
            "an existing key is never overwritten silently"
        );
    }

    /// What `openssl genpkey -algorithm ed25519` writes: version 0, the algorithm, and the
    /// 32-byte key in an OCTET STRING, 48 bytes in all.
    #[test]
    fn a_generated_key_file_is_pkcs8_v1_as_openssl_writes_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        let key = generate_key_file(&path, false).unwrap();
        let pem = std::fs::read_to_string(&path).unwrap();
        let der = pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<String>();
        let der = base64::engine::general_purpose::STANDARD
            .decode(der)
            .unwrap();
        let mut expected = hex::decode("302e020100300506032b657004220420").unwrap();
        expected.extend_from_slice(&key.to_bytes());
        assert_eq!(der, expected);
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    }

    /// Files written before keys were v1 (ed25519-dalek's v2, with the public key) load.
    #[test]
    fn a_pkcs8_v2_key_file_still_loads() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/vectors/platform-key-pkcs8-v2.pem");
        let pem = std::fs::read_to_string(&path).unwrap();
        assert!(pem.len() > 150, "a v2 document carries the public key too");
        let key = read_platform_key(&path).unwrap();
        let v2 = SigningKey::from_pkcs8_pem(&pem).unwrap();
        assert_eq!(key.to_bytes(), v2.to_bytes());
        assert_eq!(
            SigningKey::from_pkcs8_pem(&pkcs8_v1_pem(&key).unwrap())
                .unwrap()
                .to_bytes(),
            key.to_bytes()
        );
    }

    #[test]
    fn the_jwks_publishes_the_active_key() {
        let ring = KeyRing::new(SigningKey::generate(&mut OsRng)).unwrap();
        let jwks = ring.jwks();
        assert_eq!(jwks.keys.len(), 1);
        assert_eq!(jwks.keys[0].kid, ring.active().kid);
        assert!(ring.decoding_key(&ring.active().kid).is_some());
        assert!(ring.decoding_key("other").is_none());
    }

    #[test]
    fn publishing_a_set_drops_the_keys_it_leaves_out() {
        let ring = KeyRing::new(SigningKey::generate(&mut OsRng)).unwrap();
        let old = SigningKey::generate(&mut OsRng).verifying_key();
        let own = ring.active().signing.verifying_key();
        ring.publish(&[own, old]).unwrap();
        assert!(ring.verifying_key(&kid_of(&old)).is_some());
        assert_eq!(ring.jwks().keys.len(), 2);
        ring.publish(&[own]).unwrap();
        assert!(ring.verifying_key(&kid_of(&old)).is_none());
        assert!(ring.decoding_key(&kid_of(&old)).is_none());
    }
}
