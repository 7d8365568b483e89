//! Service accounts: agencies and administrators, who authenticate with OAuth2 client
//! credentials.

mod queries;
pub mod routes;
pub mod token;

pub use queries::{create_admin, name_of};

use rand_core::{OsRng, RngCore};

/// Which kind of service account; admins keep the registry, agencies read records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKind {
    Admin,
    Agency,
}

impl AccountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Agency => "agency",
        }
    }

    fn client_id_prefix(self) -> &'static str {
        match self {
            Self::Admin => "adm_",
            Self::Agency => "agc_",
        }
    }
}

/// A new client id: a prefix that tells the kind at a glance, then 16 random bytes.
pub fn new_client_id(kind: AccountKind) -> String {
    format!(
        "{}{}",
        kind.client_id_prefix(),
        hex::encode(random_bytes::<16>())
    )
}

/// A new client secret: 32 random bytes, base64url.
pub fn new_client_secret() -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_and_secrets_are_fresh_and_well_formed() {
        let a = new_client_id(AccountKind::Agency);
        assert!(a.starts_with("agc_") && a.len() == 36);
        assert_ne!(a, new_client_id(AccountKind::Agency));
        assert!(new_client_id(AccountKind::Admin).starts_with("adm_"));
        assert_eq!(new_client_secret().len(), 43);
    }
}
