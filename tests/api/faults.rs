//! Fault injection: submissions keep coming while the storage is cut (PostgreSQL: the
//! service's backends terminated again and again, then connections refused; SQLite: the
//! database locked by another connection beyond the busy timeout). Counted, then asserted:
//! accepted requests lost, requests made twice, keys stranded, 500 answers, and the time
//! from the end of the fault to the first accepted submission.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use certverify::db::schema::verification_requests;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde_json::Value;

use crate::helpers::postgres_url;
use crate::requests_helpers::{world, World};
use crate::stranded_keys::{submit_to, SHORT_LEASE};

/// Each phase of the fault lasts this long.
const PHASE: Duration = Duration::from_millis(1500);
const CLIENTS: usize = 4;

#[derive(Default)]
struct Tally {
    /// Key → the request id its 201 named.
    accepted: HashMap<String, String>,
    /// Keys sent but not (yet) answered 201, with their certificate numbers.
    pending: BTreeMap<String, String>,
    statuses: BTreeMap<u16, usize>,
    /// When the first 201 of a submission sent after the fault arrived.
    recovered_at: Option<Instant>,
}

impl Tally {
    fn answered(&mut self, key: &str, number: &str, status: u16, body: &Value) {
        *self.statuses.entry(status).or_default() += 1;
        if status == 201 {
            let id = body["id"].as_str().unwrap_or_default().to_owned();
            if let Some(first) = self.accepted.insert(key.to_owned(), id.clone()) {
                assert_eq!(first, id, "a key answered two requests");
            }
            self.pending.remove(key);
        } else {
            self.pending.insert(key.to_owned(), number.to_owned());
        }
    }
}

async fn send(w: &World, key: &str, number: &str) -> (u16, Value) {
    let res = submit_to(w, &w.app.address, key, number).await;
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Runs `fault` (blocking, on its own thread) while clients submit new keys and other
/// routes are probed (`expect_not_ready`: /readyz must say so at least once), then lets the
/// clients run a second more, retries every key not yet accepted until its lease has
/// surely passed, and prints and checks the counts.
async fn storm(
    name: &str,
    w: Arc<World>,
    expect_not_ready: bool,
    fault: impl FnOnce() + Send + 'static,
) {
    let tally = Arc::new(Mutex::new(Tally::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let fault_over: Arc<Mutex<Option<Instant>>> = Arc::default();
    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        let (w, tally, stop, fault_over) =
            (w.clone(), tally.clone(), stop.clone(), fault_over.clone());
        let name = name.to_owned();
        clients.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let (key, number) = (format!("{name}-{c}-{i}"), format!("F-{c}-{i}"));
                let sent = Instant::now();
                let (status, body) = send(&w, &key, &number).await;
                {
                    let mut t = tally.lock().unwrap();
                    t.answered(&key, &number, status, &body);
                    let after_fault = fault_over.lock().unwrap().is_some_and(|end| sent >= end);
                    if status == 201 && after_fault && t.recovered_at.is_none() {
                        t.recovered_at = Some(Instant::now());
                    }
                }
                i += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }));
    }
    // Other routes through the fault, reads and writes: a storage failure is a 503 on
    // every one of them, never a 500; /healthz stays up.
    let probe = {
        let (w, stop) = (w.clone(), stop.clone());
        tokio::spawn(async move {
            let mut seen: BTreeMap<&'static str, BTreeMap<u16, usize>> = BTreeMap::new();
            let login = serde_json::json!({"email": "ana@example.org", "password": crate::helpers::PASSWORD});
            while !stop.load(Ordering::Relaxed) {
                for path in PROBED {
                    let res = match *path {
                        "/v1/auth/login" => w.app.post_json(path, &login, None).await,
                        "/v1/admin/audit" => w.app.get(path, Some(&w.admin)).await,
                        _ => w.app.get(path, Some(&w.holder)).await,
                    };
                    *seen
                        .entry(path)
                        .or_default()
                        .entry(res.status().as_u16())
                        .or_default() += 1;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            seen
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    tokio::task::spawn_blocking(fault).await.unwrap();
    let ended = Instant::now();
    *fault_over.lock().unwrap() = Some(ended);
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.unwrap();
    }
    let probed = probe.await.unwrap();

    // The clients retry what was not accepted; a key still claimed by a cut request is
    // free once its lease (2 s) has run out.
    let pending: Vec<(String, String)> = {
        let t = tally.lock().unwrap();
        t.pending
            .iter()
            .map(|(k, n)| (k.clone(), n.clone()))
            .collect()
    };
    let retry_until = Instant::now() + Duration::from_secs(5);
    let mut stranded = 0;
    for (key, number) in &pending {
        loop {
            let (status, body) = send(&w, key, number).await;
            tally.lock().unwrap().answered(key, number, status, &body);
            if status == 201 {
                break;
            }
            if Instant::now() > retry_until {
                stranded += 1;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    let t = tally.lock().unwrap();
    let stored: Vec<(String, String)> = w.app.with_db(|conn| {
        verification_requests::table
            .select((
                verification_requests::id,
                verification_requests::certificate_number,
            ))
            .load(conn)
            .unwrap()
    });
    let mut per_number: HashMap<&str, usize> = HashMap::new();
    for (_, number) in &stored {
        *per_number.entry(number.as_str()).or_default() += 1;
    }
    let ids: std::collections::HashSet<&str> = stored.iter().map(|(id, _)| id.as_str()).collect();
    let lost = t
        .accepted
        .values()
        .filter(|id| !ids.contains(id.as_str()))
        .count();
    let duplicated = per_number.values().filter(|n| **n > 1).count();
    let errors_500 = t.statuses.get(&500).copied().unwrap_or(0);
    let recovery = t.recovered_at.map(|at| at.duration_since(ended));
    eprintln!(
        "fault injection [{name}]: submissions {sent}, accepted {accepted}, statuses {statuses:?}, \
         lost {lost}, duplicated {duplicated}, stranded {stranded}, 500s {errors_500}, \
         time to recover {recovery:?}; other routes {probed:?}",
        sent = t.statuses.values().sum::<usize>(),
        accepted = t.accepted.len(),
        statuses = t.statuses,
    );
    assert!(
        t.statuses.keys().any(|s| *s == 503),
        "the fault was felt: {:?}",
        t.statuses
    );
    assert_eq!(lost, 0, "accepted requests lost");
    assert_eq!(duplicated, 0, "requests made twice");
    assert_eq!(stranded, 0, "keys stranded");
    assert_eq!(errors_500, 0, "500 answers");
    assert_eq!(
        stored.len(),
        t.accepted.len(),
        "every request stored was accepted"
    );
    assert!(
        recovery.is_some_and(|r| r < Duration::from_secs(1)),
        "recovered within a second: {recovery:?}"
    );
    for (path, statuses) in &probed {
        assert!(
            !statuses.contains_key(&500),
            "{path} answered 500: {statuses:?}"
        );
    }
    assert_eq!(
        probed["/healthz"].keys().collect::<Vec<_>>(),
        [&200],
        "/healthz stays up"
    );
    if expect_not_ready {
        assert!(
            probed["/readyz"].contains_key(&503),
            "/readyz says not ready"
        );
    }
}

/// Probed while the storage is cut.
const PROBED: &[&str] = &[
    "/healthz",
    "/readyz",
    "/v1/verification-requests",
    "/v1/qualifications",
    "/v1/me",
    "/v1/auth/login",
    "/v1/admin/audit",
];

fn database_url(w: &World) -> String {
    w.app
        .env
        .iter()
        .find(|(k, _)| k == "DATABASE_URL")
        .unwrap()
        .1
        .clone()
}

#[tokio::test]
async fn submissions_through_cut_postgresql_connections_are_never_lost_doubled_or_stranded() {
    let Some(admin_url) = postgres_url() else {
        eprintln!("PostgreSQL only (TEST_DATABASE_URL); SQLite has its own storm below");
        return;
    };
    let w = Arc::new(world(SHORT_LEASE, None).await);
    let url = database_url(&w);
    let name = url::Url::parse(&url)
        .unwrap()
        .path()
        .trim_start_matches('/')
        .to_owned();
    storm("pg", w, true, move || {
        let mut admin = diesel::PgConnection::establish(&admin_url).unwrap();
        let terminate = format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        );
        let cut_for = |admin: &mut diesel::PgConnection, how_long: Duration| {
            let started = Instant::now();
            while started.elapsed() < how_long {
                admin.batch_execute(&terminate).unwrap();
                std::thread::sleep(Duration::from_millis(100));
            }
        };
        // The service's backends terminated every 100 ms; it reconnects at once.
        cut_for(&mut admin, PHASE);
        // Then no new connection is allowed at all.
        admin
            .batch_execute(&format!(
                "ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS false"
            ))
            .unwrap();
        cut_for(&mut admin, PHASE);
        admin
            .batch_execute(&format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS true"))
            .unwrap();
    })
    .await;
}

#[tokio::test]
async fn submissions_against_a_locked_sqlite_database_are_never_lost_doubled_or_stranded() {
    if postgres_url().is_some() {
        eprintln!("SQLite only; PostgreSQL has its own storm above");
        return;
    }
    let w = Arc::new(world(SHORT_LEASE, None).await);
    let path = database_url(&w).trim_start_matches("sqlite://").to_owned();
    storm("sqlite", w, false, move || {
        // Another process's writer (here: another connection) holds the database past the
        // service's busy timeout (500 ms), twice.
        let mut other = diesel::SqliteConnection::establish(&path).unwrap();
        for _ in 0..2 {
            other
                .batch_execute("PRAGMA busy_timeout = 5000; BEGIN EXCLUSIVE;")
                .unwrap();
            std::thread::sleep(PHASE);
            other.batch_execute("ROLLBACK;").unwrap();
            std::thread::sleep(Duration::from_millis(100));
        }
    })
    .await;
}
