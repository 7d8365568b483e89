//! What the platform itself knows about the person and the qualification. The caller reads
//! it live from the registry and the records (never from the agency) and passes it in,
//! together with the date to judge on, so the rules hold no clock and do no IO.

use std::collections::BTreeSet;

use chrono::NaiveDate;

use crate::domain::qualification::{Category, Equivalence, TitleLevel};
use crate::domain::IdentityKind;

pub use crate::domain::record_status::RecordStatus;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolderProfile {
    pub identity_kind: IdentityKind,
    pub shanghai_hukou: bool,
    pub date_of_birth: NaiveDate,
}

impl HolderProfile {
    /// Age in completed years on `today`. chrono counts a 29 February birthday as reached
    /// on 1 March in common years. A birth date after `today` (bad data) counts as 0,
    /// which no upper age limit refuses.
    pub fn age_on(&self, today: NaiveDate) -> u32 {
        today.years_since(self.date_of_birth).unwrap_or(0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualificationProfile {
    pub categories: BTreeSet<Category>,
    /// Still on the list (a removed qualification suspends its records, but the rules do
    /// not rely on the record status alone to know it).
    pub listed: bool,
    /// The professional-title series the qualification maps to (category C).
    pub title_series: Option<String>,
    /// The highest professional-title level the qualification maps to (category C).
    pub title_level: Option<TitleLevel>,
    /// Category D entries.
    pub equivalences: Vec<Equivalence>,
}

/// Everything the rules read besides the agency's facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub holder: HolderProfile,
    pub qualification: QualificationProfile,
    pub record_status: RecordStatus,
    /// The date the decision is made for; ages are counted on it.
    pub today: NaiveDate,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn born(y: i32, m: u32, d: u32) -> HolderProfile {
        HolderProfile {
            identity_kind: IdentityKind::ForeignNational,
            shanghai_hukou: false,
            date_of_birth: NaiveDate::from_ymd_opt(y, m, d).unwrap(),
        }
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn age_counts_completed_years_and_turns_on_the_birthday() {
        assert_eq!(born(1956, 11, 26).age_on(day(2026, 11, 26)), 70);
        assert_eq!(born(1956, 11, 27).age_on(day(2026, 11, 26)), 69);
        assert_eq!(born(1955, 11, 27).age_on(day(2026, 11, 26)), 70);
        assert_eq!(born(1955, 11, 26).age_on(day(2026, 11, 26)), 71);
    }

    #[test]
    fn a_leap_day_birthday_is_reached_on_the_first_of_march_in_common_years() {
        assert_eq!(born(1956, 2, 29).age_on(day(2026, 2, 28)), 69);
        assert_eq!(born(1956, 2, 29).age_on(day(2026, 3, 1)), 70);
    }

    #[test]
    fn a_birth_date_in_the_future_counts_as_age_zero() {
        assert_eq!(born(2030, 1, 1).age_on(day(2026, 11, 26)), 0);
    }

    #[test]
    fn record_statuses_round_trip() {
        for status in RecordStatus::ALL {
            assert_eq!(RecordStatus::parse(status.as_str()), Some(status));
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::json!(status.as_str())
            );
        }
    }
}
