//! C.professional_title through `decide`: each rule of the title section broken on its
//! own, and the conditions that depend on the employer.

use super::*;

fn title(subject: &Subject, facts: &Facts) -> Result<Decision, DecideError> {
    decide(&table(), "C.professional_title", subject, facts)
}

fn refused_for(facts: &Facts) -> Vec<ReasonCode> {
    let decision = title(&passing_subject(), facts).unwrap();
    assert_eq!(decision.eligible, Some(false));
    reason_codes(&decision)
}

fn engineering_subject() -> Subject {
    let mut subject = passing_subject();
    subject.qualification.title_series = Some("engineering".into());
    subject
}

fn engineering_facts(science: Option<bool>) -> Facts {
    Facts {
        title_series: Some("engineering".into()),
        science_or_engineering_degree: science,
        ..title_facts()
    }
}

#[test]
fn bachelors_with_four_years_is_short_of_intermediate_and_five_is_enough() {
    let four = Facts {
        relevant_experience_years: Years::new(4.0),
        ..title_facts()
    };
    assert_eq!(refused_for(&four), [ReasonCode::InsufficientExperience]);
    let five = Facts {
        relevant_experience_years: Years::new(5.0),
        ..title_facts()
    };
    assert_eq!(
        title(&passing_subject(), &five).unwrap().eligible,
        Some(true)
    );
}

#[test]
fn less_than_a_year_of_relevant_work_in_shanghai_is_refused() {
    let facts = Facts {
        shanghai_experience_years: Years::new(0.5),
        ..title_facts()
    };
    assert_eq!(
        refused_for(&facts),
        [ReasonCode::InsufficientShanghaiExperience]
    );
}

#[test]
fn a_series_other_than_the_qualifications_is_refused() {
    let facts = Facts {
        title_series: Some("economics".into()),
        ..title_facts()
    };
    assert_eq!(refused_for(&facts), [ReasonCode::TitleSeriesMismatch]);
}

#[test]
fn a_level_above_the_mapped_one_is_refused_even_with_the_experience_for_it() {
    let facts = Facts {
        title_level: Some(TitleLevel::AssociateSenior),
        relevant_experience_years: Years::new(12.0),
        ..title_facts()
    };
    assert_eq!(refused_for(&facts), [ReasonCode::TitleLevelAboveMapping]);
    let lower = Facts {
        title_level: Some(TitleLevel::Junior),
        ..title_facts()
    };
    assert_eq!(
        title(&passing_subject(), &lower).unwrap().eligible,
        Some(true)
    );
}

#[test]
fn a_degree_below_a_bachelors_is_refused() {
    let facts = Facts {
        degree: Some(Degree::Other),
        ..title_facts()
    };
    assert_eq!(refused_for(&facts), [ReasonCode::DegreeNotQualifying]);
}

#[test]
fn an_engineering_title_needs_the_science_or_engineering_degree_fact_and_a_yes() {
    let subject = engineering_subject();
    assert_eq!(
        title(&subject, &engineering_facts(None)),
        Err(DecideError::MissingFacts(vec![
            "science_or_engineering_degree".into()
        ]))
    );
    let decision = title(&subject, &engineering_facts(Some(false))).unwrap();
    assert_eq!(
        reason_codes(&decision),
        [ReasonCode::DegreeNotScienceOrEngineering]
    );
    let decision = title(&subject, &engineering_facts(Some(true))).unwrap();
    assert_eq!(decision.eligible, Some(true));
}

#[test]
fn with_no_series_given_the_qualifications_engineering_series_asks_for_the_flag_too() {
    let facts = Facts {
        title_series: None,
        ..title_facts()
    };
    assert_eq!(
        title(&engineering_subject(), &facts),
        Err(DecideError::MissingFacts(vec![
            "science_or_engineering_degree".into(),
            "title_series".into()
        ]))
    );
}

#[test]
fn every_failing_rule_is_reported_together() {
    let facts = Facts {
        degree: Some(Degree::Bachelor),
        relevant_experience_years: Years::new(0.0),
        shanghai_experience_years: Years::new(0.0),
        title_series: Some("engineering".into()),
        science_or_engineering_degree: Some(false),
        title_level: Some(TitleLevel::AssociateSenior),
        ..title_facts()
    };
    assert_eq!(
        refused_for(&facts),
        [
            ReasonCode::InsufficientShanghaiExperience,
            ReasonCode::TitleSeriesMismatch,
            ReasonCode::TitleLevelAboveMapping,
            ReasonCode::DegreeNotScienceOrEngineering,
            ReasonCode::InsufficientExperience,
        ]
    );
}

#[test]
fn a_qualification_without_a_title_mapping_opens_no_title() {
    let mut subject = passing_subject();
    subject.qualification.title_level = None;
    let decision = title(&subject, &Facts::default()).unwrap();
    assert_eq!(reason_codes(&decision), [ReasonCode::NoTitleMapping]);
    assert!(!decision.limits.contains_key("title_level_max"));
}

fn condition_codes(employer: EmployerType) -> Vec<String> {
    let facts = Facts {
        employer_type: Some(employer),
        ..title_facts()
    };
    let decision = title(&passing_subject(), &facts).unwrap();
    assert_eq!(decision.eligible, Some(true));
    decision.conditions.into_iter().map(|c| c.code).collect()
}

#[test]
fn review_publicity_and_the_basic_requirements_are_always_conditions() {
    for employer in [
        EmployerType::Enterprise,
        EmployerType::PublicInstitution,
        EmployerType::Other,
    ] {
        let codes = condition_codes(employer);
        for code in [
            "basic_requirement.law",
            "basic_requirement.ethics",
            "basic_requirement.competence",
            "basic_requirement.overseas_experience",
            "employer_review_and_publicity",
        ] {
            assert!(codes.iter().any(|c| c == code), "{employer:?} lacks {code}");
        }
    }
}

#[test]
fn a_public_institution_adds_its_supervising_authority_and_post_rules() {
    let public = condition_codes(EmployerType::PublicInstitution);
    let enterprise = condition_codes(EmployerType::Enterprise);
    for code in [
        "supervising_authority_recommendation",
        "post_management_rules",
    ] {
        assert!(public.iter().any(|c| c == code));
        assert!(!enterprise.iter().any(|c| c == code));
    }
    assert_eq!(public.len(), enterprise.len() + 2);
}

#[test]
fn publicity_is_at_least_five_working_days() {
    let table = table();
    let service = table.service(ServiceCode::CProfessionalTitle).unwrap();
    let publicity = service
        .conditions
        .iter()
        .find(|c| c.code == "employer_review_and_publicity")
        .unwrap();
    assert!(publicity.message.contains("at least 5 working days"));
}
