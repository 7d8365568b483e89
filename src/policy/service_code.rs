//! The service codes DESIGN.md fixes. An enum rather than strings, so that every `match`
//! over services is checked for completeness when a service is added.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

use crate::domain::qualification::Category;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum ServiceCode {
    AVisaMultiEntry,
    AResidencePermitWork,
    AWorkPermit,
    AResidencePoints,
    ATalentResidenceExtraPoints,
    AOverseasExperience,
    ALocalSupport,
    BWorkPermitHighEnd,
    BPermanentResidence,
    BVisaMultiEntry,
    BVisaTalentR,
    BResidencePermitEntrepreneurship,
    BTalentIntroduction,
    BLocalSupport,
    CProfessionalTitle,
    DMutualRecognition,
}

impl ServiceCode {
    pub const ALL: [ServiceCode; 16] = [
        Self::AVisaMultiEntry,
        Self::AResidencePermitWork,
        Self::AWorkPermit,
        Self::AResidencePoints,
        Self::ATalentResidenceExtraPoints,
        Self::AOverseasExperience,
        Self::ALocalSupport,
        Self::BWorkPermitHighEnd,
        Self::BPermanentResidence,
        Self::BVisaMultiEntry,
        Self::BVisaTalentR,
        Self::BResidencePermitEntrepreneurship,
        Self::BTalentIntroduction,
        Self::BLocalSupport,
        Self::CProfessionalTitle,
        Self::DMutualRecognition,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AVisaMultiEntry => "A.visa.multi_entry",
            Self::AResidencePermitWork => "A.residence_permit.work",
            Self::AWorkPermit => "A.work_permit",
            Self::AResidencePoints => "A.residence_points",
            Self::ATalentResidenceExtraPoints => "A.talent_residence.extra_points",
            Self::AOverseasExperience => "A.overseas_experience",
            Self::ALocalSupport => "A.local_support",
            Self::BWorkPermitHighEnd => "B.work_permit.high_end",
            Self::BPermanentResidence => "B.permanent_residence",
            Self::BVisaMultiEntry => "B.visa.multi_entry",
            Self::BVisaTalentR => "B.visa.talent_r",
            Self::BResidencePermitEntrepreneurship => "B.residence_permit.entrepreneurship",
            Self::BTalentIntroduction => "B.talent_introduction",
            Self::BLocalSupport => "B.local_support",
            Self::CProfessionalTitle => "C.professional_title",
            Self::DMutualRecognition => "D.mutual_recognition",
        }
    }

    /// Exact match: codes are identifiers agencies store, so `a.visa.multi_entry` is not one.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == value)
    }

    /// The category is the code's first segment.
    pub fn category(self) -> Category {
        use ServiceCode::*;
        match self {
            AVisaMultiEntry
            | AResidencePermitWork
            | AWorkPermit
            | AResidencePoints
            | ATalentResidenceExtraPoints
            | AOverseasExperience
            | ALocalSupport => Category::A,
            BWorkPermitHighEnd
            | BPermanentResidence
            | BVisaMultiEntry
            | BVisaTalentR
            | BResidencePermitEntrepreneurship
            | BTalentIntroduction
            | BLocalSupport => Category::B,
            CProfessionalTitle => Category::C,
            DMutualRecognition => Category::D,
        }
    }

    /// "Local authorities are encouraged to add support": listed, never decided.
    pub fn is_informational(self) -> bool {
        matches!(self, Self::ALocalSupport | Self::BLocalSupport)
    }
}

impl fmt::Display for ServiceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for ServiceCode {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value).ok_or_else(|| format!("unknown service code `{value}`"))
    }
}

impl From<ServiceCode> for &'static str {
    fn from(code: ServiceCode) -> Self {
        code.as_str()
    }
}

/// Written by hand because the derive would describe the variant names, not the codes.
impl PartialSchema for ServiceCode {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(Self::ALL.map(Self::as_str)))
            .into()
    }
}

impl ToSchema for ServiceCode {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_their_prefix_is_their_category() {
        for code in ServiceCode::ALL {
            assert_eq!(ServiceCode::parse(code.as_str()), Some(code));
            assert_eq!(
                code.as_str().split('.').next(),
                Some(code.category().as_str())
            );
            let json = serde_json::to_value(code).unwrap();
            assert_eq!(json, serde_json::json!(code.as_str()));
            assert_eq!(serde_json::from_value::<ServiceCode>(json).unwrap(), code);
        }
    }

    #[test]
    fn only_the_exact_code_is_a_code() {
        assert_eq!(ServiceCode::parse("a.visa.multi_entry"), None);
        assert_eq!(ServiceCode::parse(" A.visa.multi_entry"), None);
        assert_eq!(ServiceCode::parse("E.anything"), None);
    }

    #[test]
    fn only_local_support_is_informational() {
        let informational: Vec<_> = ServiceCode::ALL
            .into_iter()
            .filter(|c| c.is_informational())
            .map(ServiceCode::as_str)
            .collect();
        assert_eq!(informational, ["A.local_support", "B.local_support"]);
    }
}
