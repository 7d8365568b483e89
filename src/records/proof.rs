//! The Data Integrity cryptosuite eddsa-jcs-2022 (W3C vc-di-eddsa): the document and the proof
//! configuration are each canonicalized with JCS (RFC 8785) and hashed with SHA-256, and
//! Ed25519 signs the two hashes side by side. No IO: keys come in through the caller.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey, SIGNATURE_LENGTH};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::multikey::{self, MultikeyError};

pub const PROOF_TYPE: &str = "DataIntegrityProof";
pub const CRYPTOSUITE: &str = "eddsa-jcs-2022";

type Object = Map<String, Value>;

/// What the signer chooses; everything else in the proof is fixed by the cryptosuite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofOptions {
    /// `<controller>#<fragment>`; [`verify`] requires the controller to be the issuer.
    pub verification_method: String,
    /// An XML Schema dateTimeStamp, e.g. "2023-02-24T23:36:38Z".
    pub created: String,
    /// "assertionMethod" for credentials.
    pub proof_purpose: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("the document is not a JSON object")]
    NotAnObject,
    #[error("the document already has a proof; proof sets are not supported")]
    AlreadySigned,
    #[error("the document has no proof")]
    MissingProof,
    #[error("the proof is not a single JSON object; proof sets are not supported")]
    MalformedProof,
    #[error("proof.{0} is missing or not a string")]
    MissingField(&'static str),
    #[error("proof type is {0:?}, expected \"DataIntegrityProof\"")]
    WrongProofType(String),
    #[error("cryptosuite is {0:?}, expected \"eddsa-jcs-2022\"")]
    WrongCryptosuite(String),
    #[error("proof purpose is {found:?}, expected {expected:?}")]
    WrongProofPurpose { expected: String, found: String },
    #[error("created {0} is not an XML Schema dateTimeStamp (e.g. 2023-02-24T23:36:38Z)")]
    InvalidCreated(String),
    #[error("the document's @context does not start with the proof's @context, in order")]
    ContextMismatch,
    #[error("the document has no issuer (a string, or an object with an id)")]
    MissingIssuer,
    #[error("issuer {0:?} is not an identifier that can control keys")]
    InvalidIssuer(String),
    #[error("verification method {method:?} is not controlled by the issuer {issuer:?}")]
    ForeignVerificationMethod { method: String, issuer: String },
    #[error("no key is known for verification method {0:?}")]
    UnknownKey(String),
    #[error("proofValue is not multibase base58btc: {0}")]
    ProofValueEncoding(MultikeyError),
    #[error("proofValue holds {0} bytes; an Ed25519 signature has 64")]
    WrongSignatureLength(usize),
    #[error("the signature does not match the document and the proof with this key")]
    BadSignature,
    #[error("JCS canonicalization failed: {0}")]
    Canonicalization(String),
}

/// JCS (RFC 8785) of any JSON value.
pub fn canonical_json(value: &Value) -> Result<String, ProofError> {
    serde_json_canonicalizer::to_string(value)
        .map_err(|e| ProofError::Canonicalization(e.to_string()))
}

/// The JCS form of the document without its `proof`: what the document hash covers.
pub fn canonical_document(doc: &Value) -> Result<String, ProofError> {
    let mut unsecured = as_object(doc)?.clone();
    unsecured.remove("proof");
    canonical_json(&Value::Object(unsecured))
}

/// The proof as it is hashed: the proof without `proofValue`, with the document's @context.
pub fn proof_config(document: &Value, options: &ProofOptions) -> Result<Value, ProofError> {
    proof_config_object(as_object(document)?, options).map(Value::Object)
}

fn proof_config_object(document: &Object, options: &ProofOptions) -> Result<Object, ProofError> {
    let mut config = Object::new();
    config.insert("type".into(), PROOF_TYPE.into());
    config.insert("cryptosuite".into(), CRYPTOSUITE.into());
    config.insert("created".into(), options.created.as_str().into());
    config.insert(
        "verificationMethod".into(),
        options.verification_method.as_str().into(),
    );
    config.insert("proofPurpose".into(), options.proof_purpose.as_str().into());
    configure(config, document.get("@context"))
}

/// SHA-256(proof config JCS) ‖ SHA-256(document JCS): the 64 bytes Ed25519 signs.
pub fn combined_hash(proof_config_jcs: &str, document_jcs: &str) -> [u8; 64] {
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(&Sha256::digest(proof_config_jcs.as_bytes()));
    out[32..].copy_from_slice(&Sha256::digest(document_jcs.as_bytes()));
    out
}

/// Returns the document with its `proof`; the proof keeps its @context, as the W3C vector does.
pub fn sign(
    document: &Value,
    options: &ProofOptions,
    key: &SigningKey,
) -> Result<Value, ProofError> {
    let mut secured = as_object(document)?.clone();
    if secured.contains_key("proof") {
        return Err(ProofError::AlreadySigned);
    }
    let mut proof = proof_config_object(&secured, options)?;
    let config_jcs = canonical_json(&Value::Object(proof.clone()))?;
    let hash = combined_hash(&config_jcs, &canonical_document(document)?);
    let signature = key.sign(&hash);
    proof.insert(
        "proofValue".into(),
        multikey::encode_base58btc(&signature.to_bytes()).into(),
    );
    secured.insert("proof".into(), Value::Object(proof));
    Ok(Value::Object(secured))
}

/// Verifies the proof and that its key belongs to the document's issuer: what a record must
/// pass. `resolve_key` maps a verification method URL to a key the caller trusts for it.
pub fn verify(
    secured: &Value,
    expected_purpose: &str,
    resolve_key: impl Fn(&str) -> Option<VerifyingKey>,
) -> Result<(), ProofError> {
    let parsed = parse(secured, expected_purpose)?;
    check_controller(parsed.document, parsed.method)?;
    check_signature(&parsed, resolve_key)
}

/// The cryptosuite's own verification algorithm, without tying the key to the issuer. Only
/// for documents whose signer is established some other way (the W3C vector is signed by a
/// did:key that is not its issuer); records go through [`verify`].
pub fn verify_proof(
    secured: &Value,
    expected_purpose: &str,
    resolve_key: impl Fn(&str) -> Option<VerifyingKey>,
) -> Result<(), ProofError> {
    check_signature(&parse(secured, expected_purpose)?, resolve_key)
}

struct Parsed<'a> {
    document: &'a Object,
    method: &'a str,
    /// The proof without proofValue.
    options: Object,
    signature: Signature,
}

fn parse<'a>(secured: &'a Value, expected_purpose: &str) -> Result<Parsed<'a>, ProofError> {
    let document = as_object(secured)?;
    let proof = match document.get("proof") {
        None => return Err(ProofError::MissingProof),
        Some(Value::Object(proof)) => proof,
        Some(_) => return Err(ProofError::MalformedProof),
    };
    let field = |name: &'static str| {
        proof
            .get(name)
            .and_then(Value::as_str)
            .ok_or(ProofError::MissingField(name))
    };
    let kind = field("type")?;
    if kind != PROOF_TYPE {
        return Err(ProofError::WrongProofType(kind.to_owned()));
    }
    let suite = field("cryptosuite")?;
    if suite != CRYPTOSUITE {
        return Err(ProofError::WrongCryptosuite(suite.to_owned()));
    }
    let purpose = field("proofPurpose")?;
    if purpose != expected_purpose {
        return Err(ProofError::WrongProofPurpose {
            expected: expected_purpose.to_owned(),
            found: purpose.to_owned(),
        });
    }
    let method = field("verificationMethod")?;
    let bytes =
        multikey::decode_base58btc(field("proofValue")?).map_err(ProofError::ProofValueEncoding)?;
    let bytes = <[u8; SIGNATURE_LENGTH]>::try_from(bytes.as_slice())
        .map_err(|_| ProofError::WrongSignatureLength(bytes.len()))?;
    let mut options = proof.clone();
    options.remove("proofValue");
    Ok(Parsed {
        document,
        method,
        options,
        signature: Signature::from_bytes(&bytes),
    })
}

fn check_signature(
    parsed: &Parsed<'_>,
    resolve_key: impl Fn(&str) -> Option<VerifyingKey>,
) -> Result<(), ProofError> {
    let unsecured = unsecured_document(parsed.document, &parsed.options)?;
    let key = resolve_key(parsed.method)
        .ok_or_else(|| ProofError::UnknownKey(parsed.method.to_owned()))?;
    let config = configure(parsed.options.clone(), unsecured.get("@context"))?;
    let hash = combined_hash(
        &canonical_json(&Value::Object(config))?,
        &canonical_json(&Value::Object(unsecured))?,
    );
    // Strict: refuses small-order keys and non-canonical signatures, so that one signature
    // cannot be reshaped into another that also verifies.
    key.verify_strict(&hash, &parsed.signature)
        .map_err(|_| ProofError::BadSignature)
}

/// The document as the spec hashes it on verification: without its proof and, when the proof
/// names an @context, under that @context. Contexts appended after signing therefore pass (the
/// spec allows them; JSON-LD's @protected terms keep them from redefining signed terms), but
/// any change to the signed ones, or to their order, fails here.
fn unsecured_document(document: &Object, options: &Object) -> Result<Object, ProofError> {
    let mut unsecured = document.clone();
    unsecured.remove("proof");
    if let Some(proof_context) = options.get("@context") {
        let document_context = document
            .get("@context")
            .ok_or(ProofError::ContextMismatch)?;
        if !context_items(document_context).starts_with(context_items(proof_context)) {
            return Err(ProofError::ContextMismatch);
        }
        unsecured.insert("@context".into(), proof_context.clone());
    }
    Ok(unsecured)
}

/// A lone @context value is the one-element list of it.
fn context_items(context: &Value) -> &[Value] {
    match context {
        Value::Array(items) => items,
        single => std::slice::from_ref(single),
    }
}

/// "Proof Configuration" of the spec, shared by signing and verification so that both hash a
/// proof built by the same rules.
fn configure(mut config: Object, document_context: Option<&Value>) -> Result<Object, ProofError> {
    match config.get("type") {
        Some(Value::String(kind)) if kind == PROOF_TYPE => {}
        other => return Err(ProofError::WrongProofType(describe(other))),
    }
    match config.get("cryptosuite") {
        Some(Value::String(suite)) if suite == CRYPTOSUITE => {}
        other => return Err(ProofError::WrongCryptosuite(describe(other))),
    }
    match config.get("created") {
        None => {}
        Some(Value::String(created)) if is_date_time_stamp(created) => {}
        Some(other) => return Err(ProofError::InvalidCreated(other.to_string())),
    }
    if let Some(context) = document_context {
        config.insert("@context".into(), context.clone());
    }
    Ok(config)
}

/// RFC 3339 parsers also take a space or a lower-case 't'/'z', which dateTimeStamp does not.
fn is_date_time_stamp(value: &str) -> bool {
    value.as_bytes().get(10) == Some(&b'T')
        && !value.ends_with('z')
        && chrono::DateTime::parse_from_rfc3339(value).is_ok()
}

/// The issuer controls `<issuer>#<fragment>` and nothing else: a mere prefix match would let
/// `did:web:a.example.evil#k` pass for the issuer `did:web:a.example`.
fn check_controller(document: &Object, method: &str) -> Result<(), ProofError> {
    let issuer = match document.get("issuer") {
        Some(Value::String(id)) => id.as_str(),
        Some(Value::Object(issuer)) => issuer
            .get("id")
            .and_then(Value::as_str)
            .ok_or(ProofError::MissingIssuer)?,
        _ => return Err(ProofError::MissingIssuer),
    };
    if issuer.is_empty() || issuer.contains('#') {
        return Err(ProofError::InvalidIssuer(issuer.to_owned()));
    }
    let controlled = method
        .strip_prefix(issuer)
        .and_then(|rest| rest.strip_prefix('#'))
        .is_some_and(|fragment| !fragment.is_empty() && !fragment.contains('#'));
    if controlled {
        Ok(())
    } else {
        Err(ProofError::ForeignVerificationMethod {
            method: method.to_owned(),
            issuer: issuer.to_owned(),
        })
    }
}

fn as_object(value: &Value) -> Result<&Object, ProofError> {
    value.as_object().ok_or(ProofError::NotAnObject)
}

fn describe(value: Option<&Value>) -> String {
    value.map_or_else(|| "missing".to_owned(), Value::to_string)
}

#[cfg(test)]
mod tests;
