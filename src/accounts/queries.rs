//! Service account storage.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{new_client_id, new_client_secret, AccountKind};
use crate::auth::password::PasswordHasher;
use crate::db::schema::service_accounts;
use crate::db::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = service_accounts)]
pub struct ServiceAccountRow {
    pub id: String,
    pub client_id: String,
    pub secret_hash: String,
    pub name: String,
    pub kind: String,
    pub scopes: String,
    pub created_at: NaiveDateTime,
}

impl ServiceAccountRow {
    pub fn scope_list(&self) -> Vec<String> {
        self.scopes
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

pub fn insert(
    conn: &mut DbConnection,
    kind: AccountKind,
    name: &str,
    scopes: &[String],
    secret_hash: &str,
    created_by: Option<&str>,
) -> QueryResult<ServiceAccountRow> {
    let id = uuid::Uuid::now_v7().to_string();
    diesel::insert_into(service_accounts::table)
        .values((
            service_accounts::id.eq(&id),
            service_accounts::client_id.eq(new_client_id(kind)),
            service_accounts::secret_hash.eq(secret_hash),
            service_accounts::name.eq(name),
            service_accounts::kind.eq(kind.as_str()),
            service_accounts::scopes.eq(scopes.join(" ")),
            service_accounts::created_at.eq(chrono::Utc::now().naive_utc()),
            service_accounts::created_by.eq(created_by),
        ))
        .execute(conn)?;
    service_accounts::table
        .find(&id)
        .select(ServiceAccountRow::as_select())
        .first(conn)
}

/// A new admin account with a fresh secret (`admin bootstrap`, and the benchmarks):
/// returns its client id and the secret, of which only the hash is stored.
pub fn create_admin(
    conn: &mut DbConnection,
    hasher: &PasswordHasher,
    name: &str,
) -> anyhow::Result<(String, String)> {
    let secret = new_client_secret();
    let hash = hasher.hash(&secret)?;
    let row = insert(
        conn,
        AccountKind::Admin,
        name,
        &["admin".to_owned()],
        &hash,
        None,
    )?;
    Ok((row.client_id, secret))
}

pub fn find_active_by_client_id(
    conn: &mut DbConnection,
    client_id: &str,
) -> QueryResult<Option<ServiceAccountRow>> {
    service_accounts::table
        .filter(service_accounts::client_id.eq(client_id))
        .filter(service_accounts::disabled_at.is_null())
        .select(ServiceAccountRow::as_select())
        .first(conn)
        .optional()
}

/// A service account's display name (agencies' names appear in holders' access logs).
pub fn name_of(conn: &mut DbConnection, id: &str) -> QueryResult<String> {
    service_accounts::table
        .find(id)
        .select(service_accounts::name)
        .first(conn)
}
