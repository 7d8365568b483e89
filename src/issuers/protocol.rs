//! The issuing-body protocol's messages (DESIGN.md, "Issuing-body protocol"): compact JWS,
//! EdDSA, a `typ` of their own, `iss`/`aud`/`iat`/`exp`/`jti`, and at most five minutes of life.
//! Both the platform and the simulator build and check messages with this module; it does
//! no IO, so key look-up is the caller's.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::{SigningKey, VerifyingKey};
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub const REQUEST_TYP: &str = "certverify-request+jwt";
pub const ANSWER_TYP: &str = "certverify-answer+jwt";
/// The longest a message may live (`exp - iat`).
pub const MAX_LIFETIME_SECS: i64 = 300;
/// Clock skew tolerated between the platform and a body.
pub const LEEWAY_SECS: i64 = 30;

/// Platform → issuing body: "is this certificate yours, and is it as the holder says?"
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerificationRequest {
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub request_id: String,
    pub qualification_code: String,
    pub certificate_number: String,
    /// The name on the certificate as the holder typed it.
    pub holder_name: String,
    pub holder_date_of_birth: String,
    pub issued_on: String,
    pub callback_url: String,
}

pub use crate::domain::outcome::Outcome;

/// The certificate as the issuing body knows it; a record's name and dates come from here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CertificateFacts {
    pub certificate_number: String,
    pub qualification_code: String,
    pub holder_name: String,
    pub issued_on: String,
    pub expires_on: Option<String>,
    pub status: String,
}

/// Issuing body → platform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AnswerBody {
    VerificationResult {
        request_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        in_reply_to: Option<String>,
        outcome: Outcome,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        certificate: Option<CertificateFacts>,
    },
    CertificateRevoked {
        certificate_number: String,
        qualification_code: String,
        revoked_on: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    #[serde(flatten)]
    pub body: AnswerBody,
}

/// Why a message was refused. `status()` is the callback endpoint's answer for it.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum ProtocolError {
    #[error("not a compact JWS with the expected claims: {0}")]
    Malformed(String),
    #[error("the message must be signed with EdDSA")]
    WrongAlgorithm,
    #[error("typ must be {expected}")]
    WrongType { expected: &'static str },
    #[error("no active key {kid} for {iss}")]
    UnknownKey { iss: String, kid: String },
    #[error("the signature does not verify")]
    BadSignature,
    #[error("the message is addressed to {0}, not to this platform")]
    WrongAudience(String),
    #[error("the message has expired")]
    Expired,
    #[error("the message lives longer than {MAX_LIFETIME_SECS} seconds or is dated in the future")]
    BadLifetime,
}

impl ProtocolError {
    pub fn status(&self) -> u16 {
        match self {
            Self::Malformed(_) => 400,
            _ => 401,
        }
    }
}

/// Signs claims as a protocol message of the given typ.
pub fn sign<T: Serialize>(
    claims: &T,
    typ: &str,
    kid: &str,
    key: &SigningKey,
) -> Result<String, ProtocolError> {
    let mut header = Header::new(Algorithm::EdDSA);
    header.typ = Some(typ.to_owned());
    header.kid = Some(kid.to_owned());
    crate::auth::jws::sign(&header, claims, key)
        .map_err(|e| ProtocolError::Malformed(e.to_string()))
}

/// What a verifier needs to know before checking the signature: who says they sent it,
/// and with which key.
#[derive(Debug, Clone, PartialEq)]
pub struct Sender {
    pub iss: String,
    pub kid: String,
}

/// Reads the sender of a message without trusting anything in it yet.
pub fn sender(token: &str, typ: &'static str) -> Result<Sender, ProtocolError> {
    let header =
        jsonwebtoken::decode_header(token).map_err(|e| ProtocolError::Malformed(e.to_string()))?;
    if header.alg != Algorithm::EdDSA {
        return Err(ProtocolError::WrongAlgorithm);
    }
    if header.typ.as_deref() != Some(typ) {
        return Err(ProtocolError::WrongType { expected: typ });
    }
    let kid = header
        .kid
        .ok_or_else(|| ProtocolError::Malformed("the header has no kid".into()))?;
    #[derive(Deserialize)]
    struct Iss {
        iss: String,
    }
    let claims: Iss = jsonwebtoken::dangerous::insecure_decode_claims(token)
        .map_err(|e| ProtocolError::Malformed(e.to_string()))?;
    Ok(Sender {
        iss: claims.iss,
        kid,
    })
}

/// Verifies a message signed by `key`, addressed to `audience`, of the given typ, and
/// living at most five minutes; returns its claims.
pub fn verify<T: DeserializeOwned + Lifetime>(
    token: &str,
    typ: &'static str,
    key: &VerifyingKey,
    audience: Option<&str>,
    now: i64,
) -> Result<T, ProtocolError> {
    sender(token, typ)?;
    let decoding = DecodingKey::from_ed_components(&URL_SAFE_NO_PAD.encode(key.as_bytes()))
        .map_err(|e| ProtocolError::Malformed(e.to_string()))?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "jti"]);
    validation.validate_exp = false;
    match audience {
        Some(aud) => validation.set_audience(&[aud]),
        None => validation.validate_aud = false,
    }
    let claims: T = jsonwebtoken::decode(token, &decoding, &validation)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => ProtocolError::BadSignature,
            jsonwebtoken::errors::ErrorKind::InvalidAudience => {
                ProtocolError::WrongAudience(String::new())
            }
            other => ProtocolError::Malformed(format!("{other:?}")),
        })?
        .claims;
    let (iat, exp) = claims.lifetime();
    if exp < now - LEEWAY_SECS {
        return Err(ProtocolError::Expired);
    }
    if exp - iat > MAX_LIFETIME_SECS || exp < iat || iat > now + LEEWAY_SECS {
        return Err(ProtocolError::BadLifetime);
    }
    Ok(claims)
}

/// The `iat` and `exp` of a message.
pub trait Lifetime {
    fn lifetime(&self) -> (i64, i64);
}

impl Lifetime for VerificationRequest {
    fn lifetime(&self) -> (i64, i64) {
        (self.iat, self.exp)
    }
}

impl Lifetime for Answer {
    fn lifetime(&self) -> (i64, i64) {
        (self.iat, self.exp)
    }
}

/// A fresh message id.
pub fn new_jti() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
#[path = "protocol_tests.rs"]
mod tests;
