//! Category C: direct application for a professional title ("Supporting certificate
//! holders in assessment and recognition of professional titles" in the notice).

use super::facts::{Degree, FactName, Facts, Years};
use super::subject::QualificationProfile;
use super::{Reason, ReasonCode};
use crate::domain::qualification::TitleLevel;

/// The title series whose titles need a science or engineering degree ("engineering and
/// technical titles at all levels"). Series are slugs, as in the registry.
pub const ENGINEERING_SERIES: &str = "engineering";

/// "At least one year of relevant work experience in Shanghai".
pub const SHANGHAI_EXPERIENCE_YEARS_MIN: u32 = 1;

pub(crate) const FACTS: &[FactName] = &[
    FactName::Degree,
    FactName::RelevantExperienceYears,
    FactName::ShanghaiExperienceYears,
    FactName::ScienceOrEngineeringDegree,
    FactName::TitleSeries,
    FactName::TitleLevel,
    FactName::EmployerType,
];

/// Years of relevant work a degree needs for a level; `None`: the degree never qualifies.
///
/// | level            | doctorate | master's / second bachelor's | bachelor's |
/// |------------------|-----------|------------------------------|------------|
/// | junior           | 0 (any)   | 0                            | 1          |
/// | intermediate     | 0         | 2                            | 5          |
/// | associate senior | 2         | 7                            | 10         |
pub fn required_experience_years(level: TitleLevel, degree: Degree) -> Option<u32> {
    let (doctorate, master, bachelor) = match level {
        TitleLevel::Junior => (0, 0, 1),
        TitleLevel::Intermediate => (0, 2, 5),
        TitleLevel::AssociateSenior => (2, 7, 10),
    };
    match degree {
        // "A doctorate meets every line that a master's degree meets."
        Degree::Doctorate => Some(u32::min(doctorate, master)),
        Degree::Master | Degree::SecondBachelor => Some(master),
        Degree::Bachelor => Some(bachelor),
        Degree::Other => None,
    }
}

/// Series are compared without regard to ASCII case or surrounding space, since they are
/// slugs typed by admins and agencies alike.
fn same_series(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

fn is_engineering(series: &str) -> bool {
    same_series(series, ENGINEERING_SERIES)
}

/// `science_or_engineering_degree` matters only for the engineering series, so it is
/// needed only then. When the series sought is itself missing, the qualification's series
/// stands in — only that series can pass — so that every missing fact is named at once.
pub(crate) fn facts_needed(qualification: &QualificationProfile, facts: &Facts) -> Vec<FactName> {
    let series = facts
        .title_series
        .as_deref()
        .or(qualification.title_series.as_deref());
    let engineering = series.is_some_and(is_engineering);
    FACTS
        .iter()
        .copied()
        .filter(|f| *f != FactName::ScienceOrEngineeringDegree || engineering)
        .collect()
}

/// A qualification without a title series and level cannot be matched to any title.
pub(crate) fn has_mapping(qualification: &QualificationProfile) -> Option<Reason> {
    (qualification.title_series.is_none() || qualification.title_level.is_none()).then(|| {
        Reason::new(
            ReasonCode::NoTitleMapping,
            "The qualification is not mapped to a professional-title series and level.",
        )
    })
}

pub(crate) fn reasons(qualification: &QualificationProfile, facts: &Facts) -> Vec<Reason> {
    let mut reasons = Vec::new();
    if let Some(years) = facts.shanghai_experience_years {
        reasons.extend(shanghai_experience(years));
    }
    if let (Some(own), Some(sought)) = (&qualification.title_series, &facts.title_series) {
        reasons.extend(series_matches(own, sought));
    }
    if let (Some(mapped), Some(sought)) = (qualification.title_level, facts.title_level) {
        reasons.extend(level_within_mapping(mapped, sought));
    }
    if let Some(sought) = &facts.title_series {
        reasons.extend(engineering_degree(
            sought,
            facts.science_or_engineering_degree,
        ));
    }
    if let (Some(level), Some(degree), Some(years)) = (
        facts.title_level,
        facts.degree,
        facts.relevant_experience_years,
    ) {
        reasons.extend(degree_and_experience(level, degree, years));
    }
    reasons
}

pub(crate) fn shanghai_experience(years: Years) -> Option<Reason> {
    (!years.at_least(SHANGHAI_EXPERIENCE_YEARS_MIN)).then(|| {
        Reason::new(
            ReasonCode::InsufficientShanghaiExperience,
            format!(
                "At least {SHANGHAI_EXPERIENCE_YEARS_MIN} year of relevant work in Shanghai is needed; {} given.",
                years.get()
            ),
        )
    })
}

/// "Corresponding professional titles in the relevant category or field".
pub(crate) fn series_matches(own: &str, sought: &str) -> Option<Reason> {
    (!same_series(own, sought)).then(|| {
        Reason::new(
            ReasonCode::TitleSeriesMismatch,
            format!("The qualification maps to the {own} series, not {sought}."),
        )
    })
}

pub(crate) fn level_within_mapping(mapped: TitleLevel, sought: TitleLevel) -> Option<Reason> {
    (sought > mapped).then(|| {
        Reason::new(
            ReasonCode::TitleLevelAboveMapping,
            format!(
                "The qualification maps to {} at most; {} was sought.",
                mapped.as_str(),
                sought.as_str()
            ),
        )
    })
}

/// An absent flag outside engineering is fine (it was not needed); inside engineering it
/// is caught as a missing fact before this runs.
pub(crate) fn engineering_degree(sought: &str, science: Option<bool>) -> Option<Reason> {
    (is_engineering(sought) && science != Some(true)).then(|| {
        Reason::new(
            ReasonCode::DegreeNotScienceOrEngineering,
            "Engineering and technical titles need a degree in science or engineering.",
        )
    })
}

pub(crate) fn degree_and_experience(
    level: TitleLevel,
    degree: Degree,
    years: Years,
) -> Option<Reason> {
    match required_experience_years(level, degree) {
        None => Some(Reason::new(
            ReasonCode::DegreeNotQualifying,
            format!(
                "A {} title needs at least a bachelor's degree.",
                level.as_str()
            ),
        )),
        Some(needed) if !years.at_least(needed) => Some(Reason::new(
            ReasonCode::InsufficientExperience,
            format!(
                "A {} title with this degree needs {needed} years of relevant work; {} given.",
                level.as_str(),
                years.get()
            ),
        )),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TitleLevel::{AssociateSenior, Intermediate, Junior};

    fn years(value: f64) -> Years {
        Years::new(value).unwrap()
    }

    fn outcome(level: TitleLevel, degree: Degree, worked: f64) -> Option<ReasonCode> {
        degree_and_experience(level, degree, years(worked)).map(|r| r.code)
    }

    /// (level, degree, the fewest years that pass): one below fails, the line itself passes.
    const LINES: [(TitleLevel, Degree, u32); 12] = [
        (Junior, Degree::Doctorate, 0),
        (Junior, Degree::Master, 0),
        (Junior, Degree::SecondBachelor, 0),
        (Junior, Degree::Bachelor, 1),
        (Intermediate, Degree::Doctorate, 0),
        (Intermediate, Degree::Master, 2),
        (Intermediate, Degree::SecondBachelor, 2),
        (Intermediate, Degree::Bachelor, 5),
        (AssociateSenior, Degree::Doctorate, 2),
        (AssociateSenior, Degree::Master, 7),
        (AssociateSenior, Degree::SecondBachelor, 7),
        (AssociateSenior, Degree::Bachelor, 10),
    ];

    #[test]
    fn the_title_table_passes_on_each_line_and_fails_one_year_below_it() {
        for (level, degree, line) in LINES {
            assert_eq!(required_experience_years(level, degree), Some(line));
            assert_eq!(
                outcome(level, degree, f64::from(line)),
                None,
                "{level:?} {degree:?}"
            );
            if line > 0 {
                assert_eq!(
                    outcome(level, degree, f64::from(line - 1)),
                    Some(ReasonCode::InsufficientExperience),
                    "{level:?} {degree:?} at {} years",
                    line - 1
                );
            }
        }
    }

    #[test]
    fn the_named_boundaries_of_the_title_table_hold() {
        assert_eq!(
            outcome(Junior, Degree::Bachelor, 0.0),
            Some(ReasonCode::InsufficientExperience)
        );
        assert_eq!(outcome(Junior, Degree::Bachelor, 1.0), None);
        assert_eq!(
            outcome(Intermediate, Degree::Bachelor, 4.0),
            Some(ReasonCode::InsufficientExperience)
        );
        assert_eq!(outcome(Intermediate, Degree::Bachelor, 5.0), None);
        assert_eq!(
            outcome(Intermediate, Degree::Master, 1.0),
            Some(ReasonCode::InsufficientExperience)
        );
        assert_eq!(outcome(Intermediate, Degree::Master, 2.0), None);
        assert_eq!(
            outcome(AssociateSenior, Degree::Master, 6.0),
            Some(ReasonCode::InsufficientExperience)
        );
        assert_eq!(outcome(AssociateSenior, Degree::Master, 7.0), None);
        assert_eq!(
            outcome(AssociateSenior, Degree::Doctorate, 1.0),
            Some(ReasonCode::InsufficientExperience)
        );
        assert_eq!(outcome(AssociateSenior, Degree::Doctorate, 2.0), None);
        assert_eq!(
            outcome(AssociateSenior, Degree::Bachelor, 9.0),
            Some(ReasonCode::InsufficientExperience)
        );
        assert_eq!(outcome(AssociateSenior, Degree::Bachelor, 10.0), None);
        assert_eq!(
            outcome(Intermediate, Degree::Bachelor, 4.99),
            Some(ReasonCode::InsufficientExperience)
        );
    }

    #[test]
    fn a_doctorate_meets_every_line_a_masters_degree_meets() {
        for level in [Junior, Intermediate, AssociateSenior] {
            for worked in 0..=12 {
                if outcome(level, Degree::Master, f64::from(worked)).is_none() {
                    assert_eq!(outcome(level, Degree::Doctorate, f64::from(worked)), None);
                }
            }
        }
    }

    #[test]
    fn a_degree_below_a_bachelors_never_qualifies() {
        for level in [Junior, Intermediate, AssociateSenior] {
            assert_eq!(required_experience_years(level, Degree::Other), None);
            assert_eq!(
                outcome(level, Degree::Other, 40.0),
                Some(ReasonCode::DegreeNotQualifying)
            );
        }
    }

    #[test]
    fn one_year_in_shanghai_is_needed_and_enough() {
        assert_eq!(shanghai_experience(years(1.0)), None);
        assert_eq!(
            shanghai_experience(years(0.9)).map(|r| r.code),
            Some(ReasonCode::InsufficientShanghaiExperience)
        );
    }

    #[test]
    fn the_series_sought_must_be_the_qualifications_own() {
        assert_eq!(series_matches("accounting", "Accounting "), None);
        assert_eq!(
            series_matches("accounting", "economics").map(|r| r.code),
            Some(ReasonCode::TitleSeriesMismatch)
        );
    }

    #[test]
    fn the_level_sought_is_never_above_the_mapped_level() {
        assert_eq!(level_within_mapping(Intermediate, Junior), None);
        assert_eq!(level_within_mapping(Intermediate, Intermediate), None);
        assert_eq!(
            level_within_mapping(Intermediate, AssociateSenior).map(|r| r.code),
            Some(ReasonCode::TitleLevelAboveMapping)
        );
    }

    #[test]
    fn engineering_titles_need_a_science_or_engineering_degree_and_others_do_not() {
        assert_eq!(engineering_degree("engineering", Some(true)), None);
        assert_eq!(
            engineering_degree("Engineering", Some(false)).map(|r| r.code),
            Some(ReasonCode::DegreeNotScienceOrEngineering)
        );
        assert_eq!(engineering_degree("accounting", Some(false)), None);
        assert_eq!(engineering_degree("accounting", None), None);
    }

    #[test]
    fn the_science_flag_is_needed_only_for_engineering() {
        let mut qualification = QualificationProfile {
            categories: [crate::domain::qualification::Category::C].into(),
            listed: true,
            title_series: Some("accounting".into()),
            title_level: Some(Intermediate),
            equivalences: vec![],
        };
        let needs_flag = |q: &QualificationProfile, f: &Facts| {
            facts_needed(q, f).contains(&FactName::ScienceOrEngineeringDegree)
        };
        let accounting = Facts {
            title_series: Some("accounting".into()),
            ..Facts::default()
        };
        let engineering = Facts {
            title_series: Some("engineering".into()),
            ..Facts::default()
        };
        assert!(!needs_flag(&qualification, &accounting));
        assert!(needs_flag(&qualification, &engineering));
        assert!(!needs_flag(&qualification, &Facts::default()));
        qualification.title_series = Some("engineering".into());
        assert!(needs_flag(&qualification, &Facts::default()));
        assert_eq!(facts_needed(&qualification, &Facts::default()), FACTS);
    }
}
