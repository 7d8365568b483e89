//! The services of a record, decided without facts.

use super::*;

#[test]
fn every_service_of_the_records_categories_is_listed_in_the_tables_order() {
    let table = table();
    let mut subject = passing_subject();
    subject.qualification.categories = [Category::C, Category::D].into();
    let listing = record_services(&table, "r1", &subject);
    let codes: Vec<&str> = listing.items.iter().map(|i| i.service.as_str()).collect();
    assert_eq!(codes, ["C.professional_title", "D.mutual_recognition"]);
    assert_eq!(listing.record_id, "r1");
    assert_eq!(listing.policy_version, table.policy_version());
}

#[test]
fn a_service_that_reads_facts_names_them_and_the_others_are_decided() {
    let listing = record_services(&table(), "r1", &passing_subject());
    assert_eq!(listing.items.len(), 16);
    for item in &listing.items {
        let service = table().service(item.service).cloned().unwrap();
        let expected = if service.informational {
            Outcome::Informational
        } else if service.facts.is_empty() {
            Outcome::Eligible
        } else {
            Outcome::NeedsFacts
        };
        assert_eq!(item.outcome, expected, "{}", item.service);
        assert_eq!(item.needs_facts.is_empty(), expected != Outcome::NeedsFacts);
    }
    let permit = listing
        .items
        .iter()
        .find(|i| i.service == ServiceCode::AWorkPermit)
        .unwrap();
    assert_eq!(permit.needs_facts, ["permit_category"]);
    assert_eq!(permit.eligible, None);
}

#[test]
fn a_refusal_from_the_platforms_data_needs_no_facts() {
    let subject = Subject {
        record_status: RecordStatus::Revoked,
        ..passing_subject()
    };
    for item in record_services(&table(), "r1", &subject).items {
        assert!(
            matches!(item.outcome, Outcome::NotEligible | Outcome::Informational),
            "{}",
            item.service
        );
        assert_eq!(reason_codes_of(&item.reasons), [ReasonCode::RecordNotValid]);
        assert!(item.needs_facts.is_empty());
    }
}

fn reason_codes_of(reasons: &[Reason]) -> Vec<ReasonCode> {
    reasons.iter().map(|r| r.code).collect()
}
