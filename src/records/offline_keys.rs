//! The keys an offline verifier trusts, from the platform's JWKS or its DID document.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::VerifyingKey;
use serde_json::Value;

use super::multikey;

/// Keys by what a proof names them with.
#[derive(Debug, Clone)]
pub enum KeySet {
    /// `kid` → key: a verification method matches on its fragment, which is the kid.
    Jwks(Vec<(String, VerifyingKey)>),
    /// Verification method id → key, for the methods listed under assertionMethod only.
    Did(Vec<(String, VerifyingKey)>),
}

impl KeySet {
    /// Reads `{"keys": [...]}`; keys that are not Ed25519 are skipped, since nothing the
    /// platform signs uses them.
    pub fn from_jwks(jwks: &Value) -> Result<Self, String> {
        let keys = jwks
            .get("keys")
            .and_then(Value::as_array)
            .ok_or("a JWKS needs a \"keys\" array")?;
        let mut found = Vec::new();
        for jwk in keys {
            let field = |name: &str| jwk.get(name).and_then(Value::as_str);
            if field("kty") != Some("OKP") || field("crv") != Some("Ed25519") {
                continue;
            }
            let (Some(kid), Some(x)) = (field("kid"), field("x")) else {
                return Err("an Ed25519 JWK needs kid and x".into());
            };
            let bytes = URL_SAFE_NO_PAD
                .decode(x)
                .map_err(|_| format!("JWK {kid}: x is not base64url"))?;
            let bytes: [u8; 32] = bytes
                .try_into()
                .map_err(|_| format!("JWK {kid}: x is not 32 bytes"))?;
            let key = VerifyingKey::from_bytes(&bytes)
                .map_err(|_| format!("JWK {kid}: not an Ed25519 public key"))?;
            found.push((kid.to_owned(), key));
        }
        Ok(Self::Jwks(found))
    }

    /// Reads a DID document: its Multikey verification methods that are also listed
    /// under assertionMethod (by reference or embedded). Relative ids (`#kid`) are
    /// resolved against the document's id.
    pub fn from_did_document(doc: &Value) -> Result<Self, String> {
        let did = doc
            .get("id")
            .and_then(Value::as_str)
            .ok_or("a DID document needs an id")?;
        let absolute = |id: &str| {
            if id.starts_with('#') {
                format!("{did}{id}")
            } else {
                id.to_owned()
            }
        };
        let methods = doc
            .get("verificationMethod")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut found = Vec::new();
        let empty = Vec::new();
        let assertion = doc
            .get("assertionMethod")
            .and_then(Value::as_array)
            .unwrap_or(&empty);
        for entry in assertion {
            let method = match entry {
                Value::String(reference) => {
                    let wanted = absolute(reference);
                    methods
                        .iter()
                        .find(|m| {
                            m.get("id").and_then(Value::as_str).map(absolute)
                                == Some(wanted.clone())
                        })
                        .cloned()
                        .ok_or_else(|| {
                            format!(
                                "assertionMethod {reference} is not among the verification methods"
                            )
                        })?
                }
                embedded @ Value::Object(_) => embedded.clone(),
                _ => return Err("assertionMethod entries are ids or objects".into()),
            };
            let id = method
                .get("id")
                .and_then(Value::as_str)
                .ok_or("a verification method needs an id")?;
            if method.get("type").and_then(Value::as_str) != Some("Multikey") {
                continue;
            }
            let multibase = method
                .get("publicKeyMultibase")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("{id}: no publicKeyMultibase"))?;
            let key = multikey::decode_public_key(multibase).map_err(|e| format!("{id}: {e}"))?;
            found.push((absolute(id), key));
        }
        Ok(Self::Did(found))
    }

    pub fn resolve(&self, method: &str) -> Option<VerifyingKey> {
        match self {
            Self::Jwks(keys) => {
                let (_, fragment) = method.split_once('#')?;
                keys.iter()
                    .find(|(kid, _)| kid == fragment)
                    .map(|(_, k)| *k)
            }
            Self::Did(keys) => keys.iter().find(|(id, _)| id == method).map(|(_, k)| *k),
        }
    }

    pub fn is_empty(&self) -> bool {
        match self {
            Self::Jwks(keys) | Self::Did(keys) => keys.is_empty(),
        }
    }
}

/// The did.json URL of a did:web identifier (W3C did:web method): `did:web:host%3Aport`
/// → `https://host:port/.well-known/did.json`; further segments are a path.
pub fn did_web_url(did: &str) -> Option<String> {
    let rest = did.strip_prefix("did:web:")?;
    let mut segments = rest.split(':');
    let host = segments
        .next()
        .filter(|h| !h.is_empty())?
        .replace("%3A", ":")
        .replace("%3a", ":");
    let path: Vec<&str> = segments.collect();
    Some(if path.is_empty() {
        format!("https://{host}/.well-known/did.json")
    } else {
        format!("https://{host}/{}/did.json", path.join("/"))
    })
}
