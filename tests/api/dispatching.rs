//! The dispatcher's batches and the write path of a request, on both backends.

use crate::times::JsonBody;
use certverify::db::schema::jobs;
use certverify::db::DbConnection;
use certverify::sim::Mode;
use diesel::prelude::*;
use serde_json::Value;

use crate::requests_helpers::world;

const NO_DISPATCHER: &[(&str, &str)] = &[("CERTVERIFY_DISPATCHER_CONCURRENCY", "0")];

/// Makes every move of certificate `number`'s request to awaiting_issuer fail, as a
/// database error the dispatcher cannot foresee would.
fn poison(conn: &mut DbConnection, number: &str) {
    let statements = match conn {
        DbConnection::Sqlite(_) => vec![format!(
            "CREATE TRIGGER poison BEFORE UPDATE OF state ON verification_requests \
             WHEN NEW.state = 'awaiting_issuer' AND NEW.certificate_number = '{number}' \
             BEGIN SELECT RAISE(ABORT, 'poisoned'); END"
        )],
        DbConnection::Pg(_) => vec![
            "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'poisoned'; END $$"
                .to_owned(),
            format!(
                "CREATE TRIGGER poison BEFORE UPDATE ON verification_requests FOR EACH ROW \
                 WHEN (NEW.state = 'awaiting_issuer' AND NEW.certificate_number = '{number}') \
                 EXECUTE FUNCTION poison()"
            ),
        ],
    };
    for sql in statements {
        diesel::sql_query(sql).execute(conn).unwrap();
    }
}

#[tokio::test]
async fn a_job_that_cannot_be_prepared_keeps_its_lease_and_holds_up_no_other() {
    let w = world(&[], Some((Mode::Sync, 0.0))).await;
    w.app.with_db(|conn| poison(conn, "FCCA-2002"));
    // Submitted first, so claimed first (or in the same batch as the other).
    let stuck = w.submit_ok("FCCA-2002", "Someone Else").await;
    let fine = w.submit_ok("FCCA-1001", "Ana Lima").await;

    w.wait_for(&fine, "confirmed").await;
    assert_eq!(w.request(&stuck).await["state"], "submitted");
    let leased: Vec<Option<chrono::NaiveDateTime>> = w.app.with_db(|conn| {
        jobs::table
            .filter(jobs::request_id.eq(&stuck))
            .select(jobs::lease_until)
            .load(conn)
            .unwrap()
    });
    assert_eq!(leased.len(), 1, "the stuck request keeps its one job");
    assert!(
        leased[0].is_some_and(|until| until > chrono::Utc::now().naive_utc()),
        "its job stays leased, out of the other jobs' way: {leased:?}"
    );
}

#[tokio::test]
async fn the_answer_to_a_submission_is_what_reading_the_request_gives() {
    let w = world(NO_DISPATCHER, None).await;
    let res = w
        .submit("key-1", &w.request_body("FCCA-1001", "Ana Lima"))
        .await;
    assert_eq!(res.status(), 201);
    let answered: Value = res.json_checked().await.unwrap();
    let read = w.request(answered["id"].as_str().unwrap()).await;
    assert_eq!(answered, read);
    assert_eq!(answered["qualification_code"], "acca-fcca");
}
