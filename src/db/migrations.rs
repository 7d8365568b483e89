//! Embedded migrations, one folder per backend with the same migration names.

use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::DbConnection;

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Applies every pending migration and returns the versions it applied.
pub fn run_pending(conn: &mut DbConnection) -> anyhow::Result<Vec<String>> {
    let applied = match conn {
        DbConnection::Sqlite(c) => names(c.run_pending_migrations(SQLITE))?,
        DbConnection::Pg(c) => names(c.run_pending_migrations(POSTGRES))?,
    };
    Ok(applied)
}

/// Reverts every applied migration (used by tests and by `migrate --revert-all`).
pub fn revert_all(conn: &mut DbConnection) -> anyhow::Result<Vec<String>> {
    let reverted = match conn {
        DbConnection::Sqlite(c) => names(c.revert_all_migrations(SQLITE))?,
        DbConnection::Pg(c) => names(c.revert_all_migrations(POSTGRES))?,
    };
    Ok(reverted)
}

/// Reverts the newest applied migration (tests of what a migration does to old rows).
pub fn revert_last(conn: &mut DbConnection) -> anyhow::Result<String> {
    let version = match conn {
        DbConnection::Sqlite(c) => c.revert_last_migration(SQLITE),
        DbConnection::Pg(c) => c.revert_last_migration(POSTGRES),
    }
    .map_err(|e| anyhow::anyhow!("reverting a migration failed: {e}"))?;
    Ok(version.to_string())
}

/// True when the schema is behind the binary.
pub fn has_pending(conn: &mut DbConnection) -> anyhow::Result<bool> {
    let pending = match conn {
        DbConnection::Sqlite(c) => c.has_pending_migration(SQLITE),
        DbConnection::Pg(c) => c.has_pending_migration(POSTGRES),
    };
    pending.map_err(|e| anyhow::anyhow!("cannot read the migration state: {e}"))
}

fn names(
    result: Result<Vec<diesel::migration::MigrationVersion<'_>>, BoxError>,
) -> anyhow::Result<Vec<String>> {
    result
        .map(|versions| versions.iter().map(ToString::to_string).collect())
        .map_err(|e| anyhow::anyhow!("migration failed: {e}"))
}
