//! Offline verification of a record, as `certverify verify-record` does it: the input read
//! as a Data Integrity credential, a VC-JOSE compact JWS or a `GET /v1/records/{id}` body;
//! keys from a JWKS or a DID document; status from Bitstring Status Lists. No IO: the
//! caller fetches documents through the closure it passes.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::Value;

use super::offline_keys::KeySet;
use super::proof;

pub const RECORD_TYPE: &str = "QualificationVerificationCredential";
pub const STATUS_LIST_TYPE: &str = "BitstringStatusListCredential";
/// The VC-JOSE media type of a credential, checked in the JWS header.
pub const VC_JWT_TYP: &str = "vc+jwt";
const PURPOSE: &str = "assertionMethod";

/// Why verification stopped: the thing is not a valid record (exit 1), or the input could
/// not be used at all (exit 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Unusable(String),
}

fn invalid(message: impl Into<String>) -> Failure {
    Failure::Invalid(message.into())
}

fn unusable(message: impl Into<String>) -> Failure {
    Failure::Unusable(message.into())
}

/// A signed credential in one of its two forms.
#[derive(Debug, Clone)]
pub enum Signed {
    /// JSON with an embedded eddsa-jcs-2022 proof.
    DataIntegrity(Value),
    /// A compact JWS whose payload is the credential.
    Jwt {
        header: Value,
        payload: Value,
        signing_input: String,
        signature: Vec<u8>,
    },
}

impl Signed {
    pub fn credential(&self) -> &Value {
        match self {
            Self::DataIntegrity(value) => value,
            Self::Jwt { payload, .. } => payload,
        }
    }
}

/// Reads a credential, a compact JWS, or a record view (`{id, status, status_reason,
/// credential}`, whose `credential` is taken).
pub fn parse(text: &str) -> Result<Signed, Failure> {
    let text = text.trim();
    if text.starts_with('{') {
        let value: Value =
            serde_json::from_str(text).map_err(|e| unusable(format!("not valid JSON: {e}")))?;
        let wrapped = value.get("proof").is_none() && value.get("@context").is_none();
        return match value.get("credential") {
            Some(Value::String(jwt)) if wrapped => parse_jwt(jwt),
            Some(credential @ Value::Object(_)) if wrapped => {
                Ok(Signed::DataIntegrity(credential.clone()))
            }
            _ => Ok(Signed::DataIntegrity(value)),
        };
    }
    parse_jwt(text)
}

fn parse_jwt(text: &str) -> Result<Signed, Failure> {
    let not_jwt = || unusable("neither JSON nor a compact JWS (header.payload.signature)");
    let mut parts = text.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(not_jwt());
    };
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part.trim_end_matches('='));
    let json = |part: &str| -> Result<Value, Failure> {
        let bytes = decode(part).map_err(|_| not_jwt())?;
        serde_json::from_slice(&bytes).map_err(|_| not_jwt())
    };
    Ok(Signed::Jwt {
        header: json(h)?,
        payload: json(p)?,
        signing_input: format!("{h}.{p}"),
        signature: decode(s).map_err(|_| not_jwt())?,
    })
}

/// What a valid record says about itself, for the summary line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub id: String,
    pub issuer: String,
    pub verification_method: String,
    pub valid_until: String,
}

/// Checks the signature with `keys`, that the key is the issuer's, that the thing is a
/// record (not a status list or a token), and that `now` is within its validity.
pub fn verify_record(
    signed: &Signed,
    keys: &KeySet,
    now: DateTime<Utc>,
) -> Result<Verified, Failure> {
    let method = verify_signature(signed, keys, VC_JWT_TYP)?;
    let credential = signed.credential();
    require_type(credential, RECORD_TYPE)?;
    let until = check_validity(credential, now)?;
    Ok(Verified {
        id: text(credential, "id").unwrap_or_default().to_owned(),
        issuer: issuer_of(credential).unwrap_or_default().to_owned(),
        verification_method: method,
        valid_until: until.unwrap_or_default(),
    })
}

/// Verifies either form's signature; returns the verification method used.
pub fn verify_signature(signed: &Signed, keys: &KeySet, typ: &str) -> Result<String, Failure> {
    let resolve = |method: &str| keys.resolve(method);
    match signed {
        Signed::DataIntegrity(document) => {
            proof::verify(document, PURPOSE, resolve).map_err(|e| invalid(e.to_string()))?;
            Ok(text(&document["proof"], "verificationMethod")
                .unwrap_or_default()
                .to_owned())
        }
        Signed::Jwt {
            header,
            payload,
            signing_input,
            signature,
        } => {
            let field = |name: &str| header.get(name).and_then(Value::as_str);
            if field("alg") != Some("EdDSA") {
                return Err(invalid(format!(
                    "JWS alg is {:?}, expected EdDSA",
                    field("alg")
                )));
            }
            if field("typ") != Some(typ) {
                return Err(invalid(format!(
                    "JWS typ is {:?}, expected {typ:?}: a signed thing of another kind",
                    field("typ")
                )));
            }
            if field("cty").is_some_and(|cty| cty != "vc") {
                return Err(invalid("JWS cty must be \"vc\""));
            }
            let kid = field("kid").ok_or_else(|| invalid("the JWS header has no kid"))?;
            let issuer =
                issuer_of(payload).ok_or_else(|| invalid("the credential has no issuer"))?;
            // The kid is the verification method id; a bare thumbprint is read as the issuer's.
            let method = if kid.contains('#') {
                kid.to_owned()
            } else {
                format!("{issuer}#{kid}")
            };
            if method.split_once('#').map(|(controller, _)| controller) != Some(issuer) {
                return Err(invalid(format!(
                    "verification method {method:?} is not controlled by the issuer {issuer:?}"
                )));
            }
            let key = keys.resolve(&method).ok_or_else(|| {
                invalid(format!(
                    "no key is known for verification method {method:?}"
                ))
            })?;
            check_jws(&key, signing_input, signature)?;
            Ok(method)
        }
    }
}

fn check_jws(key: &VerifyingKey, signing_input: &str, signature: &[u8]) -> Result<(), Failure> {
    let signature = Signature::from_slice(signature)
        .map_err(|_| invalid("the JWS signature is not an Ed25519 signature"))?;
    key.verify_strict(signing_input.as_bytes(), &signature)
        .map_err(|_| invalid("the JWS signature does not match the credential with this key"))
}

fn text<'a>(value: &'a Value, name: &str) -> Option<&'a str> {
    value.get(name).and_then(Value::as_str)
}

pub fn issuer_of(credential: &Value) -> Option<&str> {
    match credential.get("issuer") {
        Some(Value::String(id)) => Some(id),
        Some(Value::Object(o)) => o.get("id").and_then(Value::as_str),
        _ => None,
    }
}

fn types(credential: &Value) -> Vec<&str> {
    match credential.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

pub fn require_type(credential: &Value, wanted: &str) -> Result<(), Failure> {
    let found = types(credential);
    if found.contains(&wanted) {
        return Ok(());
    }
    Err(invalid(format!(
        "the credential is of type [{}], not a {wanted}",
        found.join(", ")
    )))
}

/// validFrom ≤ now < validUntil; returns validUntil as written.
pub fn check_validity(credential: &Value, now: DateTime<Utc>) -> Result<Option<String>, Failure> {
    let at = |name: &str| -> Result<Option<DateTime<Utc>>, Failure> {
        match text(credential, name) {
            None => Ok(None),
            Some(t) => DateTime::parse_from_rfc3339(t)
                .map(|d| Some(d.with_timezone(&Utc)))
                .map_err(|_| invalid(format!("{name} {t:?} is not a date-time"))),
        }
    };
    if let Some(from) = at("validFrom")? {
        if now < from {
            return Err(invalid(format!("not valid before {from}")));
        }
    }
    if let Some(until) = at("validUntil")? {
        if now >= until {
            return Err(invalid(format!("expired: valid until {until}")));
        }
    }
    Ok(text(credential, "validUntil").map(str::to_owned))
}

#[cfg(test)]
#[path = "offline_tests.rs"]
mod tests;
