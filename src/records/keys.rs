//! The platform's keys and their states (DESIGN.md, "Records"): `active` signs, `retired`
//! only verifies what it signed, `revoked` is unpublished. Only public halves are stored;
//! the private key lives in the key file every instance is given.

use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use diesel::prelude::*;
use ed25519_dalek::VerifyingKey;
use serde::Serialize;

use crate::auth::keys::{self, kid_of};
use crate::db::schema::{platform_keys, records};
use crate::db::{self, DbConnection};

#[derive(Debug, Clone, Serialize, Queryable, Selectable)]
#[diesel(table_name = platform_keys)]
pub struct PlatformKeyRow {
    pub kid: String,
    pub public_key: String,
    pub state: String,
    pub created_at: chrono::NaiveDateTime,
    pub retired_at: Option<chrono::NaiveDateTime>,
    pub revoked_at: Option<chrono::NaiveDateTime>,
}

/// Makes the key file's key the active key at start-up. A new key retires the previous
/// active one (rotation by replacing the file); a retired or revoked key may not sign again.
pub fn register_active(conn: &mut DbConnection, key: &VerifyingKey) -> anyhow::Result<()> {
    let kid = kid_of(key);
    let registered = db::write_transaction(conn, |conn| -> anyhow::Result<()> {
        match find(conn, &kid)? {
            Some(row) if row.state == "active" => Ok(()),
            Some(row) => anyhow::bail!(
                "CERTVERIFY_KEY_FILE holds key {kid}, which is {}; it may not sign. Run `certverify keys rotate` or give the current key file",
                row.state
            ),
            None => {
                insert_active(conn, key)?;
                Ok(())
            }
        }
    });
    // Instances started together with a new key file race to register it; the loser's
    // insert fails on the primary key, and the key is active all the same.
    match registered {
        Err(e) if !matches!(find(conn, &kid), Ok(Some(row)) if row.state == "active") => Err(e),
        _ => Ok(()),
    }
}

/// Every key whose signatures are accepted: the active one and the retired ones.
pub fn published(conn: &mut DbConnection) -> anyhow::Result<Vec<VerifyingKey>> {
    let rows: Vec<String> = platform_keys::table
        .filter(platform_keys::state.eq_any(["active", "retired"]))
        .select(platform_keys::public_key)
        .load(conn)?;
    rows.iter().map(|b64| decode_public(b64)).collect()
}

pub fn list(conn: &mut DbConnection) -> QueryResult<Vec<PlatformKeyRow>> {
    platform_keys::table
        .order(platform_keys::created_at)
        .select(PlatformKeyRow::as_select())
        .load(conn)
}

/// What `keys rotate` did.
#[derive(Debug, Serialize)]
pub struct Rotated {
    pub kid: String,
    pub retired: Vec<String>,
}

/// Makes a new signing key: the new key file is written beside the old one, the database
/// switches in one transaction, then the file replaces the old one atomically, so a crash
/// leaves either the old state or the new one.
pub fn rotate(conn: &mut DbConnection, key_file: &Path) -> anyhow::Result<Rotated> {
    let staged = key_file.with_extension("pem.new");
    let key = keys::generate_key_file(&staged, true)?;
    let verifying = key.verifying_key();
    let retired = db::write_transaction(conn, |conn| -> anyhow::Result<Vec<String>> {
        insert_active(conn, &verifying)
    });
    let retired = match retired {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_file(&staged);
            return Err(e);
        }
    };
    std::fs::rename(&staged, key_file)?;
    Ok(Rotated {
        kid: kid_of(&verifying),
        retired,
    })
}

/// What `keys revoke` did, and what must now be re-issued.
#[derive(Debug, Serialize)]
pub struct Revoked {
    pub kid: String,
    pub records_to_reissue: usize,
    pub record_ids: Vec<String>,
}

pub fn revoke(conn: &mut DbConnection, kid: &str) -> anyhow::Result<Revoked> {
    db::write_transaction(conn, |conn| -> anyhow::Result<Revoked> {
        let Some(row) = find(conn, kid)? else {
            anyhow::bail!("no platform key has kid {kid}");
        };
        if row.state == "active" {
            anyhow::bail!(
                "{kid} is the active key: run `certverify keys rotate` first, then revoke it"
            );
        }
        if row.state != "revoked" {
            diesel::update(platform_keys::table.find(kid))
                .set((
                    platform_keys::state.eq("revoked"),
                    platform_keys::revoked_at.eq(chrono::Utc::now().naive_utc()),
                ))
                .execute(conn)?;
            crate::audit::append(
                conn,
                &crate::audit::Entry {
                    actor: "cli",
                    action: "platform_key.revoked",
                    subject: Some(kid),
                    details: serde_json::json!({}),
                },
            )?;
        }
        let record_ids: Vec<String> = records::table
            .filter(records::kid.eq(kid))
            .select(records::id)
            .order(records::id)
            .load(conn)?;
        Ok(Revoked {
            kid: kid.to_owned(),
            records_to_reissue: record_ids.len(),
            record_ids,
        })
    })
}

fn find(conn: &mut DbConnection, kid: &str) -> QueryResult<Option<PlatformKeyRow>> {
    platform_keys::table
        .find(kid)
        .select(PlatformKeyRow::as_select())
        .first(conn)
        .optional()
}

/// Retires whatever is active and inserts `key` as active; returns the retired kids.
fn insert_active(conn: &mut DbConnection, key: &VerifyingKey) -> anyhow::Result<Vec<String>> {
    let now = chrono::Utc::now().naive_utc();
    let retired: Vec<String> = platform_keys::table
        .filter(platform_keys::state.eq("active"))
        .select(platform_keys::kid)
        .load(conn)?;
    diesel::update(platform_keys::table.filter(platform_keys::state.eq("active")))
        .set((
            platform_keys::state.eq("retired"),
            platform_keys::retired_at.eq(now),
        ))
        .execute(conn)?;
    diesel::insert_into(platform_keys::table)
        .values((
            platform_keys::kid.eq(kid_of(key)),
            platform_keys::public_key.eq(URL_SAFE_NO_PAD.encode(key.as_bytes())),
            platform_keys::state.eq("active"),
            platform_keys::created_at.eq(now),
        ))
        .execute(conn)?;
    for kid in &retired {
        crate::audit::append(
            conn,
            &crate::audit::Entry {
                actor: "system",
                action: "platform_key.retired",
                subject: Some(kid),
                details: serde_json::json!({"replaced_by": kid_of(key)}),
            },
        )?;
    }
    Ok(retired)
}

fn decode_public(b64: &str) -> anyhow::Result<VerifyingKey> {
    let bytes: [u8; 32] = URL_SAFE_NO_PAD
        .decode(b64)?
        .try_into()
        .map_err(|_| anyhow::anyhow!("a stored platform key is not 32 bytes"))?;
    Ok(VerifyingKey::from_bytes(&bytes)?)
}

/// How often a running instance re-reads the published keys: the longest a key revoked
/// elsewhere keeps verifying here.
pub const REFRESH_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Keeps the key ring's published set in step with the database.
pub async fn refresh_published(state: std::sync::Arc<crate::app::AppState>) {
    let pool = state.pool.clone();
    let publish = |keys: Vec<VerifyingKey>| {
        if let Err(e) = state.keys.publish(&keys) {
            tracing::error!(error = %e, "cannot publish the platform keys");
        }
    };
    crate::db::every(
        pool,
        REFRESH_EVERY,
        "platform key refresh",
        published,
        publish,
    )
    .await;
}
