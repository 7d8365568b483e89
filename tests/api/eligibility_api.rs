//! The eligibility surface beyond the per-service rules: the professional-title table over
//! HTTP, request checks, share codes, authorization, the access and audit logs, and the
//! services of a record.

use crate::times::JsonBody;
use certverify::db::schema::{audit_log, record_access};
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::eligibility_helpers::*;
use crate::helpers::{assert_problem, error_fields};

fn title(facts: Value) -> Value {
    let mut base = json!({"degree": "bachelor", "relevant_experience_years": 5,
        "shanghai_experience_years": 1, "title_series": "accounting",
        "title_level": "intermediate", "employer_type": "enterprise"});
    for (k, v) in facts.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

#[tokio::test]
async fn the_professional_title_follows_the_level_table_and_each_rule_refuses_on_its_own() {
    let f = fixture().await;
    f.reset();
    let f = &f;
    let ask = |facts: Value| async move { f.decide("C.professional_title", &facts).await };
    let ok = ask(title(json!({}))).await;
    assert_eq!(ok["eligible"], true, "{ok}");
    assert_eq!(ok["limits"]["title_level_max"], "associate_senior");
    let codes: Vec<&str> = ok["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"employer_review_and_publicity"),
        "{codes:?}"
    );

    let four_years = ask(title(json!({"relevant_experience_years": 4}))).await;
    assert_eq!(reason_codes(&four_years), ["insufficient_experience"]);
    let senior_master = ask(title(json!({"degree": "master", "relevant_experience_years": 7, "title_level": "associate_senior"}))).await;
    assert_eq!(senior_master["eligible"], true);
    let six_master = ask(title(json!({"degree": "master", "relevant_experience_years": 6.9, "title_level": "associate_senior"}))).await;
    assert_eq!(reason_codes(&six_master), ["insufficient_experience"]);
    let no_shanghai = ask(title(json!({"shanghai_experience_years": 0.5}))).await;
    assert_eq!(
        reason_codes(&no_shanghai),
        ["insufficient_shanghai_experience"]
    );
    let other_series = ask(title(json!({"title_series": "economics"}))).await;
    assert_eq!(reason_codes(&other_series), ["title_series_mismatch"]);

    // A public institution also needs its supervising authority's recommendation.
    let public = ask(title(json!({"employer_type": "public_institution"}))).await;
    assert_eq!(public["eligible"], true);
    assert!(
        public["conditions"].as_array().unwrap().len() > ok["conditions"].as_array().unwrap().len()
    );

    // Engineering: the degree fact becomes needed, and the series must be the qualification's.
    let res = f
        .ask(
            "C.professional_title",
            &title(json!({"title_series": "engineering"})),
        )
        .await;
    let problem = assert_problem(res, 422, "missing_facts").await;
    assert_eq!(
        error_fields(&problem),
        ["facts.science_or_engineering_degree"]
    );
    let engineering = ask(title(
        json!({"title_series": "engineering", "science_or_engineering_degree": false}),
    ))
    .await;
    assert_eq!(
        reason_codes(&engineering),
        ["title_series_mismatch", "degree_not_science_or_engineering"]
    );
}

#[tokio::test]
async fn the_request_names_exactly_one_record_a_known_service_and_only_known_facts() {
    let f = fixture().await;
    let app = &f.w.app;
    let token = Some(f.agency.as_str());
    let both = json!({"record_id": f.record_id, "share_code": "AAAA-AAAA-AAAA-AAAA", "service": "A.visa.multi_entry"});
    let p = assert_problem(
        app.post_json("/v1/eligibility", &both, token).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(error_fields(&p), ["record_id"]);
    let neither = json!({"service": "A.free_lunch"});
    let p = assert_problem(
        app.post_json("/v1/eligibility", &neither, token).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(error_fields(&p), ["record_id", "service"]);
    let unknown = json!({"record_id": "no-such-record", "service": "A.visa.multi_entry"});
    assert_problem(
        app.post_json("/v1/eligibility", &unknown, token).await,
        404,
        "not_found",
    )
    .await;
    let res = f
        .ask("A.work_permit", &json!({"permit_categry": "B"}))
        .await;
    assert_eq!(res.status().as_u16() / 100, 4);
    let res = f
        .ask("A.work_permit", &json!({"permit_category": "C"}))
        .await;
    assert_eq!(res.status().as_u16() / 100, 4);
}

#[tokio::test]
async fn a_share_code_the_holder_gave_opens_the_record_and_a_dead_one_does_not() {
    let f = fixture().await;
    f.reset();
    let path = format!("/v1/records/{}/share-codes", f.record_id);
    let res =
        f.w.app
            .post_json(&path, &json!({"expires_in_days": 7}), Some(&f.w.holder))
            .await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json_checked().await.unwrap();
    let code = created["code"].as_str().unwrap();
    let typed = code.to_lowercase().replace('-', "");
    let body = json!({"share_code": typed, "service": "B.visa.talent_r"});
    let res =
        f.w.app
            .post_json("/v1/eligibility", &body, Some(&f.agency))
            .await;
    assert_eq!(res.status(), 200);
    let decision: Value = res.json_checked().await.unwrap();
    assert_eq!(decision["eligible"], true);
    assert_eq!(decision["limits"]["validity_years_max"], 10);
    let vias: Vec<String> = f.w.app.with_db(|conn| {
        record_access::table
            .select(record_access::via)
            .load(conn)
            .unwrap()
    });
    assert_eq!(vias, ["share_code"]);
    let dead = json!({"share_code": "ZZZZ-ZZZZ-ZZZZ-ZZZZ", "service": "B.visa.talent_r"});
    let res =
        f.w.app
            .post_json("/v1/eligibility", &dead, Some(&f.agency))
            .await;
    assert_problem(res, 404, "not_found").await;
    let malformed = json!({"share_code": "not a code", "service": "B.visa.talent_r"});
    let res =
        f.w.app
            .post_json("/v1/eligibility", &malformed, Some(&f.agency))
            .await;
    let problem = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(error_fields(&problem), ["share_code"]);
}

#[tokio::test]
async fn only_agencies_with_eligibility_check_may_ask() {
    let f = fixture().await;
    let app = &f.w.app;
    let (id, secret) = app.agency(&f.w.admin, &["records:read"]).await;
    let reader = app.client_token(&id, &secret).await;
    let services = format!("/v1/records/{}/services", f.record_id);
    let body = json!({"record_id": f.record_id, "service": "A.visa.multi_entry"});

    assert_problem(
        app.post_json("/v1/eligibility", &body, None).await,
        401,
        "missing_token",
    )
    .await;
    assert_problem(app.get(&services, None).await, 401, "missing_token").await;
    for (token, code) in [
        (&f.w.holder, "wrong_principal"),
        (&f.w.admin, "wrong_principal"),
        (&reader, "insufficient_scope"),
    ] {
        assert_problem(
            app.post_json("/v1/eligibility", &body, Some(token)).await,
            403,
            code,
        )
        .await;
        assert_problem(app.get(&services, Some(token)).await, 403, code).await;
    }
    assert_eq!(
        app.post_json("/v1/eligibility", &body, Some(&f.agency))
            .await
            .status(),
        200
    );
    assert_eq!(app.get(&services, Some(&f.agency)).await.status(), 200);
}

#[tokio::test]
async fn a_decision_is_a_logged_read_and_an_audited_decision_but_a_missing_fact_is_neither() {
    let f = fixture().await;
    f.reset();
    f.decide("A.work_permit", &json!({"permit_category": "B"}))
        .await;
    assert_eq!(f.ask("A.work_permit", &json!({})).await.status(), 422);
    let (reads, decided) = f.w.app.with_db(|conn| {
        let reads: Vec<(String, Option<String>)> = record_access::table
            .select((record_access::via, record_access::purpose))
            .load(conn)
            .unwrap();
        let decided: Vec<(String, Option<String>, String)> = audit_log::table
            .filter(audit_log::action.eq("eligibility.decided"))
            .select((audit_log::actor, audit_log::subject, audit_log::details))
            .load(conn)
            .unwrap();
        (reads, decided)
    });
    assert_eq!(
        reads,
        [(
            "eligibility".to_owned(),
            Some("eligibility: A.work_permit".to_owned())
        )]
    );
    assert_eq!(decided.len(), 1);
    let (actor, subject, details) = &decided[0];
    assert!(actor.starts_with("agency:"));
    assert_eq!(subject.as_deref(), Some(f.record_id.as_str()));
    let details: Value = serde_json::from_str(details).unwrap();
    assert_eq!(details["service"], "A.work_permit");
    assert_eq!(details["outcome"], "eligible");
    assert_eq!(details["policy_version"], "2026-11-26.1");
    assert_eq!(
        format!("agency:{}", details["agency"].as_str().unwrap()),
        *actor
    );
}

#[tokio::test]
async fn the_services_of_a_record_are_those_of_its_categories_decided_or_naming_their_facts() {
    let f = fixture().await;
    f.reset();
    f.set_qualification([true, true, true, false], "listed", &json!([]));
    let path = format!("/v1/records/{}/services", f.record_id);
    let listing = f.w.app.get_json_as(&path, &f.agency).await;
    assert_eq!(listing["record_id"], f.record_id.as_str());
    assert_eq!(listing["record_status"], "valid");
    let items = listing["items"].as_array().unwrap();
    assert_eq!(items.len(), 15, "A, B and C: every service but D's");
    let item = |code: &str| {
        items
            .iter()
            .find(|i| i["service"] == code)
            .cloned()
            .unwrap()
    };
    assert_eq!(item("A.visa.multi_entry")["outcome"], "eligible");
    assert_eq!(item("A.local_support")["outcome"], "informational");
    assert_eq!(item("A.local_support")["eligible"], Value::Null);
    let permit = item("A.work_permit");
    assert_eq!(permit["outcome"], "needs_facts");
    assert_eq!(permit["needs_facts"], json!(["permit_category"]));
    assert_eq!(
        item("C.professional_title")["needs_facts"]
            .as_array()
            .unwrap()
            .len(),
        6
    );

    // Refusals from the profile alone need no facts.
    f.set_record("revoked", in_a_year());
    let listing = f.w.app.get_json_as(&path, &f.agency).await;
    for item in listing["items"].as_array().unwrap() {
        assert_eq!(reason_codes(item), ["record_not_valid"], "{item}");
        assert_eq!(item["needs_facts"], json!([]));
    }
    let audited: i64 = f.w.app.with_db(|conn| {
        audit_log::table
            .filter(audit_log::action.eq("eligibility.listed"))
            .count()
            .get_result(conn)
            .unwrap()
    });
    assert_eq!(audited, 2);
    let res =
        f.w.app
            .get("/v1/records/no-such-record/services", Some(&f.agency))
            .await;
    assert_problem(res, 404, "not_found").await;
}
