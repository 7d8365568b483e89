//! Closed sets the API sends and takes as plain strings. Each is an enum here so that the
//! OpenAPI document lists its values (`#[schema(value_type = …)]` on the string field) and
//! the checks read them through `parse`, from the same list.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

macro_rules! closed_set {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == text)
            }
        }
    };
}

closed_set!(
    /// How an issuing body answers: over its API, or by the bureau's manual review.
    VerificationMode { Api = "api", Manual = "manual" }
);
closed_set!(
    /// Whether an issuing body takes verification requests.
    BodyStatus { Active = "active", Suspended = "suspended" }
);
closed_set!(
    /// Whether a qualification is on the list.
    ListingStatus { Listed = "listed", Removed = "removed" }
);
closed_set!(
    /// A reviewer's decision on a request in manual review.
    Verdict { Confirmed = "confirmed", Rejected = "rejected" }
);
closed_set!(
    /// Why a certificate was not confirmed (admins see this; holders see `not_confirmed`).
    Rejection { NotFound = "not_found", Mismatch = "mismatch" }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_value_parses_back_and_serializes_as_its_text() {
        for v in VerificationMode::ALL {
            assert_eq!(VerificationMode::parse(v.as_str()), Some(*v));
            assert_eq!(serde_json::to_value(v).unwrap(), v.as_str());
        }
        for v in Rejection::ALL {
            assert_eq!(serde_json::to_value(v).unwrap(), v.as_str());
        }
        assert_eq!(ListingStatus::parse("gone"), None);
    }
}
