//! Access tokens already verified. A client sends the same bearer token with every request
//! for its lifetime (15 minutes by default); checking its Ed25519 signature each time was a
//! fifth of the CPU of an agency's record read (`cargo bench --bench records`). The cache
//! holds what the signature proved — the claims and the kid — so the only checks left per
//! request are the ones that can change: the clock and whether the key is still published
//! ([`super::token::TokenService::verify_cached`]).

use std::collections::HashMap;
use std::sync::RwLock;

use super::token::AccessClaims;

/// Tokens kept at most; past that the cache starts over (a full map is dropped whole:
/// simpler than an eviction order, and costs at worst one verification per live token).
pub const DEFAULT_CAPACITY: usize = 10_000;

pub struct VerifiedTokens {
    entries: RwLock<HashMap<Box<str>, (AccessClaims, String)>>,
    capacity: usize,
}

impl VerifiedTokens {
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: RwLock::new(HashMap::new()),
            capacity,
        }
    }

    /// The claims and kid of a token verified before.
    pub fn get(&self, token: &str) -> Option<(AccessClaims, String)> {
        // The map is only ever replaced or added to whole entries, so a lock poisoned by a
        // panicking writer still holds consistent entries.
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        entries.get(token).cloned()
    }

    /// Remembers a token whose signature was just verified.
    pub fn insert(&self, token: &str, claims: &AccessClaims, kid: String) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= self.capacity {
            entries.clear();
        }
        entries.insert(token.into(), (claims.clone(), kid));
    }

    pub fn len(&self) -> usize {
        self.entries.read().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;
    use rand_core::OsRng;

    use super::*;
    use crate::auth::keys::KeyRing;
    use crate::auth::token::{PrincipalKind, TokenError, TokenService};

    const ISSUER: &str = "https://certverify.test";

    fn service(keys: &KeyRing) -> TokenService<'_> {
        TokenService {
            keys,
            issuer: ISSUER,
        }
    }

    /// A key ring, a cache, and an agency token verified once through the cache.
    fn verified_once() -> (KeyRing, VerifiedTokens, String) {
        let keys = KeyRing::new(SigningKey::generate(&mut OsRng)).unwrap();
        let cache = VerifiedTokens::new(DEFAULT_CAPACITY);
        let token = service(&keys)
            .issue("a1", PrincipalKind::Agency, "records:read", Some("c1"), 900)
            .unwrap();
        service(&keys).verify_cached(&cache, &token).unwrap();
        (keys, cache, token)
    }

    #[test]
    fn a_token_verified_once_is_answered_from_the_cache_with_the_same_claims() {
        let (keys, cache, token) = verified_once();
        assert_eq!(cache.len(), 1);
        let (cached, kid) = cache.get(&token).unwrap();
        assert_eq!(cached.sub, "a1");
        assert_eq!(cached.client_id.as_deref(), Some("c1"));
        assert_eq!(kid, keys.active().kid);
        assert_eq!(
            service(&keys).verify_cached(&cache, &token).unwrap(),
            cached
        );
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn a_cached_token_stops_verifying_when_its_key_is_unpublished() {
        let (keys, cache, token) = verified_once();
        let other = SigningKey::generate(&mut OsRng).verifying_key();
        keys.publish(&[other]).unwrap();
        assert_eq!(
            service(&keys).verify_cached(&cache, &token),
            Err(TokenError::UnknownKey)
        );
    }

    #[test]
    fn a_cached_token_is_refused_once_it_expires() {
        let (keys, cache, token) = verified_once();
        let (mut claims, kid) = cache.get(&token).unwrap();
        // The entry as it will be once the token's lifetime and the leeway have passed.
        claims.exp = chrono::Utc::now().timestamp() - 31;
        cache.insert(&token, &claims, kid);
        assert_eq!(
            service(&keys).verify_cached(&cache, &token),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn a_token_that_does_not_verify_is_not_cached() {
        let (keys, cache, token) = verified_once();
        // Same header and claims, another signature: a different string, so verified afresh.
        let (signed, _) = token.rsplit_once('.').unwrap();
        let forged = format!("{signed}.{}", "A".repeat(86));
        assert!(matches!(
            service(&keys).verify_cached(&cache, &forged),
            Err(TokenError::Invalid(_))
        ));
        assert!(cache.get(&forged).is_none());
    }

    #[test]
    fn the_cache_never_holds_more_than_its_capacity() {
        let keys = KeyRing::new(SigningKey::generate(&mut OsRng)).unwrap();
        let cache = VerifiedTokens::new(3);
        for i in 0..7 {
            let token = service(&keys)
                .issue(&format!("h{i}"), PrincipalKind::Holder, "holder", None, 900)
                .unwrap();
            assert_eq!(
                service(&keys).verify_cached(&cache, &token).unwrap().sub,
                format!("h{i}")
            );
            assert!(cache.len() <= 3);
        }
        assert!(!cache.is_empty());
    }
}
