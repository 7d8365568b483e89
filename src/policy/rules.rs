//! The rules every service shares, and which facts, limits and conditions a service has.
//! Each rule answers `None` when it passes and the reason when it does not.

use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::facts::{FactName, Facts};
use super::service_code::ServiceCode;
use super::subject::{HolderProfile, QualificationProfile, RecordStatus, Subject};
use super::table::{Service, Who};
use super::title;
use super::{Condition, Reason, ReasonCode};
use crate::domain::qualification::Category;

/// Every fact a service's rules may read. The table's `facts` must list exactly these.
pub(crate) fn facts_used(code: ServiceCode) -> &'static [FactName] {
    match code {
        ServiceCode::AWorkPermit => &[FactName::PermitCategory],
        ServiceCode::CProfessionalTitle => title::FACTS,
        _ => &[],
    }
}

/// The facts this particular request needs, in DESIGN.md's order.
pub(crate) fn facts_needed(code: ServiceCode, subject: &Subject, facts: &Facts) -> Vec<FactName> {
    match code {
        ServiceCode::CProfessionalTitle => title::facts_needed(&subject.qualification, facts),
        other => facts_used(other).to_vec(),
    }
}

/// The table's limits, plus those of the permit category where the fact is given, plus,
/// for professional titles, the highest level the qualification maps to.
pub(crate) fn limits(service: &Service, subject: &Subject, facts: &Facts) -> Map<String, Value> {
    let mut limits = service.limits.clone();
    if let Some(extra) = facts
        .permit_category
        .and_then(|c| service.limits_by_permit_category.get(&c))
    {
        limits.extend(extra.clone());
    }
    if let (ServiceCode::CProfessionalTitle, Some(level)) =
        (service.code, subject.qualification.title_level)
    {
        limits.insert("title_level_max".into(), level.as_str().into());
    }
    limits
}

/// The service's conditions that apply under these facts. A condition tied to a fact
/// value (a public institution's) is returned only when the fact has that value.
pub(crate) fn conditions(service: &Service, facts: &Facts) -> Vec<Condition> {
    service
        .conditions
        .iter()
        .filter(|c| match c.when.as_ref().and_then(|w| w.employer_type) {
            Some(employer) => facts.employer_type == Some(employer),
            None => true,
        })
        .map(|c| Condition {
            code: c.code.clone(),
            message: c.message.clone(),
        })
        .collect()
}

/// Everything decidable from the platform's own data, before any fact: when one of these
/// fails, no fact can make the holder eligible.
pub(crate) fn profile_reasons(
    service: &Service,
    subject: &Subject,
    limits: &Map<String, Value>,
) -> Vec<Reason> {
    let holder = &subject.holder;
    let qualification = &subject.qualification;
    let specific = match service.code {
        ServiceCode::CProfessionalTitle => title::has_mapping(qualification),
        ServiceCode::DMutualRecognition => has_equivalence(qualification),
        _ => None,
    };
    [
        record_is_valid(subject.record_status),
        is_listed(qualification),
        in_category(qualification, service.category),
        identity_kind_allowed(&service.who, holder),
        hukou_allowed(&service.who, holder),
        within_age(limits, holder, subject.today),
        specific,
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The rules that read the agency's facts; called only once every needed fact is present.
pub(crate) fn fact_reasons(code: ServiceCode, subject: &Subject, facts: &Facts) -> Vec<Reason> {
    match code {
        ServiceCode::CProfessionalTitle => title::reasons(&subject.qualification, facts),
        _ => Vec::new(),
    }
}

pub(crate) fn record_is_valid(status: RecordStatus) -> Option<Reason> {
    (status != RecordStatus::Valid).then(|| {
        Reason::new(
            ReasonCode::RecordNotValid,
            format!(
                "The record is {}; only a valid record opens a service.",
                status.as_str()
            ),
        )
    })
}

pub(crate) fn is_listed(qualification: &QualificationProfile) -> Option<Reason> {
    (!qualification.listed).then(|| {
        Reason::new(
            ReasonCode::QualificationDelisted,
            "The qualification has been removed from the list.",
        )
    })
}

pub(crate) fn in_category(
    qualification: &QualificationProfile,
    category: Category,
) -> Option<Reason> {
    (!qualification.categories.contains(&category)).then(|| {
        let held: Vec<&str> = qualification
            .categories
            .iter()
            .map(|c| c.as_str())
            .collect();
        Reason::new(
            ReasonCode::CategoryMismatch,
            format!(
                "The service is for category {} qualifications; this one is in [{}].",
                category.as_str(),
                held.join(", ")
            ),
        )
    })
}

pub(crate) fn identity_kind_allowed(who: &Who, holder: &HolderProfile) -> Option<Reason> {
    (!who.identity_kinds.contains(&holder.identity_kind)).then(|| {
        let allowed: Vec<&str> = who.identity_kinds.iter().map(|k| k.as_str()).collect();
        Reason::new(
            ReasonCode::IdentityKindNotAllowed,
            format!(
                "The service is for {}; the holder is {}.",
                allowed.join(", "),
                holder.identity_kind.as_str()
            ),
        )
    })
}

pub(crate) fn hukou_allowed(who: &Who, holder: &HolderProfile) -> Option<Reason> {
    match who.shanghai_hukou {
        Some(false) if holder.shanghai_hukou => Some(Reason::new(
            ReasonCode::HasShanghaiHukou,
            "The service is for people without Shanghai household registration.",
        )),
        Some(true) if !holder.shanghai_hukou => Some(Reason::new(
            ReasonCode::LacksShanghaiHukou,
            "The service is for people with Shanghai household registration.",
        )),
        _ => None,
    }
}

/// `age_max` is inclusive and in completed years: someone aged 70 is within 70.
pub(crate) fn within_age(
    limits: &Map<String, Value>,
    holder: &HolderProfile,
    today: NaiveDate,
) -> Option<Reason> {
    let max = limits.get("age_max").and_then(Value::as_u64)?;
    let age = holder.age_on(today);
    (u64::from(age) > max).then(|| {
        Reason::new(
            ReasonCode::AgeOverLimit,
            format!("The holder is {age} in completed years; the limit is {max}."),
        )
    })
}

pub(crate) fn has_equivalence(qualification: &QualificationProfile) -> Option<Reason> {
    qualification.equivalences.is_empty().then(|| {
        Reason::new(
            ReasonCode::NoEquivalence,
            "The qualification has no recognized domestic equivalence.",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::IdentityKind;

    fn holder(kind: IdentityKind, hukou: bool) -> HolderProfile {
        HolderProfile {
            identity_kind: kind,
            shanghai_hukou: hukou,
            date_of_birth: NaiveDate::from_ymd_opt(1980, 1, 1).unwrap(),
        }
    }

    fn who(kinds: &[IdentityKind], hukou: Option<bool>) -> Who {
        Who {
            identity_kinds: kinds.to_vec(),
            shanghai_hukou: hukou,
        }
    }

    fn code_of(reason: Option<Reason>) -> Option<ReasonCode> {
        reason.map(|r| r.code)
    }

    #[test]
    fn only_a_valid_record_passes() {
        assert_eq!(record_is_valid(RecordStatus::Valid), None);
        for status in [
            RecordStatus::Suspended,
            RecordStatus::Revoked,
            RecordStatus::Expired,
        ] {
            let reason = record_is_valid(status).unwrap();
            assert_eq!(reason.code, ReasonCode::RecordNotValid);
            assert!(reason.message.contains(status.as_str()));
        }
    }

    #[test]
    fn the_identity_kind_must_be_one_the_service_names() {
        let foreign_only = who(&[IdentityKind::ForeignNational], None);
        let foreign = holder(IdentityKind::ForeignNational, false);
        let from_hong_kong = holder(IdentityKind::HkMoTw, false);
        assert_eq!(identity_kind_allowed(&foreign_only, &foreign), None);
        assert_eq!(
            code_of(identity_kind_allowed(&foreign_only, &from_hong_kong)),
            Some(ReasonCode::IdentityKindNotAllowed)
        );
    }

    #[test]
    fn a_hukou_requirement_is_checked_both_ways_and_absent_means_anyone() {
        let kinds = [IdentityKind::Mainland];
        let with = holder(IdentityKind::Mainland, true);
        let without = holder(IdentityKind::Mainland, false);
        assert_eq!(
            code_of(hukou_allowed(&who(&kinds, Some(false)), &with)),
            Some(ReasonCode::HasShanghaiHukou)
        );
        assert_eq!(hukou_allowed(&who(&kinds, Some(false)), &without), None);
        assert_eq!(
            code_of(hukou_allowed(&who(&kinds, Some(true)), &without)),
            Some(ReasonCode::LacksShanghaiHukou)
        );
        assert_eq!(hukou_allowed(&who(&kinds, None), &with), None);
    }

    #[test]
    fn age_max_is_inclusive_in_completed_years_on_both_sides_of_the_71st_birthday() {
        let limits: Map<String, Value> = serde_json::from_str(r#"{"age_max": 70}"#).unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let born = |y, m, d| HolderProfile {
            date_of_birth: NaiveDate::from_ymd_opt(y, m, d).unwrap(),
            ..holder(IdentityKind::ForeignNational, false)
        };
        assert_eq!(within_age(&limits, &born(1956, 11, 26), today), None);
        assert_eq!(within_age(&limits, &born(1955, 11, 27), today), None);
        let reason = within_age(&limits, &born(1955, 11, 26), today).unwrap();
        assert_eq!(reason.code, ReasonCode::AgeOverLimit);
        assert!(reason.message.contains("71"), "{}", reason.message);
        assert_eq!(within_age(&Map::new(), &born(1900, 1, 1), today), None);
    }

    #[test]
    fn no_equivalence_is_a_reason_and_one_is_enough() {
        use crate::domain::qualification::{Equivalence, EquivalenceBenefit};
        let mut qualification = QualificationProfile {
            categories: [Category::D].into(),
            listed: true,
            title_series: None,
            title_level: None,
            equivalences: vec![],
        };
        assert_eq!(
            code_of(has_equivalence(&qualification)),
            Some(ReasonCode::NoEquivalence)
        );
        qualification.equivalences.push(Equivalence {
            domestic: "Certified Public Accountant".into(),
            domestic_kind: "qualification".into(),
            benefits: vec![EquivalenceBenefit::ExemptedCourses],
            detail: None,
        });
        assert_eq!(has_equivalence(&qualification), None);
    }
}
