//! Facts: what only the agency knows and the rules decide on (DESIGN.md, "Policy").

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::qualification::TitleLevel;

/// The name of one fact, in the order DESIGN.md lists them, so missing facts are reported
/// in a stable order.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FactName {
    Degree,
    RelevantExperienceYears,
    ShanghaiExperienceYears,
    ScienceOrEngineeringDegree,
    TitleSeries,
    TitleLevel,
    EmployerType,
    PermitCategory,
}

impl FactName {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Degree => "degree",
            Self::RelevantExperienceYears => "relevant_experience_years",
            Self::ShanghaiExperienceYears => "shanghai_experience_years",
            Self::ScienceOrEngineeringDegree => "science_or_engineering_degree",
            Self::TitleSeries => "title_series",
            Self::TitleLevel => "title_level",
            Self::EmployerType => "employer_type",
            Self::PermitCategory => "permit_category",
        }
    }
}

/// The highest degree the applicant holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Degree {
    Doctorate,
    Master,
    SecondBachelor,
    Bachelor,
    /// Anything below a bachelor's degree: it meets no line of the title table.
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EmployerType {
    Enterprise,
    PublicInstitution,
    Other,
}

/// The Chinese work-permit class the agency is deciding on: A is high-end talent, B is
/// professional talent. These are permit classes, not the list's qualification categories.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
pub enum PermitCategory {
    A,
    B,
}

/// Years of work experience: finite and never negative.
///
/// Fractional years are accepted because agencies often count in months (18 months is
/// `1.5`) and would otherwise have to round — rounding up would let 4.5 years pass a
/// 5-year line. Each threshold of the notice is a whole number of years and is compared
/// with `>=`, so `4.99` does not meet "five years" and `5` does; integers, as in
/// DESIGN.md's example, are read as they are.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "f64", into = "f64")]
#[schema(value_type = f64, minimum = 0.0)]
pub struct Years(f64);

impl Years {
    pub fn new(value: f64) -> Option<Self> {
        (value.is_finite() && value >= 0.0).then_some(Self(value))
    }

    pub fn get(self) -> f64 {
        self.0
    }

    /// Whether at least `years` whole years have been worked.
    pub fn at_least(self, years: u32) -> bool {
        self.0 >= f64::from(years)
    }
}

impl TryFrom<f64> for Years {
    type Error = String;

    fn try_from(value: f64) -> Result<Self, Self::Error> {
        Self::new(value).ok_or_else(|| format!("{value} is not a number of years (0 or more)"))
    }
}

impl From<Years> for f64 {
    fn from(years: Years) -> Self {
        years.0
    }
}

/// The facts an agency sends. Every field is optional: which ones a service needs is the
/// rules' business, and a needed one that is absent is reported by name.
///
/// Unknown field names are refused rather than ignored, so a misspelt fact is a bad
/// request instead of a silently missing fact.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Facts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub degree: Option<Degree>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relevant_experience_years: Option<Years>,
    /// Relevant work in Shanghai, in a field connected to the qualification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shanghai_experience_years: Option<Years>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub science_or_engineering_degree: Option<bool>,
    /// The professional-title series sought, e.g. `accounting` or `engineering`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_series: Option<String>,
    /// The professional-title level sought.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_level: Option<TitleLevel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employer_type: Option<EmployerType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permit_category: Option<PermitCategory>,
}

impl Facts {
    pub fn has(&self, name: FactName) -> bool {
        match name {
            FactName::Degree => self.degree.is_some(),
            FactName::RelevantExperienceYears => self.relevant_experience_years.is_some(),
            FactName::ShanghaiExperienceYears => self.shanghai_experience_years.is_some(),
            FactName::ScienceOrEngineeringDegree => self.science_or_engineering_degree.is_some(),
            FactName::TitleSeries => self.title_series.is_some(),
            FactName::TitleLevel => self.title_level.is_some(),
            FactName::EmployerType => self.employer_type.is_some(),
            FactName::PermitCategory => self.permit_category.is_some(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_read_the_design_example() {
        let facts: Facts = serde_json::from_str(
            r#"{"degree": "bachelor", "relevant_experience_years": 6, "shanghai_experience_years": 1,
                "science_or_engineering_degree": false, "title_series": "accounting",
                "title_level": "intermediate", "employer_type": "enterprise", "permit_category": "B"}"#,
        )
        .unwrap();
        assert_eq!(facts.degree, Some(Degree::Bachelor));
        assert_eq!(facts.relevant_experience_years, Years::new(6.0));
        assert_eq!(facts.title_level, Some(TitleLevel::Intermediate));
        assert_eq!(facts.permit_category, Some(PermitCategory::B));
    }

    #[test]
    fn fractional_years_are_accepted_and_negative_ones_refused() {
        let facts: Facts = serde_json::from_str(r#"{"relevant_experience_years": 1.5}"#).unwrap();
        assert_eq!(facts.relevant_experience_years.map(Years::get), Some(1.5));
        assert!(serde_json::from_str::<Facts>(r#"{"shanghai_experience_years": -1}"#).is_err());
        assert!(Years::new(f64::NAN).is_none());
        assert!(Years::new(f64::INFINITY).is_none());
    }

    #[test]
    fn a_threshold_is_met_at_the_whole_year_and_not_just_below() {
        assert!(Years::new(5.0).unwrap().at_least(5));
        assert!(!Years::new(4.99).unwrap().at_least(5));
        assert!(Years::new(0.0).unwrap().at_least(0));
    }

    #[test]
    fn a_misspelt_fact_or_an_unknown_value_is_refused() {
        assert!(serde_json::from_str::<Facts>(r#"{"degre": "master"}"#).is_err());
        assert!(serde_json::from_str::<Facts>(r#"{"degree": "diploma"}"#).is_err());
        assert!(serde_json::from_str::<Facts>(r#"{"permit_category": "C"}"#).is_err());
    }

    #[test]
    fn fact_names_serialize_as_their_names() {
        for name in [
            FactName::Degree,
            FactName::RelevantExperienceYears,
            FactName::ShanghaiExperienceYears,
            FactName::ScienceOrEngineeringDegree,
            FactName::TitleSeries,
            FactName::TitleLevel,
            FactName::EmployerType,
            FactName::PermitCategory,
        ] {
            assert_eq!(
                serde_json::to_value(name).unwrap(),
                serde_json::json!(name.as_str())
            );
            assert!(!Facts::default().has(name));
        }
    }
}
