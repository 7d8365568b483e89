//! Requests leaving the open states: expiry past the time to live, and no dispatcher job
//! left behind by any final state.

use certverify::db::schema::verification_requests;
use certverify::issuers::dispatcher::EXPIRED_REASON;
use certverify::sim::Mode;
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::requests_helpers::{world, World};

const NO_DISPATCHER: &[(&str, &str)] = &[("CERTVERIFY_DISPATCHER_CONCURRENCY", "0")];

fn last_reason(request: &Value) -> Value {
    request["history"].as_array().unwrap().last().unwrap()["reason"].clone()
}

async fn withdraw(w: &World, id: &str) {
    assert_eq!(w.withdraw_as(id, &w.holder).await.status(), 200);
}

/// Moves a request's creation back by `days`, as if it had waited that long.
fn age(w: &World, id: &str, days: i64) {
    w.app.with_db(|conn| {
        let created: chrono::NaiveDateTime = verification_requests::table
            .find(id)
            .select(verification_requests::created_at)
            .first(conn)
            .unwrap();
        diesel::update(verification_requests::table.find(id))
            .set(verification_requests::created_at.eq(created - chrono::Duration::days(days)))
            .execute(conn)
            .unwrap();
    });
}

#[tokio::test]
async fn requests_open_past_their_time_to_live_expire_as_soon_as_a_server_starts() {
    // No dispatcher yet: the requests age while no instance could expire them.
    let w = world(NO_DISPATCHER, None).await;
    let stale = w.submit_ok("FCCA-1001", "Ana Lima").await;
    let withdrawn = w.submit_ok("FCCA-2002", "Ana Lima").await;
    withdraw(&w, &withdrawn).await;
    let fresh = w.submit_ok("FCCA-3003", "Ana Lima").await;
    // Past the default time to live of 30 days.
    age(&w, &stale, 31);
    age(&w, &withdrawn, 31);
    let withdrawn_before = w.request(&withdrawn).await;

    // The sweep runs every minute; only its run at start can expire within the wait below.
    w.app
        .another_instance_with(&[("CERTVERIFY_DISPATCHER_CONCURRENCY", "1")])
        .await;
    let expired = w.wait_for(&stale, "expired").await;
    assert_eq!(last_reason(&expired), EXPIRED_REASON);
    assert_eq!(w.jobs_of(&stale), 0, "an expired request is not sent");
    assert_eq!(
        w.request(&withdrawn).await,
        withdrawn_before,
        "a closed request does not change"
    );
    // Within its time to live, the other open request is dispatched (its body is manual).
    w.wait_for(&fresh, "manual_review").await;
}

#[tokio::test]
async fn withdrawing_a_request_deletes_its_job_in_the_same_commit() {
    let w = world(NO_DISPATCHER, None).await;
    let id = w.submit_ok("FCCA-1001", "Ana Lima").await;
    assert_eq!(w.jobs_of(&id), 1, "a submitted request is queued");
    withdraw(&w, &id).await;
    assert_eq!(w.jobs_of(&id), 0);
}

#[tokio::test]
async fn a_callback_that_settles_a_request_deletes_the_job_waiting_to_ask_again() {
    let w = world(
        &[("CERTVERIFY_REASK_AFTER_SECONDS", "3600")],
        Some((Mode::Callback, 0.0)),
    )
    .await;
    let id = w.submit_ok("FCCA-1001", "Ana Lima").await;
    w.wait_for(&id, "confirmed").await;
    assert_eq!(w.jobs_of(&id), 0, "no re-ask is left waiting for an hour");
}

#[tokio::test]
async fn a_synchronous_answer_leaves_no_job_whether_confirmed_or_rejected() {
    let w = world(&[], Some((Mode::Sync, 0.0))).await;
    let confirmed = w.submit_ok("FCCA-1001", "Ana Lima").await;
    let rejected = w.submit_ok("NO-SUCH-1", "Ana Lima").await;
    w.wait_for(&confirmed, "confirmed").await;
    w.wait_for(&rejected, "rejected").await;
    assert_eq!(w.jobs_of(&confirmed), 0);
    assert_eq!(w.jobs_of(&rejected), 0);
}

#[tokio::test]
async fn a_request_in_manual_review_has_no_job_before_or_after_the_decision() {
    let w = world(&[], None).await;
    let id = w.submit_ok("FCCA-1001", "Ana Lima").await;
    w.wait_for(&id, "manual_review").await;
    assert_eq!(
        w.jobs_of(&id),
        0,
        "nothing is sent to a body in manual mode"
    );
    let res = w
        .app
        .post_json(
            &format!("/v1/admin/verification-requests/{id}/decision"),
            &json!({"decision": "rejected", "note": "No such certificate, by phone"}),
            Some(&w.admin),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(w.jobs_of(&id), 0);
}
