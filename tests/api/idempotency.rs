//! Idempotency keys past their 24-hour retention.

use crate::times::JsonBody;
use diesel::prelude::*;
use serde_json::Value;

use crate::requests_helpers::world;

const NO_DISPATCHER: &[(&str, &str)] = &[("CERTVERIFY_DISPATCHER_CONCURRENCY", "0")];

fn age_keys_by_25_hours(w: &crate::requests_helpers::World) {
    w.app.with_db(|conn| {
        let keys: Vec<(String, String, chrono::NaiveDateTime)> =
            certverify::db::schema::idempotency_keys::table
                .select((
                    certverify::db::schema::idempotency_keys::principal,
                    certverify::db::schema::idempotency_keys::idem_key,
                    certverify::db::schema::idempotency_keys::created_at,
                ))
                .load(conn)
                .unwrap();
        for (principal, key, at) in keys {
            use certverify::db::schema::idempotency_keys::dsl;
            diesel::update(dsl::idempotency_keys.find((principal, key)))
                .set(dsl::created_at.eq(at - chrono::Duration::hours(25)))
                .execute(conn)
                .unwrap();
        }
    });
}

#[tokio::test]
async fn a_key_past_its_retention_starts_a_new_request_even_before_it_is_purged() {
    let w = world(NO_DISPATCHER, None).await;
    let first = w
        .submit("key-1", &w.request_body("FCCA-1001", "Ana Lima"))
        .await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json_checked().await.unwrap();
    age_keys_by_25_hours(&w);
    // Another body under the same key: within the retention this is 422; past it, new work.
    let second = w
        .submit("key-1", &w.request_body("FCCA-1002", "Ana Lima"))
        .await;
    assert_eq!(second.status(), 201);
    assert!(second.headers().get("idempotent-replayed").is_none());
    let second: Value = second.json_checked().await.unwrap();
    assert_ne!(second["id"], first["id"]);
    // And the key now replays the second answer.
    let again = w
        .submit("key-1", &w.request_body("FCCA-1002", "Ana Lima"))
        .await;
    assert_eq!(again.status(), 201);
    assert_eq!(
        again.json_checked::<Value>().await.unwrap()["id"],
        second["id"]
    );
}

#[tokio::test]
async fn the_purge_deletes_only_keys_past_their_retention() {
    let w = world(NO_DISPATCHER, None).await;
    w.submit_ok("FCCA-1001", "Ana Lima").await;
    age_keys_by_25_hours(&w);
    w.submit_ok("FCCA-1002", "Ana Lima").await;
    let (purged, left) = w.app.with_db(|conn| {
        let purged = certverify::idempotency::purge_expired(conn).unwrap();
        let left: i64 = certverify::db::schema::idempotency_keys::table
            .count()
            .get_result(conn)
            .unwrap();
        (purged, left)
    });
    assert_eq!((purged, left), (1, 1));
}
