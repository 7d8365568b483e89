//! Storage: one connection type over SQLite and PostgreSQL, its pool and migrations.
//!
//! The backend is chosen from the URL's scheme by our own r2d2 manager rather than by the
//! derived `MultiConnection::establish`, which tries every backend in turn and hides the real
//! error (a bad PostgreSQL password would surface as "invalid connection url", or a
//! `host=…` string would silently become a SQLite file name).

pub mod migrations;
pub mod pg_sql;
mod run;
pub mod schema;

pub use run::{run, run_attempts, run_retrying, ATTEMPTS};

use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;

use crate::config::{DatabaseUrl, StorageTimeouts};

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

pub type Pool = r2d2::Pool<ConnectionManager>;
pub type PooledConn = r2d2::PooledConnection<ConnectionManager>;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot connect to the database: {0}")]
    Connection(#[from] diesel::ConnectionError),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

/// An r2d2 manager that knows in advance which backend it talks to.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
    sqlite_busy_ms: u32,
}

/// A pooled connection, with when the pool last checked that it answers.
pub struct Checked {
    conn: DbConnection,
    validated: Instant,
    /// Work on it met a storage failure: the pool drops it rather than lending it again
    /// (a cut PostgreSQL connection would otherwise be lent for the bypass window).
    suspect: bool,
}

impl Checked {
    /// Work on it met a storage failure: the pool drops it when it comes back.
    pub(super) fn mark_suspect(&mut self) {
        self.suspect = true;
    }
}

impl Deref for Checked {
    type Target = DbConnection;
    fn deref(&self) -> &DbConnection {
        &self.conn
    }
}

impl DerefMut for Checked {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.conn
    }
}

/// A PostgreSQL connection checked this recently is lent without checking again (the
/// bypass window HikariCP uses by default). Asking on every checkout was a round trip for
/// every transaction, about a tenth of the statements of a request's life; with the window
/// a connection cut by a server restart still fails at most this long before it is replaced.
const VALIDATION_BYPASS: Duration = Duration::from_millis(500);

impl ConnectionManager {
    pub fn new(url: DatabaseUrl) -> Self {
        Self::with_busy_timeout(url, StorageTimeouts::default().sqlite_busy)
    }

    /// `sqlite_busy`: how long SQLite waits for a writer of another process before it
    /// answers "database is locked".
    pub fn with_busy_timeout(url: DatabaseUrl, sqlite_busy: Duration) -> Self {
        let sqlite_busy_ms = u32::try_from(sqlite_busy.as_millis()).unwrap_or(u32::MAX);
        Self {
            url,
            sqlite_busy_ms,
        }
    }

    fn connect(&self) -> Result<DbConnection, DbError> {
        match &self.url {
            DatabaseUrl::Postgres(url) => Ok(DbConnection::Pg(PgConnection::establish(url)?)),
            DatabaseUrl::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(&path.to_string_lossy())?;
                // WAL lets readers run beside the one writer; foreign keys are off by default.
                // No mmap: measured with `cargo bench --bench requests`, mapping the file made
                // issuing slower (224-237/s mapped, 273-276/s not), the remaps costing more
                // than the copies they save.
                // No checkpoints on commit: the one that crossed the threshold copied the WAL
                // into the database and fsynced it while every other writer waited; `serve`
                // checkpoints beside them instead ([`checkpoint_sqlite`]), and
                // SQLite checkpoints when the last connection closes.
                conn.batch_execute(&format!(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {}; \
                     PRAGMA wal_autocheckpoint = 0;",
                    self.sqlite_busy_ms
                ))?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
}

impl ManageConnection for ConnectionManager {
    type Connection = Checked;
    type Error = DbError;

    fn connect(&self) -> Result<Checked, DbError> {
        Ok(Checked {
            conn: ConnectionManager::connect(self)?,
            validated: Instant::now(),
            suspect: false,
        })
    }

    fn is_valid(&self, conn: &mut Checked) -> Result<(), DbError> {
        if conn.validated.elapsed() < VALIDATION_BYPASS {
            return Ok(());
        }
        conn.conn.batch_execute("SELECT 1")?;
        conn.validated = Instant::now();
        Ok(())
    }

    fn has_broken(&self, conn: &mut Checked) -> bool {
        conn.suspect
    }
}

/// Builds the pool. The first connection is made here so that a wrong URL or password
/// stops the start with the database's own message instead of a 30-second pool timeout.
pub fn build_pool(url: &DatabaseUrl, max_size: u32) -> anyhow::Result<Pool> {
    build_pool_with(url, max_size, StorageTimeouts::default())
}

/// [`build_pool`] with the storage timeouts of the settings.
pub fn build_pool_with(
    url: &DatabaseUrl,
    max_size: u32,
    timeouts: StorageTimeouts,
) -> anyhow::Result<Pool> {
    if let DatabaseUrl::Sqlite(path) = url {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
        }
    }
    let manager = ConnectionManager::with_busy_timeout(url.clone(), timeouts.sqlite_busy);
    let mut first = manager
        .connect()
        .map_err(|e| anyhow::anyhow!("DATABASE_URL: {e}"))?;
    first.batch_execute("SELECT 1")?;
    drop(first);
    // A SQLite file cannot go stale under a pooled connection, so the "SELECT 1" check on
    // every checkout is pure cost there (a prepare and a step per query); a PostgreSQL
    // connection can be cut by a server restart, so it is still checked.
    let is_sqlite = matches!(url, DatabaseUrl::Sqlite(_));
    let pool = r2d2::Pool::builder()
        .max_size(max_size)
        .connection_timeout(timeouts.pool_checkout)
        .test_on_check_out(!is_sqlite)
        .build(manager)?;
    Ok(pool)
}

/// How often `serve` copies SQLite's WAL back into the database (measured: every 250 ms
/// cost issuing about a tenth against every second).
const SQLITE_CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// Checkpoints a SQLite database beside the writers rather than inside one of their
/// commits (PASSIVE: it copies what no reader still needs and never waits for a lock).
/// `serve` runs it for as long as it runs.
pub async fn checkpoint_sqlite(pool: Pool) {
    let checkpoint = |conn: &mut DbConnection| {
        conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE)")
            .map_err(anyhow::Error::from)
    };
    every(
        pool,
        SQLITE_CHECKPOINT_EVERY,
        "SQLite checkpoint",
        checkpoint,
        |()| {},
    )
    .await;
}

/// Runs `work` on a pooled connection every `period`, on the blocking pool, and hands each
/// result to `done`; a failure is logged (as `what`) and the next tick tries again. For
/// the background upkeep `serve` runs for as long as it runs.
pub async fn every<T, W, D>(pool: Pool, period: Duration, what: &'static str, work: W, mut done: D)
where
    T: Send + 'static,
    W: Fn(&mut DbConnection) -> anyhow::Result<T> + Clone + Send + 'static,
    D: FnMut(T) + Send,
{
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let (pool, work) = (pool.clone(), work.clone());
        let result = tokio::task::spawn_blocking(move || -> anyhow::Result<T> {
            let mut conn = pool.get()?;
            work(&mut conn)
        })
        .await;
        match result {
            Ok(Ok(value)) => done(value),
            Ok(Err(e)) => tracing::warn!(error = %e, "{what} failed"),
            Err(e) => tracing::warn!(error = %e, "the {what} task failed"),
        }
    }
}

/// SQLite has one writer. Writers of this process queue here for their turn instead of in
/// SQLite's busy handler, which sleeps in growing steps (up to 100 ms) however soon the lock
/// is free: under load the database would stand idle while every writer sleeps. Other
/// processes (the CLI) still meet the busy timeout. One lock for all SQLite databases of the
/// process: only tests open several, and their transactions are short.
static SQLITE_WRITER: std::sync::Mutex<()> = std::sync::Mutex::new(());

thread_local! {
    /// A thread already in a write transaction does not wait for itself (it then meets
    /// SQLite's own refusal of a nested BEGIN, as without this lock).
    static HOLDS_SQLITE_WRITER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

struct SqliteWriterTurn(Option<std::sync::MutexGuard<'static, ()>>);

impl SqliteWriterTurn {
    fn take() -> Self {
        if HOLDS_SQLITE_WRITER.with(|held| held.replace(true)) {
            return Self(None);
        }
        // A panic in another writer's transaction leaves nothing behind to protect.
        let guard = SQLITE_WRITER
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Self(Some(guard))
    }
}

impl Drop for SqliteWriterTurn {
    fn drop(&mut self) {
        if self.0.take().is_some() {
            HOLDS_SQLITE_WRITER.with(|held| held.set(false));
        }
    }
}

/// Runs `f` in a transaction that takes the write lock at its start.
///
/// SQLite's default DEFERRED transaction that reads and then writes can fail with
/// "database is locked" when another writer got in between, busy timeout or not;
/// `BEGIN IMMEDIATE` queues for the lock instead. PostgreSQL needs nothing special.
pub fn write_transaction<T, E>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    type Manager = <DbConnection as Connection>::TransactionManager;
    let _writer = match conn {
        DbConnection::Sqlite(c) => {
            let turn = SqliteWriterTurn::take();
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
            Some(turn)
        }
        DbConnection::Pg(_) => {
            Manager::begin_transaction(conn)?;
            None
        }
    };
    match f(conn) {
        Ok(value) => match Manager::commit_transaction(conn) {
            Ok(()) => Ok(value),
            Err(e) => Err(commit_failed(e).into()),
        },
        Err(e) => {
            // The original error matters more than a failed rollback; the connection is
            // marked broken by diesel in that case and dropped by the pool.
            let _ = Manager::rollback_transaction(conn);
            Err(e)
        }
    }
}

/// A commit that failed because the connection was lost may have happened; it is marked
/// so (`CommitInDoubt`) and never retried as if it had not. A refused commit (a
/// serialization failure) certainly rolled back and stays as it is.
fn commit_failed(e: diesel::result::Error) -> diesel::result::Error {
    use diesel::result::{DatabaseErrorKind as Kind, Error};
    match e {
        Error::DatabaseError(Kind::ClosedConnection | Kind::UnableToSendCommand, _) => {
            Error::QueryBuilderError(Box::new(crate::error::CommitInDoubt(e)))
        }
        e => e,
    }
}

/// `INSERT INTO $table VALUES $values ON CONFLICT DO NOTHING` on a [`DbConnection`];
/// evaluates to the number of rows inserted (0 when a unique index refused the row).
/// diesel builds the conflict clause per backend, so it cannot run through the
/// multi-backend connection and is written once per backend here.
#[macro_export]
macro_rules! insert_or_skip {
    ($conn:expr, $table:expr, $values:expr) => {
        match $conn {
            $crate::db::DbConnection::Pg(c) => diesel::insert_into($table)
                .values($values)
                .on_conflict_do_nothing()
                .execute(c),
            $crate::db::DbConnection::Sqlite(c) => diesel::insert_into($table)
                .values($values)
                .on_conflict_do_nothing()
                .execute(c),
        }
    };
}

/// Runs `f`, which must issue exactly one write statement, as its own transaction.
/// PostgreSQL runs a lone statement atomically on its own, where BEGIN and COMMIT would be
/// two more round trips; on SQLite it queues for the writer's turn like any write.
pub fn write_statement<T, E>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    match conn {
        DbConnection::Pg(_) => f(conn),
        DbConnection::Sqlite(_) => write_transaction(conn, f),
    }
}

#[cfg(test)]
mod tests {
    use diesel::prelude::*;
    use diesel::sql_types::Text;

    #[derive(QueryableByName)]
    struct CompileOption {
        #[diesel(sql_type = Text)]
        compile_options: String,
    }

    /// .cargo/config.toml builds SQLite with the planner stability guarantee; without it
    /// every `.first()` query is prepared again on each run (see that file).
    #[test]
    fn sqlite_is_built_with_the_query_planner_stability_guarantee() {
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        let options: Vec<CompileOption> = diesel::sql_query("PRAGMA compile_options")
            .load(&mut conn)
            .unwrap();
        assert!(
            options.iter().any(|o| o.compile_options == "ENABLE_QPSG"),
            "SQLite was built without SQLITE_ENABLE_QPSG"
        );
    }
}
