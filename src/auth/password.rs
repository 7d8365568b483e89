//! Password and client-secret hashing with argon2id.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::{Arc, OnceLock};

use crate::config::Argon2Cost;

/// Hashes with the configured cost; verification reads the cost from the stored hash, so
/// hashes made under an older cost keep verifying.
#[derive(Clone)]
pub struct PasswordHasher {
    argon2: Argon2<'static>,
    /// Compared against when the account does not exist, so that an unknown email or
    /// client id costs the same time as a wrong password. Made at first use, not at start-up.
    dummy_hash: Arc<OnceLock<String>>,
}

impl PasswordHasher {
    pub fn new(cost: Argon2Cost) -> anyhow::Result<Self> {
        let params = Params::new(cost.memory_kib, cost.iterations, 1, None)
            .map_err(|e| anyhow::anyhow!("CERTVERIFY_ARGON2_*: {e}"))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        Ok(Self {
            argon2,
            dummy_hash: Arc::default(),
        })
    }

    pub fn hash(&self, secret: &str) -> anyhow::Result<String> {
        Ok(self
            .argon2
            .hash_password(secret.as_bytes())
            .map_err(|e| anyhow::anyhow!("argon2: {e}"))?
            .to_string())
    }

    /// True when `secret` matches `stored`; an unreadable stored hash never matches.
    pub fn verify(&self, secret: &str, stored: Option<&str>) -> bool {
        let dummy = || self.hash("certverify-timing-equalizer").unwrap_or_default();
        let target = stored.unwrap_or_else(|| self.dummy_hash.get_or_init(dummy));
        let matched = PasswordHash::new(target)
            .map(|parsed| {
                self.argon2
                    .verify_password(secret.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false);
        matched && stored.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hasher() -> PasswordHasher {
        PasswordHasher::new(Argon2Cost {
            memory_kib: 64,
            iterations: 1,
        })
        .unwrap()
    }

    #[test]
    fn a_hash_verifies_its_password_only() {
        let h = hasher();
        let stored = h.hash("correct horse battery").unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(h.verify("correct horse battery", Some(&stored)));
        assert!(!h.verify("correct horse batterY", Some(&stored)));
    }

    #[test]
    fn a_missing_account_never_verifies() {
        assert!(!hasher().verify("certverify-timing-equalizer", None));
    }

    #[test]
    fn a_corrupt_hash_never_verifies() {
        assert!(!hasher().verify("x", Some("not a hash")));
    }

    #[test]
    fn hashes_made_under_another_cost_still_verify() {
        let old = PasswordHasher::new(Argon2Cost {
            memory_kib: 128,
            iterations: 2,
        })
        .unwrap();
        let stored = old.hash("a long passphrase").unwrap();
        assert!(hasher().verify("a long passphrase", Some(&stored)));
    }
}
