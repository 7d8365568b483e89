//! `POST /v1/eligibility` for every service of the table, generated from the table the
//! server serves: facts that pass, then each rule the service has broken on its own.

use serde_json::{json, Value};

use crate::eligibility_helpers::*;
use crate::helpers::assert_problem;

async fn table(f: &Fixture) -> Vec<Value> {
    f.w.app.get_json("/v1/policy/services").await["items"]
        .as_array()
        .expect("items")
        .clone()
}

fn code(service: &Value) -> &str {
    service["code"].as_str().unwrap()
}

fn informational(service: &Value) -> bool {
    service["informational"].as_bool().unwrap_or(false)
}

/// Not eligible for exactly `reason` (informational services: `null`, same reason).
fn assert_refused(service: &Value, decision: &Value, reason: &str) {
    let expected = if informational(service) {
        Value::Null
    } else {
        json!(false)
    };
    assert_eq!(
        decision["eligible"],
        expected,
        "{}: {decision}",
        code(service)
    );
    assert_eq!(reason_codes(decision), [reason], "{}", code(service));
}

#[tokio::test]
async fn every_service_of_the_table_is_granted_with_facts_that_pass() {
    let f = fixture().await;
    f.reset();
    let services = table(&f).await;
    assert_eq!(services.len(), 16);
    for service in &services {
        let decision = f.decide(code(service), &passing_facts(service)).await;
        let expected = if informational(service) {
            Value::Null
        } else {
            json!(true)
        };
        assert_eq!(
            decision["eligible"],
            expected,
            "{}: {decision}",
            code(service)
        );
        assert_eq!(decision["reasons"], json!([]), "{}", code(service));
        assert_eq!(decision["record_status"], "valid");
        assert_eq!(decision["policy_version"], "2026-11-26.1");
        for condition in service["conditions"].as_array().unwrap() {
            if condition.get("when").is_none() {
                let codes: Vec<&Value> = decision["conditions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| &c["code"])
                    .collect();
                assert!(codes.contains(&&condition["code"]), "{}", code(service));
            }
        }
        for (name, value) in service["limits"].as_object().unwrap() {
            assert_eq!(&decision["limits"][name], value, "{}", code(service));
        }
    }
}

#[tokio::test]
async fn every_service_refuses_a_qualification_outside_its_category_and_the_identity_kinds_it_does_not_name(
) {
    let f = fixture().await;
    let services = table(&f).await;
    let categories = ["A", "B", "C", "D"];
    for service in &services {
        let facts = passing_facts(service);
        f.reset();
        let mut held = [true; 4];
        let index = categories
            .iter()
            .position(|c| *c == service["category"])
            .unwrap();
        held[index] = false;
        f.set_qualification(held, "listed", &equivalences());
        assert_refused(
            service,
            &f.decide(code(service), &facts).await,
            "category_mismatch",
        );

        f.reset();
        let allowed = service["who"]["identity_kinds"].as_array().unwrap();
        for kind in ["foreign_national", "hk_mo_tw", "mainland"] {
            f.set_holder(kind, false, years_ago(40));
            let decision = f.decide(code(service), &facts).await;
            if allowed.contains(&json!(kind)) {
                assert_eq!(decision["reasons"], json!([]), "{} {kind}", code(service));
            } else {
                assert_refused(service, &decision, "identity_kind_not_allowed");
            }
        }
        if service["who"]["shanghai_hukou"] == json!(false) {
            f.set_holder("mainland", true, years_ago(40));
            assert_refused(
                service,
                &f.decide(code(service), &facts).await,
                "has_shanghai_hukou",
            );
        }
    }
}

#[tokio::test]
async fn an_age_limit_admits_its_last_year_and_refuses_the_next() {
    let f = fixture().await;
    f.reset();
    let mut limited = Vec::new();
    for service in &table(&f).await {
        let facts = passing_facts(service);
        let age_max = service["limits"]["age_max"]
            .as_i64()
            .or(service["limits_by_permit_category"]["B"]["age_max"].as_i64());
        let Some(max) = age_max else {
            f.set_holder("foreign_national", false, years_ago(100));
            let decision = f.decide(code(service), &facts).await;
            assert_eq!(decision["reasons"], json!([]), "{}", code(service));
            continue;
        };
        limited.push(code(service).to_owned());
        let max = i32::try_from(max).unwrap();
        f.set_holder("foreign_national", false, years_ago(max));
        assert_eq!(f.decide(code(service), &facts).await["eligible"], true);
        f.set_holder("foreign_national", false, years_ago(max + 1));
        let decision = f.decide(code(service), &facts).await;
        assert_refused(service, &decision, "age_over_limit");
        // A high-end permit (A) has no age limit.
        let high_end = f
            .decide(code(service), &json!({"permit_category": "A"}))
            .await;
        assert_eq!(high_end["eligible"], true, "{high_end}");
        assert_eq!(high_end["limits"]["validity_years_max"], 5);
    }
    assert_eq!(limited, ["A.work_permit"]);
}

#[tokio::test]
async fn a_suspended_revoked_expired_or_delisted_record_is_never_eligible_for_any_service() {
    let f = fixture().await;
    let services = table(&f).await;
    let cases = [
        ("suspended", in_a_year(), "suspended"),
        ("revoked", in_a_year(), "revoked"),
        ("valid", a_second_ago(), "expired"),
        ("suspended", a_second_ago(), "expired"),
    ];
    for (stored, until, live) in cases {
        f.reset();
        f.set_record(stored, until);
        for service in &services {
            let decision = f.decide(code(service), &passing_facts(service)).await;
            assert_refused(service, &decision, "record_not_valid");
            assert_eq!(decision["record_status"], live, "{}", code(service));
            // No fact can change it, so none is asked for.
            let bare = f.decide(code(service), &json!({})).await;
            assert_refused(service, &bare, "record_not_valid");
        }
    }
    f.reset();
    f.set_qualification([true; 4], "removed", &equivalences());
    for service in &services {
        let decision = f.decide(code(service), &passing_facts(service)).await;
        assert_refused(service, &decision, "qualification_delisted");
    }
    // A suspension through the admin endpoint is read live too.
    f.reset();
    let path = format!("/v1/admin/records/{}/suspend", f.record_id);
    let res =
        f.w.app
            .post_json(&path, &json!({"reason": "under review"}), Some(&f.w.admin))
            .await;
    assert_eq!(res.status(), 200);
    let decision = f.decide("A.visa.multi_entry", &json!({})).await;
    assert_eq!(reason_codes(&decision), ["record_not_valid"]);
    assert_eq!(decision["record_status"], "suspended");
}

#[tokio::test]
async fn every_missing_fact_is_named_in_one_422_and_conditions_are_never_asked_for() {
    let f = fixture().await;
    f.reset();
    for service in &table(&f).await {
        let full = passing_facts(service);
        let names: Vec<String> = full.as_object().unwrap().keys().cloned().collect();
        if names.is_empty() {
            assert_eq!(f.ask(code(service), &json!({})).await.status(), 200);
            continue;
        }
        for name in &names {
            let mut facts = full.clone();
            facts.as_object_mut().unwrap().remove(name);
            if name == "science_or_engineering_degree" {
                // Needed only when the series sought is engineering; this one is accounting.
                assert_eq!(f.ask(code(service), &facts).await.status(), 200);
                continue;
            }
            let problem =
                assert_problem(f.ask(code(service), &facts).await, 422, "missing_facts").await;
            assert_eq!(problem["errors"][0]["field"], format!("facts.{name}"));
        }
        let problem =
            assert_problem(f.ask(code(service), &json!({})).await, 422, "missing_facts").await;
        let fields: Vec<String> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                e["field"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("facts.")
                    .to_owned()
            })
            .collect();
        // science_or_engineering_degree is needed only for the engineering series.
        let expected: Vec<String> = names
            .iter()
            .filter(|n| *n != "science_or_engineering_degree")
            .cloned()
            .collect();
        let mut sorted = fields.clone();
        sorted.sort();
        let mut expected_sorted = expected.clone();
        expected_sorted.sort();
        assert_eq!(sorted, expected_sorted, "{}", code(service));
    }
}
