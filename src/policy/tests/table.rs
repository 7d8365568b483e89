//! Loading and validating the services table: each entry that is wrong is refused by name.

use std::path::Path;

use super::*;
use crate::domain::qualification::Category;

fn embedded_json() -> Value {
    serde_json::to_value(table()).unwrap()
}

fn load(json: &Value) -> Result<PolicyTable, TableError> {
    PolicyTable::from_json(&json.to_string())
}

fn entry_error(json: &Value) -> (String, String) {
    match load(json) {
        Err(TableError::Entry { entry, problem }) => (entry, problem),
        other => panic!("expected an entry error, got {other:?}"),
    }
}

#[test]
fn the_embedded_table_loads_with_every_fixed_service_in_order() {
    let table = PolicyTable::embedded().unwrap();
    assert_eq!(table.policy_version(), "2026-11-26.1");
    assert_eq!(table.source().list_version, "3.0");
    let codes: Vec<ServiceCode> = table.services().iter().map(|s| s.code).collect();
    assert_eq!(codes, ServiceCode::ALL);
    assert_eq!(table.services_in(Category::C).count(), 1);
    assert_eq!(table.services_in(Category::B).count(), 7);
}

#[test]
fn every_notice_sentence_is_quoted_verbatim_from_the_notice() {
    let notice = include_str!("../notice-3.0.txt");
    let table = PolicyTable::embedded().unwrap();
    let mut quotes = vec![table.source().note.clone().unwrap()];
    for service in table.services() {
        quotes.push(service.notice.clone());
        quotes.extend(service.conditions.iter().filter_map(|c| c.notice.clone()));
    }
    for quote in quotes {
        assert!(notice.contains(&quote), "not in the notice: {quote}");
    }
}

#[test]
fn the_table_serializes_back_to_a_table_that_loads_the_same() {
    let table = PolicyTable::embedded().unwrap();
    let again = PolicyTable::from_json(&serde_json::to_string(&table).unwrap()).unwrap();
    assert_eq!(again, table);
}

#[test]
fn a_file_named_in_configuration_replaces_the_embedded_table() {
    let mut json = embedded_json();
    json["policy_version"] = "2027-01-01.1".into();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), json.to_string()).unwrap();
    let table = PolicyTable::from_path(file.path()).unwrap();
    assert_eq!(table.policy_version(), "2027-01-01.1");
}

#[test]
fn a_missing_file_is_an_error_naming_the_path() {
    let error = PolicyTable::from_path(Path::new("/nonexistent/services.json")).unwrap_err();
    assert!(error.to_string().contains("/nonexistent/services.json"));
}

#[test]
fn an_unknown_service_code_is_refused_naming_the_entry() {
    let mut json = embedded_json();
    json["services"][3]["code"] = "A.free_lunch".into();
    let (entry, problem) = entry_error(&json);
    assert_eq!(entry, "services[3] (A.free_lunch)");
    assert!(problem.contains("unknown service code"), "{problem}");
}

#[test]
fn an_unknown_category_is_refused_naming_the_entry() {
    let mut json = embedded_json();
    json["services"][0]["category"] = "E".into();
    let (entry, _) = entry_error(&json);
    assert_eq!(entry, "services[0] (A.visa.multi_entry)");
}

#[test]
fn a_category_other_than_the_codes_is_refused() {
    let mut json = embedded_json();
    json["services"][0]["category"] = "B".into();
    let (entry, problem) = entry_error(&json);
    assert_eq!(entry, "services[0] (A.visa.multi_entry)");
    assert!(problem.contains("category B"), "{problem}");
}

#[test]
fn a_duplicate_code_is_refused_naming_the_entry() {
    let mut json = embedded_json();
    json["services"][1]["code"] = "A.visa.multi_entry".into();
    let (entry, problem) = entry_error(&json);
    assert_eq!(entry, "services[1] (A.visa.multi_entry)");
    assert_eq!(problem, "duplicate service code");
}

#[test]
fn an_unknown_fact_name_is_refused_naming_the_entry() {
    let mut json = embedded_json();
    json["services"][14]["facts"][0] = "degre".into();
    let (entry, problem) = entry_error(&json);
    assert_eq!(entry, "services[14] (C.professional_title)");
    assert!(problem.contains("degre"), "{problem}");
}

#[test]
fn facts_other_than_those_the_rules_read_are_refused() {
    let mut json = embedded_json();
    json["services"][0]["facts"] = serde_json::json!(["degree"]);
    let (_, problem) = entry_error(&json);
    assert!(
        problem.contains("exactly those its rules read"),
        "{problem}"
    );
    let mut json = embedded_json();
    json["services"][2]["facts"] = serde_json::json!(["permit_category", "permit_category"]);
    entry_error(&json);
    let mut json = embedded_json();
    json["services"][2]["facts"] = serde_json::json!([]);
    entry_error(&json);
}

#[test]
fn an_unknown_or_mistyped_limit_is_refused() {
    let mut json = embedded_json();
    json["services"][0]["limits"] = serde_json::json!({"validity_yeras_max": 5});
    assert!(entry_error(&json).1.contains("unknown limit"));
    let mut json = embedded_json();
    json["services"][2]["limits_by_permit_category"]["B"] = serde_json::json!({"age_max": -1});
    assert!(entry_error(&json).1.contains("wrong kind"));
}

#[test]
fn an_unknown_field_or_identity_kind_is_refused() {
    let mut json = embedded_json();
    json["services"][0]["limts"] = serde_json::json!({});
    entry_error(&json);
    let mut json = embedded_json();
    json["services"][0]["who"]["identity_kinds"] = serde_json::json!(["martian"]);
    entry_error(&json);
    let mut json = embedded_json();
    json["services"][0]["who"]["identity_kinds"] = serde_json::json!([]);
    entry_error(&json);
}

#[test]
fn informational_must_match_the_service() {
    let mut json = embedded_json();
    json["services"][0]["informational"] = true.into();
    assert!(entry_error(&json).1.contains("informational"));
}

#[test]
fn conditions_need_unique_codes_and_their_when_fact() {
    let mut json = embedded_json();
    json["services"][12]["conditions"][1]["code"] = "shanghai_employer".into();
    assert!(entry_error(&json).1.contains("twice"));
    let mut json = embedded_json();
    json["services"][12]["conditions"][1]["when"] =
        serde_json::json!({"employer_type": "public_institution"});
    assert!(entry_error(&json).1.contains("employer_type"));
}

#[test]
fn a_table_missing_a_service_or_a_version_is_refused() {
    let mut json = embedded_json();
    json["services"].as_array_mut().unwrap().remove(10);
    let error = load(&json).unwrap_err().to_string();
    assert!(
        error.contains("missing services: B.visa.talent_r"),
        "{error}"
    );
    let mut json = embedded_json();
    json["policy_version"] = " ".into();
    assert!(load(&json).is_err());
    assert!(matches!(
        PolicyTable::from_json("{"),
        Err(TableError::Shape(_))
    ));
}
