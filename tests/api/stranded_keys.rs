//! An Idempotency-Key is never stranded: a claim whose request never answered (the storage
//! cut between the claim and the insert, the process killed there) is taken again after
//! its lease, and a claim a retry took over can no longer write its answer.

use std::time::{Duration, Instant};

use certverify::db::schema::{idempotency_keys, verification_requests};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde_json::Value;

use crate::helpers::{assert_problem, postgres_url};
use crate::requests_helpers::{world, World};
use crate::server_process::ServerProcess;

/// A lease of two seconds: long enough for one submission on a busy machine, short enough
/// to wait out in a test. The storage timeouts must fit in it (the settings check that).
pub const SHORT_LEASE: &[(&str, &str)] = &[
    ("CERTVERIFY_DISPATCHER_CONCURRENCY", "0"),
    ("CERTVERIFY_IDEMPOTENCY_LEASE_SECONDS", "2"),
    ("CERTVERIFY_DB_POOL_TIMEOUT_MS", "500"),
    ("CERTVERIFY_SQLITE_BUSY_TIMEOUT_MS", "500"),
];

pub async fn submit_to(w: &World, address: &str, key: &str, number: &str) -> reqwest::Response {
    w.app
        .client
        .post(format!("{address}/v1/verification-requests"))
        .bearer_auth(&w.holder)
        .header("idempotency-key", key)
        .json(&w.request_body(number, "Ana Lima"))
        .send()
        .await
        .unwrap()
}

/// Requests stored for a certificate number.
pub fn requests_for(w: &World, number: &str) -> i64 {
    w.app.with_db(|conn| {
        verification_requests::table
            .filter(verification_requests::certificate_number.eq(number))
            .count()
            .get_result(conn)
            .unwrap()
    })
}

fn key_claimed(w: &World, key: &str) -> bool {
    w.app.with_db(|conn| {
        idempotency_keys::table
            .filter(idempotency_keys::idem_key.eq(key))
            .count()
            .get_result::<i64>(conn)
            .unwrap()
            == 1
    })
}

/// Retries the key (as a client would, after `409 idempotency_key_in_flight`) until it is
/// answered otherwise; the lease bounds the wait.
async fn retry_until_answered(w: &World, key: &str, number: &str) -> reqwest::Response {
    let started = Instant::now();
    let mut in_flight = 0;
    loop {
        let res = submit_to(w, &w.app.address, key, number).await;
        if res.status() != 409 {
            assert!(in_flight > 0 || started.elapsed() < Duration::from_secs(2));
            return res;
        }
        in_flight += 1;
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the key is still in flight 10 s after its 2-second lease"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The key, once free again, makes its request once and then replays it.
async fn a_retry_succeeds_exactly_once(w: &World, key: &str, number: &str) {
    let first = retry_until_answered(w, key, number).await;
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    let again = submit_to(w, &w.app.address, key, number).await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap()["id"], first["id"]);
    assert_eq!(requests_for(w, number), 1, "one request for the key");
}

/// Makes the request's insert and the key's release fail as a cut storage would: on
/// PostgreSQL the backend terminates itself (the connection is really lost); SQLite
/// reports an I/O error.
fn cut_storage(w: &World) {
    let sql = match postgres_url() {
        Some(_) => {
            "CREATE FUNCTION cut_connection() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NEW; END $$; \
             CREATE TRIGGER cut_insert BEFORE INSERT ON verification_requests \
               FOR EACH ROW EXECUTE FUNCTION cut_connection(); \
             CREATE TRIGGER cut_release BEFORE DELETE ON idempotency_keys \
               FOR EACH ROW EXECUTE FUNCTION cut_connection();"
        }
        None => {
            "CREATE TRIGGER cut_insert BEFORE INSERT ON verification_requests \
               BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END; \
             CREATE TRIGGER cut_release BEFORE DELETE ON idempotency_keys \
               BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END;"
        }
    };
    w.app.with_db(|conn| conn.batch_execute(sql).unwrap());
}

fn restore_storage(w: &World) {
    let sql = match postgres_url() {
        Some(_) => {
            "DROP TRIGGER cut_insert ON verification_requests; \
             DROP TRIGGER cut_release ON idempotency_keys;"
        }
        None => "DROP TRIGGER cut_insert; DROP TRIGGER cut_release;",
    };
    w.app.with_db(|conn| conn.batch_execute(sql).unwrap());
}

#[tokio::test]
async fn a_key_whose_storage_was_cut_between_claim_and_insert_is_free_after_its_lease() {
    let w = world(SHORT_LEASE, None).await;
    cut_storage(&w);
    let cut = submit_to(&w, &w.app.address, "cut-1", "FCCA-1001").await;
    let retry_after = cut.headers().get("retry-after").cloned();
    assert_problem(cut, 503, "storage_unavailable").await;
    assert!(retry_after.is_some(), "a 503 says when to retry");
    assert!(key_claimed(&w, "cut-1"), "the release was cut too");
    restore_storage(&w);

    let soon = submit_to(&w, &w.app.address, "cut-1", "FCCA-1001").await;
    assert_problem(soon, 409, "idempotency_key_in_flight").await;
    a_retry_succeeds_exactly_once(&w, "cut-1", "FCCA-1001").await;
}

/// Makes the request's insert take far longer than the test (the claim is committed by then).
fn stall_inserts(w: &World) {
    let sql = match postgres_url() {
        Some(_) => {
            "CREATE FUNCTION stall() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN PERFORM pg_sleep(60); RETURN NEW; END $$; \
             CREATE TRIGGER stall BEFORE INSERT ON verification_requests \
               FOR EACH ROW EXECUTE FUNCTION stall();"
        }
        // SQLite has no sleep; a cross join of a thousand rows three times is minutes of work.
        None => {
            "CREATE TABLE stall_rows (n INTEGER); \
             WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1000) \
               INSERT INTO stall_rows SELECT n FROM c; \
             CREATE TRIGGER stall BEFORE INSERT ON verification_requests \
               BEGIN SELECT count(*) FROM stall_rows a, stall_rows b, stall_rows c; END;"
        }
    };
    w.app.with_db(|conn| conn.batch_execute(sql).unwrap());
}

fn unstall_inserts(w: &World) {
    w.app.with_db(|conn| match postgres_url() {
        // A backend does not notice its client died while it sleeps: end it, so the
        // stalled insert is rolled back as the killed process's would have been.
        Some(_) => conn
            .batch_execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid() \
                   AND wait_event = 'PgSleep'; \
                 DROP TRIGGER stall ON verification_requests;",
            )
            .unwrap(),
        None => conn.batch_execute("DROP TRIGGER stall;").unwrap(),
    });
}

#[tokio::test]
async fn a_key_left_by_a_process_killed_between_claim_and_insert_is_free_after_its_lease() {
    let w = world(SHORT_LEASE, None).await;
    // The same issuer as the in-process instance, so the holder's token is good on both.
    let same_issuer = [
        SHORT_LEASE,
        &[("CERTVERIFY_PUBLIC_URL", w.app.address.as_str())],
    ]
    .concat();
    let doomed = ServerProcess::start(&w.app, &same_issuer).await;
    stall_inserts(&w);
    let (client, address, holder) = (
        w.app.client.clone(),
        doomed.address.clone(),
        w.holder.clone(),
    );
    let body = w.request_body("FCCA-1001", "Ana Lima");
    let in_flight = tokio::spawn(async move {
        client
            .post(format!("{address}/v1/verification-requests"))
            .bearer_auth(holder)
            .header("idempotency-key", "killed-1")
            .json(&body)
            .send()
            .await
    });
    let started = Instant::now();
    while !key_claimed(&w, "killed-1") {
        if in_flight.is_finished() {
            let res = in_flight.await.unwrap().unwrap();
            panic!("answered: {} {}", res.status(), res.text().await.unwrap());
        }
        assert!(started.elapsed() < Duration::from_secs(10), "never claimed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Into the insert, or about to be: either way between the claim and the answer.
    tokio::time::sleep(Duration::from_millis(200)).await;
    doomed.kill();
    assert!(
        in_flight.await.unwrap().is_err(),
        "the killed server never answered"
    );
    unstall_inserts(&w);
    assert_eq!(requests_for(&w, "FCCA-1001"), 0);

    // Another instance honours the dead one's claim until its lease runs out.
    let soon = submit_to(&w, &w.app.address, "killed-1", "FCCA-1001").await;
    assert_problem(soon, 409, "idempotency_key_in_flight").await;
    a_retry_succeeds_exactly_once(&w, "killed-1", "FCCA-1001").await;
}

#[tokio::test]
async fn a_slow_original_whose_key_a_retry_took_over_makes_no_second_request() {
    let Some(_) = postgres_url() else {
        // SQLite's one writer keeps a slow original's insert and a retry apart; the fence's
        // SQLite half is tested in `idempotency`'s unit tests.
        eprintln!("PostgreSQL only: it needs a read that waits on a lock");
        return;
    };
    let w = world(SHORT_LEASE, None).await;
    // The submission reads the qualification after its claim: a table lock held here
    // keeps the original there, past its lease, with its claim committed.
    let url = w
        .app
        .env
        .iter()
        .find(|(k, _)| k == "DATABASE_URL")
        .unwrap()
        .1
        .clone();
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let holder_of_lock = std::thread::spawn(move || {
        let mut conn = diesel::PgConnection::establish(&url).unwrap();
        conn.batch_execute("BEGIN; LOCK TABLE qualifications IN ACCESS EXCLUSIVE MODE;")
            .unwrap();
        locked_tx.send(()).unwrap();
        release_rx.recv().unwrap();
        conn.batch_execute("COMMIT;").unwrap();
    });
    locked_rx.recv().unwrap();
    let submit = |key: &'static str| {
        let (client, address, holder) = (
            w.app.client.clone(),
            w.app.address.clone(),
            w.holder.clone(),
        );
        let body = w.request_body("FCCA-1001", "Ana Lima");
        tokio::spawn(async move {
            let res = client
                .post(format!("{address}/v1/verification-requests"))
                .bearer_auth(holder)
                .header("idempotency-key", key)
                .json(&body)
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        })
    };
    let original = submit("slow-1");
    let started = Instant::now();
    while !key_claimed(&w, "slow-1") {
        assert!(started.elapsed() < Duration::from_secs(10), "never claimed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(2300)).await;
    // Past the lease: the retry claims the key again and waits at the same lock.
    let retry = submit("slow-1");
    tokio::time::sleep(Duration::from_millis(300)).await;
    release_tx.send(()).unwrap();
    holder_of_lock.join().unwrap();
    let (original, retry) = (original.await.unwrap(), retry.await.unwrap());
    assert_eq!(retry.0, 201, "the retry holds the key: {retry:?}");
    assert_eq!(original.0, 409, "the original lost its claim: {original:?}");
    assert_eq!(original.1["code"], "idempotency_key_in_flight");
    assert_eq!(requests_for(&w, "FCCA-1001"), 1, "never two requests");
    let replay = submit_to(&w, &w.app.address, "slow-1", "FCCA-1001").await;
    assert_eq!(replay.json::<Value>().await.unwrap()["id"], retry.1["id"]);
}

#[tokio::test]
async fn a_cut_connection_and_a_serialization_failure_are_retried_within_the_submission() {
    let Some(_) = postgres_url() else {
        eprintln!("PostgreSQL only: SQLite has neither cut connections nor serialization failures");
        return;
    };
    let w = world(SHORT_LEASE, None).await;
    // The first insert loses its connection, the second is refused as a serialization
    // failure, the third goes through: all within one request's three attempts.
    w.app.with_db(|conn| {
        conn.batch_execute(
            "CREATE SEQUENCE attempts; \
             CREATE FUNCTION flaky() RETURNS trigger LANGUAGE plpgsql AS $$ \
             DECLARE n bigint := nextval('attempts'); BEGIN \
               IF n = 1 THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF; \
               IF n = 2 THEN RAISE EXCEPTION 'could not serialize' USING ERRCODE = '40001'; END IF; \
               RETURN NEW; END $$; \
             CREATE TRIGGER flaky BEFORE INSERT ON verification_requests \
               FOR EACH ROW EXECUTE FUNCTION flaky();",
        )
        .unwrap()
    });
    let res = submit_to(&w, &w.app.address, "flaky-1", "FCCA-1001").await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    assert_eq!(requests_for(&w, "FCCA-1001"), 1);
    let tried: i64 = w.app.with_db(|conn| {
        diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "(SELECT last_value FROM attempts)",
        ))
        .get_result(conn)
        .unwrap()
    });
    assert_eq!(tried, 3, "three attempts");
    let again = submit_to(&w, &w.app.address, "flaky-1", "FCCA-1001").await;
    assert_eq!(again.headers()["idempotent-replayed"], "true");
}
