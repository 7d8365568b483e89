//! Access tokens: EdDSA JWTs with `typ: at+jwt` (RFC 9068), signed with the platform key.
//! Verification pins the algorithm, the typ, the issuer and the audience, so a token
//! signed with another algorithm, another key, or made for another purpose is refused.

use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};

use super::keys::KeyRing;
use super::token_cache::VerifiedTokens;

pub const ACCESS_TOKEN_TYP: &str = "at+jwt";
/// Clock skew tolerated between instances.
const LEEWAY_SECS: u64 = 30;

/// The expiry rule of the full verification (jsonwebtoken's, with our leeway), for tokens
/// answered from the cache.
fn is_expired(exp: i64, now: i64) -> bool {
    exp < now - LEEWAY_SECS as i64
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    Holder,
    Agency,
    Admin,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// Holder id or service account id.
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub kind: PrincipalKind,
    /// Space-separated scopes (RFC 8693 style).
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

impl AccessClaims {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scope.split(' ').any(|s| s == scope)
    }
}

#[derive(Debug, PartialEq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token must be signed with EdDSA")]
    WrongAlgorithm,
    #[error("the token is not an access token (typ must be at+jwt)")]
    WrongType,
    #[error("the token was signed with an unknown key")]
    UnknownKey,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid: {0}")]
    Invalid(String),
}

pub struct TokenService<'a> {
    pub keys: &'a KeyRing,
    /// The platform's public URL: the issuer, and the audience of its own access tokens.
    pub issuer: &'a str,
}

impl TokenService<'_> {
    pub fn issue(
        &self,
        sub: &str,
        kind: PrincipalKind,
        scope: &str,
        client_id: Option<&str>,
        ttl_secs: i64,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let now = chrono::Utc::now().timestamp();
        let claims = AccessClaims {
            iss: self.issuer.to_owned(),
            aud: self.issuer.to_owned(),
            sub: sub.to_owned(),
            iat: now,
            exp: now + ttl_secs,
            jti: uuid::Uuid::new_v4().to_string(),
            kind,
            scope: scope.to_owned(),
            client_id: client_id.map(str::to_owned),
        };
        let key = self.keys.active();
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some(ACCESS_TOKEN_TYP.to_owned());
        header.kid = Some(key.kid.clone());
        crate::auth::jws::sign(&header, &claims, &key.signing).map_err(Into::into)
    }

    pub fn verify(&self, token: &str) -> Result<AccessClaims, TokenError> {
        self.verify_signed(token).map(|(claims, _kid)| claims)
    }

    /// Verifies a token, answering from `cache` when it verified this exact token before
    /// and its key is still published; a token's claims are fixed by its signature, so
    /// only the key and the clock can change the answer.
    pub fn verify_cached(
        &self,
        cache: &VerifiedTokens,
        token: &str,
    ) -> Result<AccessClaims, TokenError> {
        if let Some((claims, kid)) = cache.get(token) {
            if self.keys.is_published(&kid) {
                return if is_expired(claims.exp, chrono::Utc::now().timestamp()) {
                    Err(TokenError::Expired)
                } else {
                    Ok(claims)
                };
            }
        }
        let (claims, kid) = self.verify_signed(token)?;
        cache.insert(token, &claims, kid);
        Ok(claims)
    }

    /// Full verification; also returns the kid that signed.
    fn verify_signed(&self, token: &str) -> Result<(AccessClaims, String), TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if header.alg != Algorithm::EdDSA {
            return Err(TokenError::WrongAlgorithm);
        }
        if header.typ.as_deref() != Some(ACCESS_TOKEN_TYP) {
            return Err(TokenError::WrongType);
        }
        let kid = header.kid.ok_or(TokenError::UnknownKey)?;
        let key = self.keys.decoding_key(&kid).ok_or(TokenError::UnknownKey)?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[self.issuer]);
        validation.set_audience(&[self.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECS;
        jsonwebtoken::decode::<AccessClaims>(token, &key, &validation)
            .map(|data| (data.claims, kid))
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                other => TokenError::Invalid(format!("{other:?}")),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use ed25519_dalek::SigningKey;
    use rand_core::OsRng;

    const ISSUER: &str = "https://certverify.test";

    fn ring() -> KeyRing {
        KeyRing::new(SigningKey::generate(&mut OsRng)).unwrap()
    }

    #[test]
    fn an_issued_token_verifies_with_its_claims() {
        let keys = ring();
        let svc = TokenService {
            keys: &keys,
            issuer: ISSUER,
        };
        let token = svc
            .issue("h1", PrincipalKind::Holder, "holder", None, 900)
            .unwrap();
        let claims = svc.verify(&token).unwrap();
        assert_eq!(claims.sub, "h1");
        assert_eq!(claims.kind, PrincipalKind::Holder);
        assert_eq!(claims.exp - claims.iat, 900);
    }

    #[test]
    fn a_token_from_another_key_ring_is_refused() {
        let (a, b) = (ring(), ring());
        let token = TokenService {
            keys: &a,
            issuer: ISSUER,
        }
        .issue("x", PrincipalKind::Admin, "admin", None, 60)
        .unwrap();
        assert_eq!(
            TokenService {
                keys: &b,
                issuer: ISSUER
            }
            .verify(&token),
            Err(TokenError::UnknownKey)
        );
    }

    #[test]
    fn a_token_for_another_audience_is_refused() {
        let keys = ring();
        let token = TokenService {
            keys: &keys,
            issuer: "https://elsewhere.test",
        }
        .issue("x", PrincipalKind::Admin, "admin", None, 60)
        .unwrap();
        assert!(matches!(
            TokenService {
                keys: &keys,
                issuer: ISSUER
            }
            .verify(&token),
            Err(TokenError::Invalid(_))
        ));
    }

    #[test]
    fn an_expired_token_is_refused() {
        let keys = ring();
        let svc = TokenService {
            keys: &keys,
            issuer: ISSUER,
        };
        let token = svc
            .issue("x", PrincipalKind::Holder, "holder", None, -120)
            .unwrap();
        assert_eq!(svc.verify(&token), Err(TokenError::Expired));
    }

    #[test]
    fn an_unsigned_token_is_refused() {
        let keys = ring();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"at+jwt"}"#);
        let body = URL_SAFE_NO_PAD.encode(br#"{"sub":"x"}"#);
        let token = format!("{header}.{body}.");
        assert_eq!(
            TokenService {
                keys: &keys,
                issuer: ISSUER
            }
            .verify(&token),
            Err(TokenError::Malformed)
        );
    }

    #[test]
    fn scopes_are_matched_whole() {
        let claims = AccessClaims {
            iss: ISSUER.into(),
            aud: ISSUER.into(),
            sub: "a".into(),
            exp: 0,
            iat: 0,
            jti: "j".into(),
            kind: PrincipalKind::Agency,
            scope: "records:read eligibility:check".into(),
            client_id: None,
        };
        assert!(claims.has_scope("records:read"));
        assert!(!claims.has_scope("records"));
        assert!(!claims.has_scope("records:search"));
    }
}
