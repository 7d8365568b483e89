//! Record status and the shapes agencies and holders read.

use serde::Serialize;
use utoipa::ToSchema;

pub use crate::domain::record_status::RecordStatus;

/// `GET /v1/records/{id}` and the items of `/v1/me/records` (DESIGN.md, "Records").
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecordView {
    pub id: String,
    pub status: RecordStatus,
    pub status_reason: Option<String>,
    /// The W3C Verifiable Credential with its eddsa-jcs-2022 proof.
    // Served as stored: the signed text is never re-parsed just to be sent.
    #[schema(value_type = Object)]
    pub credential: Box<serde_json::value::RawValue>,
}

/// What an admin (or the registry, or an issuing body) does to a record's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusAction {
    Suspend,
    Reinstate,
    Revoke,
}

impl StatusAction {
    /// The stored status after the action, or why it cannot be taken: suspension is
    /// reversible, revocation is final (DESIGN.md, "States").
    pub fn apply(self, stored: &str) -> Result<&'static str, &'static str> {
        match (self, stored) {
            (Self::Suspend, "valid") => Ok("suspended"),
            (Self::Reinstate, "suspended") => Ok("valid"),
            (Self::Revoke, "valid" | "suspended") => Ok("revoked"),
            (_, "revoked") => Err("record_revoked"),
            (Self::Suspend, _) => Err("not_valid"),
            (Self::Reinstate, _) => Err("not_suspended"),
            (Self::Revoke, _) => Err("record_revoked"),
        }
    }

    pub fn audit_action(self) -> &'static str {
        match self {
            Self::Suspend => "record.suspended",
            Self::Reinstate => "record.reinstated",
            Self::Revoke => "record.revoked",
        }
    }
}

/// How an agency came to read a record, for the holder's access log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccessVia {
    Id,
    ShareCode,
    Search,
    Eligibility,
}

impl AccessVia {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::ShareCode => "share_code",
            Self::Search => "search",
            Self::Eligibility => "eligibility",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suspension_is_reversible_and_revocation_is_final() {
        use StatusAction::*;
        assert_eq!(Suspend.apply("valid"), Ok("suspended"));
        assert_eq!(Reinstate.apply("suspended"), Ok("valid"));
        assert_eq!(Revoke.apply("valid"), Ok("revoked"));
        assert_eq!(Revoke.apply("suspended"), Ok("revoked"));
        assert_eq!(Suspend.apply("suspended"), Err("not_valid"));
        assert_eq!(Reinstate.apply("valid"), Err("not_suspended"));
        for action in [Suspend, Reinstate, Revoke] {
            assert_eq!(action.apply("revoked"), Err("record_revoked"));
        }
    }
}
