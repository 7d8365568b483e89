//! Crashes: a server killed with SIGKILL and another started on the same database. The
//! servers are child processes of the real binary; the simulator plays the body over HTTP.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use certverify::db::schema::{jobs, request_events, verification_requests};
use certverify::sim::{Certificates, Mode, SimConfig, SimCounts};
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::requests_helpers::{is_confirmed, world_with_sim, World};
use crate::server_process::ServerProcess;

/// The in-process app serves the API only; the child processes do all the dispatching.
const API_ONLY: &[(&str, &str)] = &[("CERTVERIFY_DISPATCHER_CONCURRENCY", "0")];
/// A one-second call timeout keeps the lease of a killed worker short (a few seconds).
const DISPATCHING: &[(&str, &str)] = &[
    ("CERTVERIFY_DISPATCHER_CONCURRENCY", "8"),
    ("CERTVERIFY_ISSUER_TIMEOUT_SECONDS", "1"),
    ("CERTVERIFY_REASK_AFTER_SECONDS", "1"),
];

async fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn counts(w: &World) -> SimCounts {
    w.sim.as_ref().expect("a simulator").counts()
}

/// The job of the request waits for its next run, claimed by no one.
fn job_waits(w: &World, id: &str) -> bool {
    w.app.with_db(|conn| {
        jobs::table
            .filter(jobs::request_id.eq(id))
            .filter(jobs::lease_until.is_null())
            .count()
            .get_result::<i64>(conn)
            .unwrap()
            == 1
    })
}

#[tokio::test]
async fn a_callback_lost_while_the_server_is_down_is_recovered_by_asking_again() {
    let w = world_with_sim(
        API_ONLY,
        Some(|c: &mut SimConfig| {
            c.mode = Mode::Callback;
            c.latency = Duration::from_millis(1500);
            c.callback_attempts = 1;
        }),
    )
    .await;
    // A re-ask well after the callback (1.5 s): a busy machine may take a while between
    // seeing the job wait and the kill, and a re-ask in that gap would be a second ask.
    let first_settings = [DISPATCHING, &[("CERTVERIFY_REASK_AFTER_SECONDS", "4")]].concat();
    let first = ServerProcess::start(&w.app, &first_settings).await;
    let id = w.submit_ok("FCCA-1001", "Ana Lima").await;
    // The body took the request (202) and the server scheduled its re-ask: the answer is
    // now on its way to a server that is about to die.
    wait_until("the body took the request", Duration::from_secs(10), || {
        counts(&w).requests == 1 && job_waits(&w, &id)
    })
    .await;
    first.kill();
    wait_until("the callback is lost", Duration::from_secs(10), || {
        counts(&w).callbacks_lost == 1
    })
    .await;
    assert_eq!(w.request(&id).await["state"], "awaiting_issuer");

    // Its re-ask falls due within seconds; a longer wait after it keeps the count of asks
    // exact.
    let patient = [DISPATCHING, &[("CERTVERIFY_REASK_AFTER_SECONDS", "30")]].concat();
    let _second = ServerProcess::start(&w.app, &patient).await;
    w.wait_for(&id, "confirmed").await;
    // The platform confirms while answering the callback; the simulator counts it delivered
    // only once that answer reaches it, a moment later on a busy machine.
    wait_until(
        "the simulator sees the callback answered",
        Duration::from_secs(10),
        || counts(&w).callbacks_delivered == 1,
    )
    .await;
    assert_eq!(
        counts(&w),
        SimCounts {
            requests: 2,
            callbacks_delivered: 1,
            callbacks_refused: 0,
            callbacks_lost: 1
        },
        "asked twice, answered once"
    );
    assert_eq!(
        w.outcome(&id),
        (Some("confirmed".into()), Some("issuer_callback".into()))
    );
    assert_eq!(w.jobs_of(&id), 0);
}

const REQUESTS: usize = 24;

/// Every fourth certificate is unknown to the body, so rejections are crash-tested too.
fn known(i: usize) -> bool {
    i % 4 != 3
}

fn certificates() -> Certificates {
    let list: Vec<Value> = (0..REQUESTS)
        .filter(|i| known(*i))
        .map(|i| {
            json!({"certificate_number": format!("KILL-{i}"), "qualification_code": "acca-fcca",
                   "holder_name": "Ana Lima", "issued_on": "2019-06-30", "expires_on": null, "status": "valid"})
        })
        .collect();
    Certificates::parse(&Value::Array(list).to_string()).expect("certificates")
}

fn closed(w: &World) -> usize {
    w.app.with_db(|conn| {
        verification_requests::table
            .filter(verification_requests::state.ne_all([
                "submitted",
                "awaiting_issuer",
                "manual_review",
            ]))
            .count()
            .get_result::<i64>(conn)
            .unwrap() as usize
    })
}

/// How many times each request entered each state.
fn entries(w: &World) -> HashMap<(String, String), usize> {
    let events: Vec<(String, String)> = w.app.with_db(|conn| {
        request_events::table
            .select((request_events::request_id, request_events::state))
            .load(conn)
            .unwrap()
    });
    let mut counted = HashMap::new();
    for event in events {
        *counted.entry(event).or_default() += 1;
    }
    counted
}

/// Submits the requests, lets a server work part of them, kills it with SIGKILL while calls
/// are in flight, starts another on the same database, and checks every request settled once.
async fn killed_mid_dispatch_and_restarted(mode: Mode) {
    let w = world_with_sim(
        API_ONLY,
        Some(move |c: &mut SimConfig| {
            c.certificates = certificates();
            c.mode = mode;
            c.latency = Duration::from_millis(300);
            c.callback_attempts = 1;
        }),
    )
    .await;
    let mut ids = Vec::new();
    for i in 0..REQUESTS {
        ids.push(w.submit_ok(&format!("KILL-{i}"), "Ana Lima").await);
    }
    let first = ServerProcess::start(&w.app, DISPATCHING).await;
    wait_until("a few requests settled", Duration::from_secs(20), || {
        closed(&w) >= 4
    })
    .await;
    first.kill();
    let open = REQUESTS - closed(&w);
    assert!(open > 0, "the server finished before it was killed");

    let _second = ServerProcess::start(&w.app, DISPATCHING).await;
    for (i, id) in ids.iter().enumerate() {
        let r = w.wait_closed(id, Duration::from_secs(60)).await;
        if known(i) {
            assert!(is_confirmed(&r), "{r}");
        } else {
            assert_eq!(r["state"], "rejected", "{r}");
        }
    }
    let entries = entries(&w);
    for (i, id) in ids.iter().enumerate() {
        let once = |state: &str| entries.get(&(id.clone(), state.to_owned())).copied();
        let settled = if known(i) { "confirmed" } else { "rejected" };
        assert_eq!(once(settled), Some(1), "{id} became {settled} once");
        assert_eq!(
            once("awaiting_issuer"),
            Some(1),
            "{id} was sent from one commit"
        );
    }
    let left: i64 = w
        .app
        .with_db(|conn| jobs::table.count().get_result(conn).unwrap());
    assert_eq!(left, 0, "no job outlives its request");
    let seen = counts(&w);
    assert!(seen.requests >= REQUESTS as u64, "{seen:?}");
    assert_eq!(
        seen.callbacks_refused, 0,
        "the platform took every answer: {seen:?}"
    );
}

#[tokio::test]
async fn a_server_killed_mid_dispatch_and_restarted_settles_every_synchronous_request_once() {
    killed_mid_dispatch_and_restarted(Mode::Sync).await;
}

#[tokio::test]
async fn a_server_killed_mid_dispatch_and_restarted_settles_every_callback_request_once() {
    killed_mid_dispatch_and_restarted(Mode::Callback).await;
}
