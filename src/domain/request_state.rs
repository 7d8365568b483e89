//! The verification request's states and the transitions DESIGN.md allows ("States").

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    Submitted,
    AwaitingIssuer,
    ManualReview,
    Confirmed,
    Rejected,
    Issued,
    Withdrawn,
    Expired,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("a request cannot go from {} to {}", from.as_str(), to.as_str())]
pub struct TransitionRefused {
    pub from: RequestState,
    pub to: RequestState,
}

impl RequestState {
    pub const ALL: [RequestState; 8] = [
        Self::Submitted,
        Self::AwaitingIssuer,
        Self::ManualReview,
        Self::Confirmed,
        Self::Rejected,
        Self::Issued,
        Self::Withdrawn,
        Self::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submitted => "submitted",
            Self::AwaitingIssuer => "awaiting_issuer",
            Self::ManualReview => "manual_review",
            Self::Confirmed => "confirmed",
            Self::Rejected => "rejected",
            Self::Issued => "issued",
            Self::Withdrawn => "withdrawn",
            Self::Expired => "expired",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// Open requests still wait for an answer; at most one per holder, qualification and
    /// certificate number may be open.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Self::Submitted | Self::AwaitingIssuer | Self::ManualReview
        )
    }

    /// The transition table of DESIGN.md, and nothing else.
    pub fn can_become(self, to: Self) -> bool {
        use RequestState::*;
        match (self, to) {
            (Submitted, AwaitingIssuer | ManualReview) => true,
            (AwaitingIssuer, Confirmed | Rejected | ManualReview) => true,
            (ManualReview, Confirmed | Rejected) => true,
            (Confirmed, Issued) => true,
            (from, Withdrawn | Expired) => from.is_open(),
            _ => false,
        }
    }

    pub fn become_(self, to: Self) -> Result<Self, TransitionRefused> {
        if self.can_become(to) {
            Ok(to)
        } else {
            Err(TransitionRefused { from: self, to })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RequestState::{self, *};

    /// Every allowed transition, written out from DESIGN.md's table.
    const ALLOWED: &[(RequestState, RequestState)] = &[
        (Submitted, AwaitingIssuer),
        (Submitted, ManualReview),
        (AwaitingIssuer, Confirmed),
        (AwaitingIssuer, Rejected),
        (AwaitingIssuer, ManualReview),
        (ManualReview, Confirmed),
        (ManualReview, Rejected),
        (Confirmed, Issued),
        (Submitted, Withdrawn),
        (AwaitingIssuer, Withdrawn),
        (ManualReview, Withdrawn),
        (Submitted, Expired),
        (AwaitingIssuer, Expired),
        (ManualReview, Expired),
    ];

    #[test]
    fn exactly_the_transitions_of_the_table_are_allowed() {
        for from in RequestState::ALL {
            for to in RequestState::ALL {
                let expected = ALLOWED.contains(&(from, to));
                assert_eq!(
                    from.can_become(to),
                    expected,
                    "{} -> {}",
                    from.as_str(),
                    to.as_str()
                );
                assert_eq!(from.become_(to).is_ok(), expected);
            }
        }
    }

    #[test]
    fn final_states_go_nowhere() {
        for from in [Rejected, Issued, Withdrawn, Expired] {
            assert!(
                RequestState::ALL.iter().all(|to| !from.can_become(*to)),
                "{}",
                from.as_str()
            );
        }
    }

    #[test]
    fn a_confirmed_request_can_only_be_issued() {
        let next: Vec<_> = RequestState::ALL
            .into_iter()
            .filter(|to| Confirmed.can_become(*to))
            .collect();
        assert_eq!(next, [Issued]);
    }

    #[test]
    fn states_round_trip_through_their_names() {
        for s in RequestState::ALL {
            assert_eq!(RequestState::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(RequestState::parse("done"), None);
    }
}
