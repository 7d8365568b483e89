//! Decisions through [`decide`], with the fixtures they share.

mod listing;
mod professional_title;
mod services;
mod table;

use chrono::NaiveDate;

use super::*;
use crate::domain::qualification::{Category, EquivalenceBenefit, TitleLevel};
use crate::domain::IdentityKind;
use serde_json::Value;

fn table() -> PolicyTable {
    PolicyTable::embedded().unwrap()
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
}

fn passing_subject() -> Subject {
    Subject {
        holder: HolderProfile {
            identity_kind: IdentityKind::ForeignNational,
            shanghai_hukou: false,
            date_of_birth: NaiveDate::from_ymd_opt(1980, 4, 2).unwrap(),
        },
        qualification: QualificationProfile {
            categories: Category::ALL.into(),
            listed: true,
            title_series: Some("accounting".into()),
            title_level: Some(TitleLevel::Intermediate),
            equivalences: vec![Equivalence {
                domestic: "Certified Public Accountant (CPA)".into(),
                domestic_kind: "qualification".into(),
                benefits: vec![EquivalenceBenefit::FewerExamSubjects],
                detail: Some("Exempt from Accounting and Audit".into()),
            }],
        },
        record_status: RecordStatus::Valid,
        today: today(),
    }
}

fn title_facts() -> Facts {
    Facts {
        degree: Some(Degree::Bachelor),
        relevant_experience_years: Years::new(6.0),
        shanghai_experience_years: Years::new(1.0),
        science_or_engineering_degree: None,
        title_series: Some("accounting".into()),
        title_level: Some(TitleLevel::Intermediate),
        employer_type: Some(EmployerType::Enterprise),
        permit_category: None,
    }
}

fn passing_facts(code: ServiceCode) -> Facts {
    use ServiceCode::*;
    match code {
        AWorkPermit => Facts {
            permit_category: Some(PermitCategory::B),
            ..Facts::default()
        },
        CProfessionalTitle => title_facts(),
        AVisaMultiEntry
        | AResidencePermitWork
        | AResidencePoints
        | ATalentResidenceExtraPoints
        | AOverseasExperience
        | ALocalSupport
        | BWorkPermitHighEnd
        | BPermanentResidence
        | BVisaMultiEntry
        | BVisaTalentR
        | BResidencePermitEntrepreneurship
        | BTalentIntroduction
        | BLocalSupport
        | DMutualRecognition => Facts::default(),
    }
}

fn run(service: &Service, subject: &Subject, facts: &Facts) -> Decision {
    decide(&table(), service.code.as_str(), subject, facts)
        .unwrap_or_else(|e| panic!("{}: {e}", service.code))
}

fn reason_codes(decision: &Decision) -> Vec<ReasonCode> {
    decision.reasons.iter().map(|r| r.code).collect()
}

/// Not eligible for exactly this reason (informational services: `null`, same reason).
fn assert_refused(service: &Service, subject: &Subject, facts: &Facts, expected: ReasonCode) {
    let decision = run(service, subject, facts);
    let eligible = (!service.informational).then_some(false);
    assert_eq!(decision.eligible, eligible, "{}", service.code);
    assert_eq!(reason_codes(&decision), [expected], "{}", service.code);
}

fn assert_passes(service: &Service, subject: &Subject, facts: &Facts) -> Decision {
    let decision = run(service, subject, facts);
    let eligible = (!service.informational).then_some(true);
    assert_eq!(decision.eligible, eligible, "{}", service.code);
    assert_eq!(decision.reasons, [], "{}", service.code);
    decision
}
