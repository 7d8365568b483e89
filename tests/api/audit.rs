//! The hash-chained audit log: the linker, `certverify audit verify`, `GET /v1/admin/audit`.

use certverify::audit::{self, chain, AuditRow};
use certverify::config::Settings;
use certverify::db::schema::audit_log;
use certverify::db::{self, DbConnection};
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, TestApp};

fn append(conn: &mut DbConnection, action: &str, subject: &str) {
    audit::append(
        conn,
        &audit::Entry {
            actor: "system",
            action,
            subject: Some(subject),
            details: json!({"n": subject, "nested": {"b": 2, "a": [1, "x"]}}),
        },
    )
    .unwrap();
}

fn chain_rows(app: &TestApp) -> Vec<AuditRow> {
    app.with_db(|conn| {
        audit_log::table
            .filter(audit_log::seq.is_not_null())
            .order(audit_log::seq.asc())
            .select(AuditRow::as_select())
            .load(conn)
            .unwrap()
    })
}

/// Rows appended by the test, apart from any the app wrote itself.
fn test_rows(rows: &[AuditRow]) -> Vec<&AuditRow> {
    rows.iter()
        .filter(|r| r.action.starts_with("test."))
        .collect()
}

#[tokio::test]
async fn the_linker_chains_every_row_to_the_one_before_it() {
    let app = spawn_app().await;
    app.with_db(|conn| {
        for i in 0..5 {
            append(conn, "test.thing", &format!("s{i}"));
        }
        chain::link_pending(conn).unwrap();
    });
    let rows = chain_rows(&app);
    assert_eq!(test_rows(&rows).len(), 5);
    let mut prev = chain::GENESIS.to_owned();
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.seq, Some(i as i64 + 1));
        assert_eq!(row.prev_hash.as_deref(), Some(prev.as_str()));
        assert_eq!(
            row.hash.as_deref(),
            Some(chain::row_hash(&prev, row).as_str())
        );
        prev = row.hash.clone().unwrap();
    }
    let out = app.cli(&["audit", "verify"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains(&format!("{} row(s) checked", rows.len())),
        "{stdout}"
    );
}

#[tokio::test]
async fn the_background_linker_chains_rows_without_being_asked() {
    let app = spawn_app().await;
    app.with_db(|conn| append(conn, "test.thing", "later"));
    for _ in 0..60 {
        if test_rows(&chain_rows(&app)).len() == 1 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the row was never linked");
}

#[tokio::test]
async fn tampering_with_a_rows_details_makes_audit_verify_name_that_row() {
    let app = spawn_app().await;
    let victim = app.with_db(|conn| {
        for i in 0..4 {
            append(conn, "test.thing", &format!("s{i}"));
        }
        chain::link_pending(conn).unwrap();
        let victim: String = audit_log::table
            .filter(audit_log::subject.eq("s2"))
            .select(audit_log::id)
            .first(conn)
            .unwrap();
        diesel::sql_query(format!(
            "UPDATE audit_log SET details = '{{\"n\": \"forged\"}}' WHERE id = '{victim}'"
        ))
        .execute(conn)
        .unwrap();
        victim
    });
    let out = app.cli(&["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&victim), "{stderr}");
    assert!(stderr.contains("does not match its hash"), "{stderr}");
}

#[tokio::test]
async fn a_deleted_row_breaks_the_chain_at_the_row_after_it() {
    let app = spawn_app().await;
    let after = app.with_db(|conn| {
        for i in 0..3 {
            append(conn, "test.thing", &format!("s{i}"));
        }
        chain::link_pending(conn).unwrap();
        diesel::delete(audit_log::table.filter(audit_log::subject.eq("s1")))
            .execute(conn)
            .unwrap();
        audit_log::table
            .filter(audit_log::subject.eq("s2"))
            .select(audit_log::id)
            .first::<String>(conn)
            .unwrap()
    });
    let out = app.cli(&["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&after));
}

#[tokio::test]
async fn two_linkers_at_once_still_make_one_unbroken_chain() {
    let app = spawn_app().await;
    // A second instance runs its own background linker on the same database.
    let _second = app.another_instance().await;
    let settings = Settings::from_vars(app.env.clone()).unwrap();
    let pool = db::build_pool(&settings.database_url, 6).unwrap();
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let pool = pool.clone();
            std::thread::spawn(move || {
                let mut conn = pool.get().unwrap();
                for i in 0..40 {
                    append(&mut conn, "test.concurrent", &format!("w{w}-{i}"));
                }
            })
        })
        .collect();
    let linkers: Vec<_> = (0..2)
        .map(|_| {
            let pool = pool.clone();
            std::thread::spawn(move || {
                let mut conn = pool.get().unwrap();
                for _ in 0..20 {
                    chain::link_pending(&mut conn).unwrap();
                }
            })
        })
        .collect();
    for t in writers.into_iter().chain(linkers) {
        t.join().unwrap();
    }
    let verdict = app.with_db(|conn| {
        chain::link_pending(conn).unwrap();
        chain::verify(conn).unwrap()
    });
    let rows = chain_rows(&app);
    assert_eq!(
        rows.iter()
            .filter(|r| r.action == "test.concurrent")
            .count(),
        80
    );
    assert_eq!(
        verdict,
        chain::Verdict::Intact {
            checked: rows.len() as u64,
            unlinked: 0
        }
    );
}

#[tokio::test]
async fn admins_read_the_audit_log_newest_first_filtered_and_a_page_at_a_time() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    app.with_db(|conn| {
        for i in 0..5 {
            append(conn, "test.page", &format!("p{i}"));
        }
        append(conn, "test.other", "p1");
    });
    let page = app
        .get_json_as("/v1/admin/audit?action=test.page&limit=3", &admin)
        .await;
    let subjects: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["p4", "p3", "p2"]);
    assert_eq!(page["items"][0]["details"]["nested"]["b"], 2);
    let cursor = page["next_cursor"].as_str().unwrap();
    let next = app
        .get_json_as(
            &format!("/v1/admin/audit?action=test.page&limit=3&cursor={cursor}"),
            &admin,
        )
        .await;
    assert_eq!(next["items"].as_array().unwrap().len(), 2);
    assert_eq!(next["next_cursor"], Value::Null);

    let by_subject = app.get_json_as("/v1/admin/audit?subject=p1", &admin).await;
    let actions: Vec<&str> = by_subject["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["test.other", "test.page"]);
    let by_actor = app
        .get_json_as("/v1/admin/audit?actor=nobody", &admin)
        .await;
    assert_eq!(by_actor["items"], json!([]));
}

#[tokio::test]
async fn only_admins_read_the_audit_log_and_a_bad_limit_is_a_400() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (id, secret) = app
        .agency(&admin, &["records:read", "records:search"])
        .await;
    let agency = app.client_token(&id, &secret).await;
    let holder = app.holder_token("ana@example.org").await;
    assert_problem(app.get("/v1/admin/audit", None).await, 401, "missing_token").await;
    for token in [&holder, &agency] {
        assert_problem(
            app.get("/v1/admin/audit", Some(token)).await,
            403,
            "wrong_principal",
        )
        .await;
    }
    for bad in ["limit=0", "limit=101", "limit=x"] {
        let res = app
            .get(&format!("/v1/admin/audit?{bad}"), Some(&admin))
            .await;
        assert_eq!(res.status(), 400, "{bad}");
    }
}
