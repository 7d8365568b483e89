//! What the notice says about a qualification: its categories, the professional-title
//! level it maps to (category C), and its equivalences (category D).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The four categories of the list (a qualification can be in several).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
pub enum Category {
    /// Recognized overseas occupational qualifications.
    A,
    /// Urgently needed skills and qualifications.
    B,
    /// Alignment with China's professional title system.
    C,
    /// Mutual recognition with domestic qualifications, certifications and titles.
    D,
}

impl Category {
    pub const ALL: [Category; 4] = [Category::A, Category::B, Category::C, Category::D];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::A => "A",
            Self::B => "B",
            Self::C => "C",
            Self::D => "D",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(value.trim()))
    }
}

/// Professional-title levels, lowest first, so `<=` compares them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum TitleLevel {
    Junior,
    Intermediate,
    AssociateSenior,
}

impl TitleLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Junior => "junior",
            Self::Intermediate => "intermediate",
            Self::AssociateSenior => "associate_senior",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [Self::Junior, Self::Intermediate, Self::AssociateSenior]
            .into_iter()
            .find(|l| l.as_str() == value)
    }
}

/// What a category D equivalence gives its holder.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum EquivalenceBenefit {
    DirectApplication,
    ExemptedCourses,
    FewerExamSubjects,
}

/// One category D entry: the domestic qualification, certification or title the overseas
/// one is recognized against, and what that gives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Equivalence {
    /// The domestic qualification, certification or professional title.
    pub domestic: String,
    /// `qualification`, `certification` or `title`.
    pub domestic_kind: String,
    pub benefits: Vec<EquivalenceBenefit>,
    /// Free text: which courses or subjects, under what terms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_parse_in_either_case() {
        assert_eq!(Category::parse("c"), Some(Category::C));
        assert_eq!(Category::parse("E"), None);
    }

    #[test]
    fn title_levels_are_ordered_lowest_first() {
        assert!(TitleLevel::Junior < TitleLevel::Intermediate);
        assert!(TitleLevel::Intermediate < TitleLevel::AssociateSenior);
        assert_eq!(
            TitleLevel::parse("associate_senior"),
            Some(TitleLevel::AssociateSenior)
        );
        assert_eq!(
            serde_json::to_string(&TitleLevel::AssociateSenior).unwrap(),
            "\"associate_senior\""
        );
    }
}
