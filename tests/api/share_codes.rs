//! Share codes: made by the holder, checked by anyone, read by agencies, expired, deleted.

use certverify::audit::chain;
use certverify::db::schema::{audit_log, share_codes};
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::helpers::assert_problem;
use crate::sharing_helpers::{issued, Issued};

fn compact(code: &str) -> String {
    code.replace('-', "").to_lowercase()
}

#[tokio::test]
async fn anyone_with_a_share_code_sees_only_name_qualification_categories_status_and_validity() {
    let it = issued(&[]).await;
    let made = it.share_code().await;
    let code = made["code"].as_str().unwrap();
    assert_eq!(code.len(), 19);
    assert_eq!(made["hint"].as_str().unwrap(), &code[15..]);
    let expires: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(made["expires_at"].clone()).unwrap();
    let days = (expires - chrono::Utc::now()).num_hours() as f64 / 24.0;
    assert!((29.9..=30.0).contains(&days), "{days}");

    // Typed in lower case and without hyphens, as a person might.
    let check =
        it.w.app
            .get_json(&format!("/v1/share-codes/{}", compact(code)))
            .await;
    let mut keys: Vec<&str> = check
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "categories",
            "name",
            "qualification",
            "status",
            "valid_from",
            "valid_until"
        ]
    );
    assert_eq!(check["name"], "Ana Lima");
    assert_eq!(check["qualification"]["code"], "acca-fcca");
    assert_eq!(check["qualification"]["name"], "FCCA");
    assert_eq!(check["categories"], json!(["A", "B", "C"]));
    assert_eq!(check["status"], "valid");
    assert!(check["valid_until"].as_str().unwrap() > check["valid_from"].as_str().unwrap());
}

#[tokio::test]
async fn a_check_is_audited_and_the_code_is_stored_and_logged_only_as_a_hash() {
    let it = issued(&[]).await;
    let made = it.share_code().await;
    let code = made["code"].as_str().unwrap().to_owned();
    it.w.app.get_json(&format!("/v1/share-codes/{code}")).await;
    let record_id = it.record_id.clone();
    let (checked, details, hashes): (i64, Vec<String>, Vec<String>) = it.w.app.with_db(|conn| {
        chain::link_pending(conn).unwrap();
        let checked = audit_log::table
            .filter(audit_log::action.eq("share_code.checked"))
            .filter(audit_log::subject.eq(&record_id))
            .count()
            .get_result(conn)
            .unwrap();
        let details = audit_log::table
            .select(audit_log::details)
            .load(conn)
            .unwrap();
        let hashes = share_codes::table
            .select(share_codes::code_hash)
            .load(conn)
            .unwrap();
        (checked, details, hashes)
    });
    assert_eq!(checked, 1);
    let clear = code.replace('-', "");
    assert!(details
        .iter()
        .all(|d| !d.contains(&clear) && !d.contains(&code)));
    assert_eq!(hashes.len(), 1);
    assert!(!hashes[0].contains(&clear));
}

#[tokio::test]
async fn a_share_code_stops_working_when_it_expires() {
    let it = issued(&[]).await;
    let agency = it.agency(&["records:read"]).await;
    let code = it.share_code().await["code"].as_str().unwrap().to_owned();
    let path = format!("/v1/records/by-share-code/{code}");
    assert_eq!(it.w.app.get(&path, Some(&agency)).await.status(), 200);
    it.w.app.with_db(|conn| {
        diesel::update(share_codes::table)
            .set(
                share_codes::expires_at
                    .eq(chrono::Utc::now().naive_utc() - chrono::Duration::seconds(1)),
            )
            .execute(conn)
            .unwrap();
    });
    let public = it.w.app.get(&format!("/v1/share-codes/{code}"), None).await;
    assert_problem(public, 404, "not_found").await;
    assert_problem(it.w.app.get(&path, Some(&agency)).await, 404, "not_found").await;
}

#[tokio::test]
async fn a_deleted_share_code_no_longer_works_and_cannot_be_deleted_twice() {
    let it = issued(&[]).await;
    let agency = it.agency(&["records:read"]).await;
    let code = it.share_code().await["code"].as_str().unwrap().to_owned();
    let other = it.share_code().await["code"].as_str().unwrap().to_owned();
    let res = it
        .delete(
            &format!("/v1/share-codes/{}", compact(&code)),
            Some(&it.w.holder),
        )
        .await;
    assert_eq!(res.status(), 204);
    let public = it.w.app.get(&format!("/v1/share-codes/{code}"), None).await;
    assert_problem(public, 404, "not_found").await;
    let read =
        it.w.app
            .get(&format!("/v1/records/by-share-code/{code}"), Some(&agency))
            .await;
    assert_problem(read, 404, "not_found").await;
    let again = it
        .delete(&format!("/v1/share-codes/{code}"), Some(&it.w.holder))
        .await;
    assert_problem(again, 404, "not_found").await;
    // The record's other code is untouched.
    it.w.app.get_json(&format!("/v1/share-codes/{other}")).await;
}

#[tokio::test]
async fn another_holder_can_neither_make_nor_delete_codes_for_the_record() {
    let it = issued(&[]).await;
    let code = it.share_code().await["code"].as_str().unwrap().to_owned();
    let mallory = it.w.app.holder_token("mallory@example.org").await;
    let make =
        it.w.app
            .post_json(
                &format!("/v1/records/{}/share-codes", it.record_id),
                &json!({"expires_in_days": 5}),
                Some(&mallory),
            )
            .await;
    assert_problem(make, 404, "not_found").await;
    let delete = it
        .delete(&format!("/v1/share-codes/{code}"), Some(&mallory))
        .await;
    assert_problem(delete, 404, "not_found").await;
    it.w.app.get_json(&format!("/v1/share-codes/{code}")).await;
    let unknown =
        it.w.app
            .post_json(
                "/v1/records/no-such-record/share-codes",
                &json!({"expires_in_days": 5}),
                Some(&it.w.holder),
            )
            .await;
    assert_problem(unknown, 404, "not_found").await;
}

#[tokio::test]
async fn share_code_lifetimes_outside_1_to_180_days_are_refused() {
    let it = issued(&[]).await;
    let path = format!("/v1/records/{}/share-codes", it.record_id);
    for (body, code) in [
        (json!({"expires_in_days": 0}), "validation_failed"),
        (json!({"expires_in_days": 181}), "validation_failed"),
        (json!({"expires_in_days": -3}), "validation_failed"),
        (json!({"expires_in_days": "30"}), "invalid_body"),
        (json!({"expires_in_days": 1.5}), "invalid_body"),
        (json!({}), "invalid_body"),
        (json!({"expires_in_days": 30, "extra": 1}), "invalid_body"),
    ] {
        let res = it.w.app.post_json(&path, &body, Some(&it.w.holder)).await;
        let problem = assert_problem(res, 422, code).await;
        if code == "validation_failed" {
            assert_eq!(crate::helpers::error_fields(&problem), ["expires_in_days"]);
        }
    }
    let res =
        it.w.app
            .client
            .post(it.w.app.url(&path))
            .bearer_auth(&it.w.holder)
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap();
    assert_problem(res, 400, "malformed_json").await;
    for days in [1, 180] {
        let res =
            it.w.app
                .post_json(&path, &json!({"expires_in_days": days}), Some(&it.w.holder))
                .await;
        assert_eq!(res.status(), 201, "{days}");
    }
}

#[tokio::test]
async fn malformed_share_codes_are_a_400_and_unknown_ones_a_404() {
    let it = issued(&[]).await;
    let agency = it.agency(&["records:read"]).await;
    for bad in ["short", "0123-4567-89AB-CDEU", "0123456789abcdefg"] {
        let public = it.w.app.get(&format!("/v1/share-codes/{bad}"), None).await;
        assert_problem(public, 400, "invalid_share_code").await;
        let read =
            it.w.app
                .get(&format!("/v1/records/by-share-code/{bad}"), Some(&agency))
                .await;
        assert_problem(read, 400, "invalid_share_code").await;
        let delete = it
            .delete(&format!("/v1/share-codes/{bad}"), Some(&it.w.holder))
            .await;
        assert_problem(delete, 400, "invalid_share_code").await;
    }
    let unknown =
        it.w.app
            .get("/v1/share-codes/0000-0000-0000-0000", None)
            .await;
    assert_problem(unknown, 404, "not_found").await;
}

#[tokio::test]
async fn share_code_look_ups_are_rate_limited_per_client_address() {
    let it = issued(&[("CERTVERIFY_SHARE_CODE_RATE_LIMIT_PER_MINUTE", "3")]).await;
    let code = it.share_code().await["code"].as_str().unwrap().to_owned();
    for left in (0..3).rev() {
        let res = it.w.app.get(&format!("/v1/share-codes/{code}"), None).await;
        assert_eq!(res.status(), 200);
        assert_eq!(
            res.headers()["ratelimit-policy"],
            r#""share-codes";q=3;w=60"#
        );
        let current = res.headers()["ratelimit"].to_str().unwrap().to_owned();
        assert!(
            current.starts_with(&format!(r#""share-codes";r={left};t="#)),
            "{current}"
        );
    }
    let res = it.w.app.get(&format!("/v1/share-codes/{code}"), None).await;
    assert!(res.headers().contains_key("retry-after"));
    assert_problem(res, 429, "rate_limited").await;
    // Guesses count too, not only hits.
    let guess =
        it.w.app
            .get("/v1/share-codes/0000-0000-0000-0000", None)
            .await;
    assert_eq!(guess.status(), 429);
    // Agencies have their own bucket.
    let agency = it.agency(&["records:read"]).await;
    let read =
        it.w.app
            .get(&format!("/v1/records/by-share-code/{code}"), Some(&agency))
            .await;
    assert_eq!(read.status(), 200);
}

#[tokio::test]
async fn an_agency_reads_the_full_record_by_share_code_as_json_or_vc_jwt() {
    let it: Issued = issued(&[]).await;
    let agency = it.agency(&["records:read"]).await;
    let code = it.share_code().await["code"].as_str().unwrap().to_owned();
    let path = format!("/v1/records/by-share-code/{}", compact(&code));
    let view: Value = it.w.app.get_json_as(&path, &agency).await;
    assert_eq!(view["id"], it.record_id.as_str());
    assert_eq!(view["status"], "valid");
    assert_eq!(view["credential"]["proof"]["cryptosuite"], "eddsa-jcs-2022");
    let jwt =
        it.w.app
            .client
            .get(it.w.app.url(&path))
            .bearer_auth(&agency)
            .header("accept", "application/vc+jwt")
            .send()
            .await
            .unwrap();
    assert_eq!(jwt.status(), 200);
    assert_eq!(jwt.text().await.unwrap().split('.').count(), 3);
    let log = it.access_log().await;
    assert_eq!(log.len(), 2);
    assert!(log
        .iter()
        .all(|r| r["via"] == "share_code" && r["record_id"] == it.record_id.as_str()));
}
