//! Decisions for every service of the table: one subject and facts that pass, then each
//! rule that applies to the service broken on its own. The cases are generated from the
//! table, so a service added to it is tested the moment it has a passing fixture — and
//! `passing_facts` has no catch-all arm, so it cannot be added without one.

use chrono::{Datelike, NaiveDate};

use super::*;
use crate::domain::IdentityKind;

#[test]
fn every_service_has_a_subject_and_facts_that_pass() {
    let table = table();
    for service in table.services() {
        let decision = assert_passes(service, &passing_subject(), &passing_facts(service.code));
        assert_eq!(decision.service, service.code);
        assert_eq!(decision.record_status, RecordStatus::Valid);
        assert_eq!(decision.policy_version, table.policy_version());
    }
}

#[test]
fn a_suspended_revoked_or_expired_record_opens_no_service() {
    for service in table().services() {
        for status in [
            RecordStatus::Suspended,
            RecordStatus::Revoked,
            RecordStatus::Expired,
        ] {
            let subject = Subject {
                record_status: status,
                ..passing_subject()
            };
            let facts = passing_facts(service.code);
            assert_refused(service, &subject, &facts, ReasonCode::RecordNotValid);
            assert_eq!(run(service, &subject, &facts).record_status, status);
        }
    }
}

#[test]
fn a_qualification_removed_from_the_list_opens_no_service() {
    for service in table().services() {
        let mut subject = passing_subject();
        subject.qualification.listed = false;
        let facts = passing_facts(service.code);
        assert_refused(service, &subject, &facts, ReasonCode::QualificationDelisted);
    }
}

#[test]
fn a_qualification_outside_the_services_category_opens_nothing_there() {
    for service in table().services() {
        let mut subject = passing_subject();
        subject.qualification.categories.remove(&service.category);
        let facts = passing_facts(service.code);
        assert_refused(service, &subject, &facts, ReasonCode::CategoryMismatch);
    }
}

#[test]
fn only_the_identity_kinds_a_service_names_may_use_it() {
    let kinds = [
        IdentityKind::ForeignNational,
        IdentityKind::HkMoTw,
        IdentityKind::Mainland,
    ];
    for service in table().services() {
        for kind in kinds {
            let mut subject = passing_subject();
            subject.holder.identity_kind = kind;
            let facts = passing_facts(service.code);
            if service.who.identity_kinds.contains(&kind) {
                assert_passes(service, &subject, &facts);
            } else {
                assert_refused(
                    service,
                    &subject,
                    &facts,
                    ReasonCode::IdentityKindNotAllowed,
                );
            }
        }
    }
}

#[test]
fn shanghai_household_registration_bars_only_the_services_that_say_so() {
    let mut barred = Vec::new();
    for service in table().services() {
        let mut subject = passing_subject();
        subject.holder.identity_kind = IdentityKind::Mainland;
        subject.holder.shanghai_hukou = true;
        if !service.who.identity_kinds.contains(&IdentityKind::Mainland) {
            continue;
        }
        let facts = passing_facts(service.code);
        if service.who.shanghai_hukou == Some(false) {
            assert_refused(service, &subject, &facts, ReasonCode::HasShanghaiHukou);
            barred.push(service.code.as_str());
        } else {
            assert_passes(service, &subject, &facts);
        }
    }
    assert_eq!(barred, ["A.residence_points"]);
}

#[test]
fn talent_residence_points_are_for_foreign_nationals_and_hk_mo_tw_professionals() {
    let table = table();
    let service = table
        .service(ServiceCode::ATalentResidenceExtraPoints)
        .unwrap();
    assert_eq!(
        service.who.identity_kinds,
        [IdentityKind::ForeignNational, IdentityKind::HkMoTw]
    );
}

fn born_years_before(today: NaiveDate, years: i32, days_later: i64) -> NaiveDate {
    today.with_year(today.year() - years).unwrap() + chrono::Duration::days(days_later)
}

#[test]
fn an_age_limit_admits_its_last_year_and_refuses_the_day_after() {
    let mut limited = Vec::new();
    for service in table().services() {
        let facts = passing_facts(service.code);
        let limits = rules::limits(service, &passing_subject(), &facts);
        let mut subject = passing_subject();
        let Some(max) = limits.get("age_max").and_then(Value::as_u64) else {
            // No age limit: a centenarian passes.
            subject.holder.date_of_birth = born_years_before(today(), 100, 0);
            assert_passes(service, &subject, &facts);
            continue;
        };
        limited.push(service.code.as_str());
        let max = i32::try_from(max).unwrap();
        subject.holder.date_of_birth = born_years_before(today(), max, 0);
        assert_passes(service, &subject, &facts);
        subject.holder.date_of_birth = born_years_before(today(), max + 1, 1);
        assert_passes(service, &subject, &facts);
        subject.holder.date_of_birth = born_years_before(today(), max + 1, 0);
        assert_refused(service, &subject, &facts, ReasonCode::AgeOverLimit);
    }
    assert_eq!(limited, ["A.work_permit"]);
}

#[test]
fn a_holder_born_1956_11_26_is_70_and_within_the_professional_talent_limit() {
    let mut subject = passing_subject();
    subject.holder.date_of_birth = NaiveDate::from_ymd_opt(1956, 11, 26).unwrap();
    let facts = passing_facts(ServiceCode::AWorkPermit);
    let decision = decide(&table(), "A.work_permit", &subject, &facts).unwrap();
    assert_eq!(decision.eligible, Some(true));
    assert_eq!(decision.limits["age_max"], 70);
}

#[test]
fn every_needed_fact_left_out_is_named_and_all_of_them_at_once() {
    for service in table().services() {
        let full = passing_facts(service.code);
        let given: Vec<FactName> = service
            .facts
            .iter()
            .copied()
            .filter(|f| full.has(*f))
            .collect();
        for fact in &given {
            let facts = without(&full, *fact);
            assert_eq!(
                decide(&table(), service.code.as_str(), &passing_subject(), &facts),
                Err(DecideError::MissingFacts(vec![fact.as_str().to_owned()])),
                "{}",
                service.code
            );
        }
        let all: Vec<String> = given.iter().map(|f| f.as_str().to_owned()).collect();
        let outcome = decide(
            &table(),
            service.code.as_str(),
            &passing_subject(),
            &Facts::default(),
        );
        if all.is_empty() {
            assert!(outcome.is_ok(), "{}", service.code);
        } else {
            assert_eq!(outcome, Err(DecideError::MissingFacts(all)));
        }
    }
}

fn without(facts: &Facts, name: FactName) -> Facts {
    let mut facts = facts.clone();
    match name {
        FactName::Degree => facts.degree = None,
        FactName::RelevantExperienceYears => facts.relevant_experience_years = None,
        FactName::ShanghaiExperienceYears => facts.shanghai_experience_years = None,
        FactName::ScienceOrEngineeringDegree => facts.science_or_engineering_degree = None,
        FactName::TitleSeries => facts.title_series = None,
        FactName::TitleLevel => facts.title_level = None,
        FactName::EmployerType => facts.employer_type = None,
        FactName::PermitCategory => facts.permit_category = None,
    }
    facts
}

#[test]
fn when_the_profile_already_refuses_missing_facts_are_not_asked_for() {
    let subject = Subject {
        record_status: RecordStatus::Revoked,
        ..passing_subject()
    };
    let decision = decide(
        &table(),
        "C.professional_title",
        &subject,
        &Facts::default(),
    )
    .unwrap();
    assert_eq!(decision.eligible, Some(false));
    assert_eq!(reason_codes(&decision), [ReasonCode::RecordNotValid]);
}

#[test]
fn conditions_and_limits_of_the_table_are_always_returned_and_never_demanded() {
    for service in table().services() {
        let decision = run(service, &passing_subject(), &passing_facts(service.code));
        for condition in service.conditions.iter().filter(|c| c.when.is_none()) {
            assert!(
                decision.conditions.iter().any(|c| c.code == condition.code),
                "{} lacks {}",
                service.code,
                condition.code
            );
        }
        for (name, value) in &service.limits {
            assert_eq!(decision.limits.get(name), Some(value), "{}", service.code);
        }
    }
}

#[test]
fn the_visas_and_permits_carry_their_validity_limits() {
    let limits = |code: &str, facts: &Facts| {
        decide(&table(), code, &passing_subject(), facts)
            .unwrap()
            .limits
    };
    let none = Facts::default();
    assert_eq!(limits("A.visa.multi_entry", &none)["validity_years_max"], 5);
    assert_eq!(
        limits("A.residence_permit.work", &none)["validity_years_max"],
        5
    );
    assert_eq!(limits("B.visa.multi_entry", &none)["validity_years"], 5);
    assert_eq!(limits("B.visa.talent_r", &none)["validity_years_max"], 10);
    let high_end = Facts {
        permit_category: Some(PermitCategory::A),
        ..Facts::default()
    };
    let work_permit = limits("A.work_permit", &high_end);
    assert_eq!(work_permit["validity_years_max"], 5);
    assert!(!work_permit.contains_key("age_max"));
    assert!(limits("B.work_permit.high_end", &none).is_empty());
}

#[test]
fn a_high_end_work_permit_has_no_age_limit_even_under_a_but_professional_talent_does() {
    let mut subject = passing_subject();
    subject.holder.date_of_birth = NaiveDate::from_ymd_opt(1940, 1, 1).unwrap();
    let decide_for = |category| {
        let facts = Facts {
            permit_category: Some(category),
            ..Facts::default()
        };
        decide(&table(), "A.work_permit", &subject, &facts).unwrap()
    };
    assert_eq!(decide_for(PermitCategory::A).eligible, Some(true));
    let professional = decide_for(PermitCategory::B);
    assert_eq!(reason_codes(&professional), [ReasonCode::AgeOverLimit]);
    let high_end = decide(
        &table(),
        "B.work_permit.high_end",
        &subject,
        &Facts::default(),
    );
    assert_eq!(high_end.unwrap().eligible, Some(true));
}

#[test]
fn local_support_is_answered_with_null_and_its_text() {
    for code in ["A.local_support", "B.local_support"] {
        let decision = decide(&table(), code, &passing_subject(), &Facts::default()).unwrap();
        assert_eq!(decision.eligible, None);
        let json = serde_json::to_value(&decision).unwrap();
        assert_eq!(json["eligible"], Value::Null);
        let service = table().service(ServiceCode::parse(code).unwrap()).cloned();
        assert!(service
            .unwrap()
            .notice
            .contains("encouraged to provide additional support"));
    }
}

#[test]
fn mutual_recognition_returns_the_equivalences_with_their_benefits() {
    let subject = passing_subject();
    let decision = decide(
        &table(),
        "D.mutual_recognition",
        &subject,
        &Facts::default(),
    )
    .unwrap();
    assert_eq!(decision.eligible, Some(true));
    assert_eq!(
        decision.equivalences.as_deref(),
        Some(subject.qualification.equivalences.as_slice())
    );
    let json = serde_json::to_value(&decision).unwrap();
    assert_eq!(
        json["equivalences"][0]["benefits"][0],
        "fewer_exam_subjects"
    );

    let mut bare = passing_subject();
    bare.qualification.equivalences.clear();
    let decision = decide(&table(), "D.mutual_recognition", &bare, &Facts::default()).unwrap();
    assert_eq!(reason_codes(&decision), [ReasonCode::NoEquivalence]);
    assert_eq!(decision.equivalences, Some(vec![]));
    let other = decide(&table(), "A.visa.multi_entry", &subject, &Facts::default()).unwrap();
    assert!(!serde_json::to_value(other)
        .unwrap()
        .as_object()
        .unwrap()
        .contains_key("equivalences"));
}

#[test]
fn an_unknown_service_is_an_error_naming_it() {
    let outcome = decide(
        &table(),
        "A.free_lunch",
        &passing_subject(),
        &Facts::default(),
    );
    assert_eq!(
        outcome,
        Err(DecideError::UnknownService("A.free_lunch".into()))
    );
}

#[test]
fn the_answer_has_the_shape_design_md_fixes() {
    let decision = decide(
        &table(),
        "C.professional_title",
        &passing_subject(),
        &title_facts(),
    )
    .unwrap();
    let json = serde_json::to_value(&decision).unwrap();
    for key in [
        "eligible",
        "reasons",
        "limits",
        "conditions",
        "record_status",
        "policy_version",
    ] {
        assert!(json.get(key).is_some(), "no {key}");
    }
    assert_eq!(json["eligible"], true);
    assert_eq!(json["record_status"], "valid");
    assert_eq!(json["service"], "C.professional_title");
    assert_eq!(json["limits"]["title_level_max"], "intermediate");
}
