//! What an issuing body (or a reviewer) says of a certificate: the outcome that settles a
//! request. Shared by the protocol (`issuers`) and settling (`requests`), so it lives here.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = VerificationOutcome)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Confirmed,
    NotFound,
    Mismatch,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confirmed => "confirmed",
            Self::NotFound => "not_found",
            Self::Mismatch => "mismatch",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Outcome;

    #[test]
    fn outcomes_serialize_as_their_protocol_names() {
        for outcome in [Outcome::Confirmed, Outcome::NotFound, Outcome::Mismatch] {
            let json = serde_json::to_string(&outcome).unwrap();
            assert_eq!(json, format!("\"{}\"", outcome.as_str()));
        }
    }
}
