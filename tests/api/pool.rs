//! Storage upkeep. The connection pool lends a PostgreSQL connection without asking the server when it
//! answered within the last 500 ms; past that it asks, so a connection the server cut
//! (a restart, an administrator) is replaced rather than lent again.

use certverify::config::DatabaseUrl;
use certverify::db::{self, DbConnection};
use diesel::prelude::*;
use diesel::sql_types::Integer;

use crate::helpers::postgres_url;

fn backend_pid(conn: &mut DbConnection) -> QueryResult<i32> {
    diesel::select(diesel::dsl::sql::<Integer>("pg_backend_pid()")).get_result(conn)
}

#[test]
fn a_connection_the_server_cut_is_replaced_once_the_bypass_window_has_passed() {
    let Some(url) = postgres_url() else {
        eprintln!("PostgreSQL only (TEST_DATABASE_URL): SQLite has no server to cut it");
        return;
    };
    let pool = db::build_pool(&DatabaseUrl::parse(&url).unwrap(), 1).unwrap();
    let first = backend_pid(&mut pool.get().unwrap()).unwrap();
    let mut admin = diesel::PgConnection::establish(&url).unwrap();
    let terminated: bool = diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
        "pg_terminate_backend({first})"
    )))
    .get_result(&mut admin)
    .unwrap();
    assert!(terminated);
    std::thread::sleep(std::time::Duration::from_millis(700));
    let second = backend_pid(&mut pool.get().unwrap()).unwrap();
    assert_ne!(second, first);
}

/// Commits do not checkpoint SQLite's WAL (that stalled every writer behind one); `serve`
/// checkpoints beside them, so committed rows reach the database file itself.
#[tokio::test]
async fn committed_sqlite_rows_reach_the_database_file_without_a_checkpointing_commit() {
    if postgres_url().is_some() {
        eprintln!("SQLite only: PostgreSQL has no WAL file of ours to checkpoint");
        return;
    }
    let app = crate::helpers::spawn_app().await;
    let url = &app.env.iter().find(|(k, _)| k == "DATABASE_URL").unwrap().1;
    let path = std::path::PathBuf::from(url.trim_start_matches("sqlite://"));
    app.holder_token("wal@example.org").await;
    // Two checkpoint periods and a half: one may meet a reader still on an older snapshot.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    // The database file alone, without its WAL: only checkpointed pages are in it.
    let copy = path.with_file_name("without-wal.db");
    std::fs::copy(&path, &copy).unwrap();
    let mut conn = diesel::SqliteConnection::establish(copy.to_str().unwrap()).unwrap();
    let holders: i64 = certverify::db::schema::holders::table
        .filter(certverify::db::schema::holders::email.eq("wal@example.org"))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(holders, 1);
}
