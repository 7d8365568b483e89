//! A synchronous confirmation written with a record built before its transaction (the
//! dispatcher's common case) against one written the usual way, and its fallback.

use std::time::Duration;

use certverify::db::schema::{audit_log, issuer_messages, records};
use certverify::db::DbConnection;
use certverify::records::proof;
use certverify::sim::{Mode, SimConfig};
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::records_helpers::did_keys;
use crate::requests_helpers::{world_with_sim, World};

/// `certverify_prebuilt_records_total{result}` as `/metrics` shows it now.
async fn prebuilt(w: &World, result: &str) -> u64 {
    let text = w.app.get("/metrics", None).await.text().await.unwrap();
    let series = format!("certverify_prebuilt_records_total{{result=\"{result}\"}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&series))
        .map_or(0, |n| n.parse().unwrap())
}

async fn sync_world(latency_ms: u64) -> World {
    world_with_sim(
        &[],
        Some(move |c: &mut SimConfig| {
            c.mode = Mode::Sync;
            c.latency = Duration::from_millis(latency_ms);
        }),
    )
    .await
}

/// Submits certificate FCCA-1001 again and waits for its record.
async fn issue_one(w: &World) -> String {
    let id = w.submit_ok("FCCA-1001", "Ana Lima").await;
    w.wait_for(&id, "issued").await;
    id
}

/// What the platform kept of a settled request, without ids, times, salts and indices:
/// the holder's history, the admin columns, the audit rows of the request and its record,
/// the stored answer, the jobs left, and the record's claims.
async fn trace(w: &World, id: &str) -> Value {
    let request = w.request(id).await;
    let history: Vec<Value> = request["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| json!([e["state"], e["reason"]]))
        .collect();
    let (record_id, credential): (String, String) = w.app.with_db(|conn| {
        records::table
            .filter(records::request_id.eq(id))
            .select((records::id, records::credential))
            .first(conn)
            .unwrap()
    });
    let audit: Vec<(String, String, String)> = w.app.with_db(|conn| {
        audit_log::table
            .filter(audit_log::subject.eq_any([id, record_id.as_str()]))
            .order(audit_log::id.asc())
            .select((audit_log::actor, audit_log::action, audit_log::details))
            .load(conn)
            .unwrap()
    });
    let audit: Vec<Value> = audit
        .into_iter()
        .map(|(actor, action, details)| {
            let mut details: Value = serde_json::from_str(&details).unwrap();
            if action == "record.issued" {
                assert_eq!(details["request_id"], id);
                details["request_id"] = "…".into();
            }
            json!([actor, action, details])
        })
        .collect();
    let answers: i64 = w.app.with_db(|conn| {
        issuer_messages::table
            .filter(issuer_messages::request_id.eq(id))
            .count()
            .get_result(conn)
            .unwrap()
    });
    let vc: Value = serde_json::from_str(&credential).unwrap();
    let keys = did_keys(&w.app.get_json("/.well-known/did.json").await);
    proof::verify(&vc, "assertionMethod", |m| keys.get(m).copied()).expect("the record verifies");
    let subject = &vc["credentialSubject"];
    assert_eq!(subject["verification"]["requestId"], id);
    let statuses: Vec<&Value> = vc["credentialStatus"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["statusPurpose"])
        .collect();
    json!({
        "state": request["state"],
        "history": history,
        "admin": w.outcome(id),
        "audit": audit,
        "answers": answers,
        "jobs": w.jobs_of(id),
        "name": subject["name"],
        "qualification": subject["qualification"],
        "certificate": subject["certificate"],
        "method": subject["verification"]["method"],
        "statuses": statuses,
    })
}

#[tokio::test]
async fn a_confirmation_written_with_a_prebuilt_record_reads_like_one_written_the_usual_way() {
    let w = sync_world(0).await;
    // The first records are issued the usual way: no status list is remembered before one
    // has been read back after its creation committed.
    let usual = issue_one(&w).await;
    assert_eq!(prebuilt(&w, "stored").await, 0);
    issue_one(&w).await;
    let fast = issue_one(&w).await;
    assert_eq!(
        prebuilt(&w, "stored").await,
        1,
        "the third confirmation took the prebuilt way"
    );

    let expected = trace(&w, &usual).await;
    assert_eq!(
        expected["history"],
        json!([
            ["submitted", null],
            ["awaiting_issuer", null],
            ["confirmed", "confirmed"],
            ["issued", null]
        ])
    );
    assert_eq!(expected["answers"], 1);
    assert_eq!(expected["jobs"], 0);
    assert_eq!(expected["method"], "issuer_api");
    assert_eq!(trace(&w, &fast).await, expected);
}

#[tokio::test]
async fn a_request_withdrawn_while_its_body_answers_stays_withdrawn_and_keeps_the_answer() {
    let w = sync_world(800).await;
    issue_one(&w).await;
    issue_one(&w).await;
    let id = w.submit_ok("FCCA-1001", "Ana Lima").await;
    w.wait_for(&id, "awaiting_issuer").await;
    assert_eq!(w.withdraw_as(&id, &w.holder).await.status(), 200);

    // The answer arrives after the withdrawal: the prebuilt write finds the request changed
    // and gives way; the usual way then keeps the answer and settles nothing.
    let answers = || {
        w.app.with_db(|conn| {
            issuer_messages::table
                .filter(issuer_messages::request_id.eq(&id))
                .count()
                .get_result::<i64>(conn)
                .unwrap()
        })
    };
    for _ in 0..100 {
        if answers() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(answers(), 1, "the answer is stored once, by the usual way");
    assert_eq!(prebuilt(&w, "unused").await, 1);
    assert_eq!(prebuilt(&w, "stored").await, 0);
    assert_eq!(w.request(&id).await["state"], "withdrawn");
    let records: i64 = w.app.with_db(|conn| {
        records::table
            .filter(records::request_id.eq(&id))
            .count()
            .get_result(conn)
            .unwrap()
    });
    assert_eq!(records, 0);
    assert_eq!(w.jobs_of(&id), 0);
}

/// Makes the first insert of each request's record write nothing, as a status-list index
/// taken meanwhile by another issuer would.
fn lose_first_draws(conn: &mut DbConnection) {
    let statements: Vec<&str> = match conn {
        DbConnection::Sqlite(_) => vec![
            "CREATE TABLE lost_draws (request_id TEXT PRIMARY KEY)",
            "CREATE TRIGGER lose_first_draw BEFORE INSERT ON records \
             WHEN NOT EXISTS (SELECT 1 FROM lost_draws WHERE request_id = NEW.request_id) \
             BEGIN INSERT INTO lost_draws VALUES (NEW.request_id); SELECT RAISE(IGNORE); END",
        ],
        DbConnection::Pg(_) => vec![
            "CREATE TABLE lost_draws (request_id TEXT PRIMARY KEY)",
            "CREATE FUNCTION lose_first_draw() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF EXISTS (SELECT 1 FROM lost_draws WHERE request_id = NEW.request_id) THEN \
             RETURN NEW; END IF; INSERT INTO lost_draws VALUES (NEW.request_id); RETURN NULL; \
             END $$",
            "CREATE TRIGGER lose_first_draw BEFORE INSERT ON records FOR EACH ROW \
             EXECUTE FUNCTION lose_first_draw()",
        ],
    };
    for sql in statements {
        diesel::sql_query(sql).execute(conn).unwrap();
    }
}

#[tokio::test]
async fn a_prebuilt_record_whose_index_was_taken_draws_again_in_the_same_transaction() {
    let w = sync_world(0).await;
    let usual = issue_one(&w).await;
    issue_one(&w).await;
    w.app.with_db(lose_first_draws);
    let redrawn = issue_one(&w).await;

    assert_eq!(
        prebuilt(&w, "stored").await,
        1,
        "no fall back to the usual way"
    );
    assert_eq!(prebuilt(&w, "unused").await, 0);
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let lost = w.app.with_db(|conn| {
        diesel::sql_query("SELECT count(*) AS n FROM lost_draws")
            .get_result::<Count>(conn)
            .unwrap()
            .n
    });
    assert_eq!(lost, 1, "the prebuilt record's own draw was lost once");
    assert_eq!(trace(&w, &redrawn).await, trace(&w, &usual).await);
}
