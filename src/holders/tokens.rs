//! Emailed one-use tokens (verify an address, reset a password) and session ids: random,
//! handed out once, and stored only as their SHA-256, so a copy of the database opens
//! nothing. Values never reach logs.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

use crate::db::schema::holder_tokens;
use crate::db::DbConnection;

/// What a token is for; one purpose's token never opens the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetPassword => "reset_password",
        }
    }
}

/// 256 random bits, URL-safe (43 characters).
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether two secrets (CSRF tokens) are equal, compared in constant time.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.trim().as_bytes()))
}

pub fn now() -> NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

/// Stores a new token for `holder_id` valid for `ttl`; returns the value for the link.
pub fn issue(
    conn: &mut DbConnection,
    holder_id: &str,
    purpose: Purpose,
    ttl: std::time::Duration,
) -> QueryResult<String> {
    let secret = random_secret();
    let at = now();
    let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::hours(1));
    diesel::insert_into(holder_tokens::table)
        .values((
            holder_tokens::token_hash.eq(digest(&secret)),
            holder_tokens::holder_id.eq(holder_id),
            holder_tokens::purpose.eq(purpose.as_str()),
            holder_tokens::created_at.eq(at),
            holder_tokens::expires_at.eq(at + ttl),
        ))
        .execute(conn)?;
    Ok(secret)
}

/// Uses the token once: the holder it was for, or `None` when it is unknown, of another
/// purpose, used or expired. The conditional update is what makes it one use: of two
/// concurrent uses only one changes the row.
pub fn consume(
    conn: &mut DbConnection,
    secret: &str,
    purpose: Purpose,
) -> QueryResult<Option<String>> {
    let at = now();
    let hash = digest(secret);
    let live = holder_tokens::table
        .filter(holder_tokens::token_hash.eq(&hash))
        .filter(holder_tokens::purpose.eq(purpose.as_str()))
        .filter(holder_tokens::used_at.is_null())
        .filter(holder_tokens::expires_at.gt(at));
    let changed = diesel::update(live)
        .set(holder_tokens::used_at.eq(at))
        .execute(conn)?;
    if changed == 0 {
        return Ok(None);
    }
    holder_tokens::table
        .find(&hash)
        .select(holder_tokens::holder_id)
        .first(conn)
        .optional()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_random_and_url_safe() {
        let (a, b) = (random_secret(), random_secret());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_eq!(digest(&a).len(), 64);
        assert_ne!(digest(&a), a);
    }
}
