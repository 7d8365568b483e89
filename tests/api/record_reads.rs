//! Holders' records, identity search, and the access log of every agency read.

use crate::times::JsonBody;
use certverify::audit::chain;
use certverify::db::schema::audit_log;
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, error_fields};
use crate::sharing_helpers::{issue_and_find, issued, Issued};

#[tokio::test]
async fn a_holder_lists_their_own_records_newest_first_a_page_at_a_time() {
    let it = issued(&[]).await;
    // FCCA-2002 is Someone Else's certificate, but the simulator only compares the name.
    let mut body = it.w.request_body("FCCA-2002", "Someone Else");
    body["issued_on"] = json!("2018-01-01");
    let res = it.w.submit("second", &body).await;
    assert_eq!(res.status(), 201);
    let request_id = res.json_checked::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let newer = issue_and_find(&it.w, &request_id).await;

    let first =
        it.w.app
            .get_json_as("/v1/me/records?limit=1", &it.w.holder)
            .await;
    assert_eq!(first["items"].as_array().unwrap().len(), 1);
    assert_eq!(first["items"][0]["id"], newer.as_str());
    assert_eq!(first["items"][0]["status"], "valid");
    assert_eq!(first["items"][0]["status_reason"], Value::Null);
    assert_eq!(
        first["items"][0]["credential"]["credentialSubject"]["certificate"]["number"],
        "FCCA-2002"
    );
    let cursor = first["next_cursor"].as_str().unwrap();
    let second =
        it.w.app
            .get_json_as(
                &format!("/v1/me/records?limit=1&cursor={cursor}"),
                &it.w.holder,
            )
            .await;
    assert_eq!(second["items"][0]["id"], it.record_id.as_str());
    assert_eq!(second["next_cursor"], Value::Null);

    let other = it.w.app.holder_token("other@example.org").await;
    let theirs = it.w.app.get_json_as("/v1/me/records", &other).await;
    assert_eq!(theirs["items"], json!([]));
    let foreign_cursor =
        it.w.app
            .get(&format!("/v1/me/records?cursor={cursor}"), Some(&other))
            .await;
    assert_problem(foreign_cursor, 400, "invalid_query").await;
}

#[tokio::test]
async fn search_finds_records_by_identity_document_and_logs_each_read_with_its_purpose() {
    let it = issued(&[]).await;
    let agency = it.agency(&["records:search"]).await;
    // Written the way the agency has it: other case, spaces and hyphens.
    let res =
        it.w.app
            .post_json(
                "/v1/records/search",
                &Issued::search_body("fz-123 4567"),
                Some(&agency),
            )
            .await;
    assert_eq!(res.status(), 200);
    let found: Value = res.json_checked().await.unwrap();
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    assert_eq!(found["items"][0]["id"], it.record_id.as_str());
    assert_eq!(found["items"][0]["status"], "valid");

    let none =
        it.w.app
            .post_json(
                "/v1/records/search",
                &Issued::search_body("FZ7654321"),
                Some(&agency),
            )
            .await
            .json_checked::<Value>()
            .await
            .unwrap();
    assert_eq!(none["items"], json!([]));
    let mut other_country = Issued::search_body("FZ1234567");
    other_country["identity_document"]["nationality"] = json!("PT");
    let none =
        it.w.app
            .post_json("/v1/records/search", &other_country, Some(&agency))
            .await
            .json_checked::<Value>()
            .await
            .unwrap();
    assert_eq!(none["items"], json!([]));

    let log = it.access_log().await;
    assert_eq!(log.len(), 1, "only the match is logged: {log:?}");
    assert_eq!(log[0]["via"], "search");
    assert_eq!(log[0]["purpose"], "work permit application WP-42");
    let audited: i64 = it.w.app.with_db(|conn| {
        audit_log::table
            .filter(audit_log::action.eq("record.read"))
            .filter(audit_log::details.like("%WP-42%"))
            .count()
            .get_result(conn)
            .unwrap()
    });
    assert_eq!(audited, 1);
    let searches: Vec<String> = it.w.app.with_db(|conn| {
        audit_log::table
            .filter(audit_log::action.eq("records.searched"))
            .select(audit_log::details)
            .load(conn)
            .unwrap()
    });
    assert_eq!(searches.len(), 3, "every search is audited, found or not");
    assert!(searches
        .iter()
        .all(|d| d.contains("WP-42") && !d.contains("1234567")));
}

#[tokio::test]
async fn a_search_without_a_purpose_or_with_a_bad_document_is_refused_naming_each_field() {
    let it = issued(&[]).await;
    let agency = it.agency(&["records:search"]).await;
    let bad = json!({"identity_document": {"type": "Passport!", "number": "??", "nationality": "XX"},
                     "purpose": "   "});
    let res =
        it.w.app
            .post_json("/v1/records/search", &bad, Some(&agency))
            .await;
    let problem = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(
        error_fields(&problem),
        [
            "identity_document.type",
            "identity_document.number",
            "identity_document.nationality",
            "purpose"
        ]
    );
    let missing = json!({"identity_document": {"type": "passport", "number": "FZ1234567", "nationality": "BR"}});
    let res =
        it.w.app
            .post_json("/v1/records/search", &missing, Some(&agency))
            .await;
    assert_problem(res, 422, "invalid_body").await;
    let res =
        it.w.app
            .client
            .post(it.w.app.url("/v1/records/search"))
            .bearer_auth(&agency)
            .header("content-type", "application/json")
            .body("{\"purpose\": ")
            .send()
            .await
            .unwrap();
    assert_problem(res, 400, "malformed_json").await;
    assert!(it.access_log().await.is_empty());
}

#[tokio::test]
async fn the_access_log_holds_every_agency_read_newest_first() {
    let it = issued(&[]).await;
    let agency = it.agency(&["records:read", "records:search"]).await;
    let by_id =
        it.w.app
            .get(
                &format!("/v1/records/{}?purpose=visa%20check", it.record_id),
                Some(&agency),
            )
            .await;
    assert_eq!(by_id.status(), 200);
    let code = it.share_code().await["code"].as_str().unwrap().to_owned();
    let by_code =
        it.w.app
            .get(&format!("/v1/records/by-share-code/{code}"), Some(&agency))
            .await;
    assert_eq!(by_code.status(), 200);
    let search =
        it.w.app
            .post_json(
                "/v1/records/search",
                &Issued::search_body("FZ1234567"),
                Some(&agency),
            )
            .await;
    assert_eq!(search.status(), 200);
    // The public check is not an agency read.
    it.w.app.get_json(&format!("/v1/share-codes/{code}")).await;

    let log = it.access_log().await;
    let vias: Vec<&str> = log.iter().map(|r| r["via"].as_str().unwrap()).collect();
    assert_eq!(vias, ["search", "share_code", "id"]);
    assert_eq!(log[2]["purpose"], "visa check");
    assert_eq!(log[1]["purpose"], Value::Null);
    for row in &log {
        assert_eq!(row["agency_name"], "Exit-Entry");
        assert_eq!(row["record_id"], it.record_id.as_str());
        assert!(row["at"].is_string());
    }

    let page =
        it.w.app
            .get_json_as("/v1/me/access-log?limit=2", &it.w.holder)
            .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest =
        it.w.app
            .get_json_as(
                &format!("/v1/me/access-log?limit=2&cursor={cursor}"),
                &it.w.holder,
            )
            .await;
    assert_eq!(rest["items"][0]["via"], "id");
    assert_eq!(rest["next_cursor"], Value::Null);

    let other = it.w.app.holder_token("other@example.org").await;
    let theirs = it.w.app.get_json_as("/v1/me/access-log", &other).await;
    assert_eq!(theirs["items"], json!([]));

    // Every read is in the audit chain too, and the chain holds.
    let verdict = it.w.app.with_db(|conn| {
        chain::link_pending(conn).unwrap();
        let reads: i64 = audit_log::table
            .filter(audit_log::action.eq("record.read"))
            .count()
            .get_result(conn)
            .unwrap();
        assert_eq!(reads, 3);
        chain::verify(conn).unwrap()
    });
    assert!(
        matches!(verdict, chain::Verdict::Intact { unlinked: 0, .. }),
        "{verdict:?}"
    );
}

#[tokio::test]
async fn a_stated_purpose_over_500_characters_is_refused_and_nothing_is_logged() {
    let it = issued(&[]).await;
    let agency = it.agency(&["records:read"]).await;
    let long = "x".repeat(501);
    let res =
        it.w.app
            .get(
                &format!("/v1/records/{}?purpose={long}", it.record_id),
                Some(&agency),
            )
            .await;
    assert_problem(res, 400, "invalid_query").await;
    assert!(it.access_log().await.is_empty());

    let fits = format!(
        "/v1/records/{}?purpose=%20{}%20",
        it.record_id,
        "y".repeat(500)
    );
    assert_eq!(it.w.app.get(&fits, Some(&agency)).await.status(), 200);
    let log = it.access_log().await;
    assert_eq!(log[0]["purpose"], "y".repeat(500), "stored trimmed");
}
