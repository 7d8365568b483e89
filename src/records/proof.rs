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
    let mut config = Object::new();
    config.insert("type".into(), PROOF_TYPE.into());
    config.insert("cryptosuite".into(), CRYPTOSUITE.into());
    config.insert("created".into(), options.created.as_str().into());
    config.insert(
        "verificationMethod".into(),
        options.verification_method.as_str().into(),
    );
    config.insert("proofPurpose".into(), options.proof_purpose.as_str().into());
    configure(config, as_object(document)?.get("@context")).map(Value::Object)
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
    let config = proof_config(document, options)?;
    let hash = combined_hash(&canonical_json(&config)?, &canonical_document(document)?);
    let Value::Object(mut proof) = config else {
        return Err(ProofError::MalformedProof);
    };
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
mod tests {
    use super::*;
    use serde_json::json;

    macro_rules! vector {
        ($file:literal) => {
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/vectors/eddsa-jcs-2022/",
                $file
            ))
        };
    }

    const ISSUER: &str = "did:web:certs.example";
    const ISSUER_KEY: &str = "did:web:certs.example#key-1";

    fn json(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    fn vector_key() -> SigningKey {
        let pair = json(vector!("keyPair.json"));
        multikey::decode_private_key(pair["privateKeyMultibase"].as_str().unwrap()).unwrap()
    }

    fn signed_vector() -> Value {
        json(vector!("signedJCS.json"))
    }

    fn vector_options() -> ProofOptions {
        let proof = &signed_vector()["proof"];
        ProofOptions {
            verification_method: proof["verificationMethod"].as_str().unwrap().into(),
            created: proof["created"].as_str().unwrap().into(),
            proof_purpose: proof["proofPurpose"].as_str().unwrap().into(),
        }
    }

    fn unsigned_vector() -> Value {
        let mut doc = signed_vector();
        doc.as_object_mut().unwrap().remove("proof");
        doc
    }

    /// Resolves only the method the vector's proof names, like a did:key resolver would.
    fn vector_resolver(method: &str) -> Option<VerifyingKey> {
        (method == vector_options().verification_method).then(|| vector_key().verifying_key())
    }

    fn issuer_resolver(method: &str) -> Option<VerifyingKey> {
        (method == ISSUER_KEY).then(|| vector_key().verifying_key())
    }

    /// The vector's credential re-issued by an issuer that controls its key.
    fn issued() -> Value {
        let mut doc = unsigned_vector();
        doc["issuer"] = json!(ISSUER);
        let options = ProofOptions {
            verification_method: ISSUER_KEY.into(),
            ..vector_options()
        };
        sign(&doc, &options, &vector_key()).unwrap()
    }

    fn verify_issued(doc: &Value) -> Result<(), ProofError> {
        verify(doc, "assertionMethod", issuer_resolver)
    }

    #[test]
    fn the_w3c_vector_is_reproduced_byte_for_byte() {
        let doc = unsigned_vector();
        let canonical = canonical_document(&doc).unwrap();
        assert_eq!(canonical, vector!("canonDocJCS.txt").trim_end());

        let config = proof_config(&doc, &vector_options()).unwrap();
        let config_jcs = canonical_json(&config).unwrap();
        let expected_config = canonical_json(&json(vector!("proofConfigJCS.json"))).unwrap();
        assert_eq!(config_jcs, expected_config);

        let hash = combined_hash(&config_jcs, &canonical);
        assert_eq!(hex::encode(hash), vector!("combinedHashJCS.txt").trim_end());

        let secured = sign(&doc, &vector_options(), &vector_key()).unwrap();
        let proof_value = secured["proof"]["proofValue"].as_str().unwrap();
        assert_eq!(proof_value, vector!("sigBTC58JCS.txt").trim_end());
        assert_eq!(proof_value, signed_vector()["proof"]["proofValue"]);
        assert_eq!(secured, signed_vector(), "the whole signed document, proof @context included");
    }

    #[test]
    fn the_w3c_vector_passes_the_cryptosuite_verification() {
        assert_eq!(
            verify_proof(&signed_vector(), "assertionMethod", vector_resolver),
            Ok(())
        );
    }

    #[test]
    fn the_w3c_vector_fails_verify_because_its_did_key_is_not_controlled_by_its_issuer() {
        assert!(matches!(
            verify(&signed_vector(), "assertionMethod", vector_resolver),
            Err(ProofError::ForeignVerificationMethod { .. })
        ));
    }

    #[test]
    fn a_record_signed_with_its_issuers_key_verifies() {
        assert_eq!(verify_issued(&issued()), Ok(()));
    }

    #[test]
    fn an_issuer_given_as_an_object_controls_its_keys_too() {
        let mut doc = unsigned_vector();
        doc["issuer"] = json!({"id": ISSUER, "name": "Certificates"});
        let options = ProofOptions {
            verification_method: ISSUER_KEY.into(),
            ..vector_options()
        };
        let secured = sign(&doc, &options, &vector_key()).unwrap();
        assert_eq!(verify_issued(&secured), Ok(()));
    }

    #[test]
    fn a_tampered_credential_subject_is_refused() {
        let mut doc = issued();
        doc["credentialSubject"]["alumniOf"] = json!("The School of Forgeries");
        assert_eq!(verify_issued(&doc), Err(ProofError::BadSignature));

        let mut vector = signed_vector();
        vector["credentialSubject"]["id"] = json!("did:example:someone-else");
        let result = verify_proof(&vector, "assertionMethod", vector_resolver);
        assert_eq!(result, Err(ProofError::BadSignature));
    }

    #[test]
    fn a_proof_made_for_another_purpose_is_refused() {
        assert!(matches!(
            verify(&issued(), "authentication", issuer_resolver),
            Err(ProofError::WrongProofPurpose { .. })
        ));
        let mut doc = issued();
        doc["proof"]["proofPurpose"] = json!("authentication");
        assert!(matches!(
            verify_issued(&doc),
            Err(ProofError::WrongProofPurpose { .. })
        ));
    }

    #[test]
    fn another_cryptosuite_or_proof_type_is_refused() {
        let mut doc = issued();
        doc["proof"]["cryptosuite"] = json!("eddsa-rdfc-2022");
        let expected = ProofError::WrongCryptosuite("eddsa-rdfc-2022".into());
        assert_eq!(verify_issued(&doc), Err(expected));

        let mut doc = issued();
        doc["proof"]["type"] = json!("Ed25519Signature2020");
        let expected = ProofError::WrongProofType("Ed25519Signature2020".into());
        assert_eq!(verify_issued(&doc), Err(expected));
    }

    #[test]
    fn a_verification_method_of_another_controller_is_refused() {
        for method in [
            "did:web:evil.example#key-1",
            "did:web:certs.example.evil#key-1",
            "did:web:certs.example:evil#key-1",
            "did:web:certs.example#",
        ] {
            let mut doc = issued();
            doc["proof"]["verificationMethod"] = json!(method);
            assert!(
                matches!(
                    verify(&doc, "assertionMethod", |_| Some(vector_key().verifying_key())),
                    Err(ProofError::ForeignVerificationMethod { .. })
                ),
                "{method}"
            );
        }
    }

    #[test]
    fn a_document_without_issuer_is_refused() {
        let mut doc = issued();
        doc.as_object_mut().unwrap().remove("issuer");
        assert_eq!(verify_issued(&doc), Err(ProofError::MissingIssuer));
    }

    #[test]
    fn an_unknown_key_is_refused() {
        let result = verify(&issued(), "assertionMethod", |_| None);
        assert_eq!(result, Err(ProofError::UnknownKey(ISSUER_KEY.into())));
    }

    #[test]
    fn a_signature_by_another_key_is_refused() {
        let other = SigningKey::from_bytes(&[3u8; 32]).verifying_key();
        let result = verify(&issued(), "assertionMethod", |_| Some(other));
        assert_eq!(result, Err(ProofError::BadSignature));
    }

    #[test]
    fn a_document_whose_context_does_not_start_with_the_proofs_is_refused() {
        for context in [
            json!(["https://www.w3.org/ns/credentials/v2"]),
            json!([
                "https://www.w3.org/ns/credentials/examples/v2",
                "https://www.w3.org/ns/credentials/v2"
            ]),
            json!("https://www.w3.org/ns/credentials/v2"),
        ] {
            let mut doc = issued();
            doc["@context"] = context;
            assert_eq!(verify_issued(&doc), Err(ProofError::ContextMismatch));
        }
        let mut doc = issued();
        doc.as_object_mut().unwrap().remove("@context");
        assert_eq!(verify_issued(&doc), Err(ProofError::ContextMismatch));
    }

    #[test]
    fn a_context_appended_after_signing_is_tolerated_as_the_spec_requires() {
        let mut doc = issued();
        doc["@context"]
            .as_array_mut()
            .unwrap()
            .push(json!("https://example.org/extra/v1"));
        assert_eq!(verify_issued(&doc), Ok(()));
    }

    #[test]
    fn a_truncated_or_misencoded_proof_value_is_refused() {
        let mut doc = issued();
        let value = doc["proof"]["proofValue"].as_str().unwrap().to_owned();
        doc["proof"]["proofValue"] = json!(&value[..value.len() - 4]);
        assert!(matches!(
            verify_issued(&doc),
            Err(ProofError::WrongSignatureLength(n)) if n < 64
        ));
        doc["proof"]["proofValue"] = json!(&value[1..]);
        assert_eq!(
            verify_issued(&doc),
            Err(ProofError::ProofValueEncoding(MultikeyError::NotBase58Btc))
        );
        doc.as_object_mut().unwrap()["proof"]
            .as_object_mut()
            .unwrap()
            .remove("proofValue");
        assert_eq!(
            verify_issued(&doc),
            Err(ProofError::MissingField("proofValue"))
        );
    }

    #[test]
    fn a_missing_or_listed_proof_is_refused() {
        assert_eq!(verify_issued(&unsigned_vector()), Err(ProofError::MissingProof));
        let mut doc = issued();
        doc["proof"] = json!([doc["proof"].clone()]);
        assert_eq!(verify_issued(&doc), Err(ProofError::MalformedProof));
        assert_eq!(verify_issued(&json!([])), Err(ProofError::NotAnObject));
    }

    #[test]
    fn signing_refuses_a_signed_document_and_a_malformed_created() {
        let key = vector_key();
        let result = sign(&signed_vector(), &vector_options(), &key);
        assert_eq!(result, Err(ProofError::AlreadySigned));
        for created in ["2023-02-24 23:36:38Z", "2023-02-24T23:36:38", "yesterday"] {
            let options = ProofOptions {
                created: created.into(),
                ..vector_options()
            };
            assert!(
                matches!(
                    sign(&unsigned_vector(), &options, &key),
                    Err(ProofError::InvalidCreated(_))
                ),
                "{created}"
            );
        }
    }
}
