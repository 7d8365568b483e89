//! A verification record's status as served (DESIGN.md, "States"): `expired` is computed
//! from validUntil, never stored. Records serve it and eligibility decides on it.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A verification record's status (DESIGN.md, "States").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    Valid,
    Suspended,
    Revoked,
    Expired,
}

impl RecordStatus {
    /// The live status of a stored record: revocation is final and outranks expiry; an
    /// expired record is expired whether or not it was suspended.
    pub fn live(stored: &str, valid_until: NaiveDateTime, now: NaiveDateTime) -> Self {
        match stored {
            "revoked" => Self::Revoked,
            _ if now >= valid_until => Self::Expired,
            "suspended" => Self::Suspended,
            _ => Self::Valid,
        }
    }

    pub const ALL: [RecordStatus; 4] = [Self::Valid, Self::Suspended, Self::Revoked, Self::Expired];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Suspended => "suspended",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn live_status_puts_revocation_before_expiry_and_expiry_before_suspension() {
        let until = at("2027-01-01 00:00:00");
        let before = at("2026-12-31 23:59:59");
        let after = at("2027-01-01 00:00:00");
        assert_eq!(
            RecordStatus::live("valid", until, before),
            RecordStatus::Valid
        );
        assert_eq!(
            RecordStatus::live("suspended", until, before),
            RecordStatus::Suspended
        );
        assert_eq!(
            RecordStatus::live("revoked", until, before),
            RecordStatus::Revoked
        );
        assert_eq!(
            RecordStatus::live("valid", until, after),
            RecordStatus::Expired
        );
        assert_eq!(
            RecordStatus::live("suspended", until, after),
            RecordStatus::Expired
        );
        assert_eq!(
            RecordStatus::live("revoked", until, after),
            RecordStatus::Revoked
        );
    }
}
