//! The services table: data, versioned, embedded in the binary and replaceable by a file.
//!
//! The table describes each service (who, limits, conditions, the facts it needs, the
//! notice sentence); the rules are code. Loading checks that the description matches the
//! code — every fixed service present once, its category its code's, its facts exactly
//! the ones its rules read — so the table served to agencies cannot say one thing while
//! the decisions do another.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::facts::{EmployerType, FactName, PermitCategory};
use super::rules;
use super::service_code::ServiceCode;
use crate::domain::qualification::Category;
use crate::domain::IdentityKind;

const EMBEDDED: &str = include_str!("services.json");

/// Limit names a table may use. Unknown names are refused so a misspelt `age_max` cannot
/// silently switch the age rule off.
const INTEGER_LIMITS: [&str; 3] = ["validity_years_max", "validity_years", "age_max"];
const LIST_LIMITS: [&str; 1] = ["accompanying_family"];

#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("cannot read the policy table {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the policy table is not of the expected shape: {0}")]
    Shape(serde_json::Error),
    #[error("policy table entry {entry}: {problem}")]
    Entry { entry: String, problem: String },
    #[error("policy table: {0}")]
    Table(String),
}

/// Where the table's policy comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub title: String,
    pub list_version: String,
    pub publisher: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Who may use a service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Who {
    pub identity_kinds: Vec<IdentityKind>,
    /// When present, the holder's Shanghai household registration must be this
    /// (`false`: only people without it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shanghai_hukou: Option<bool>,
}

/// Facts under which a condition applies; absent: always.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct When {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employer_type: Option<EmployerType>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceCondition {
    pub code: String,
    pub message: String,
    /// The notice's own sentence, where the condition has one of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<When>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Service {
    pub code: ServiceCode,
    pub category: Category,
    pub title: String,
    pub who: Who,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub limits: Map<String, Value>,
    /// Limits added when the fact `permit_category` has that value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schema(value_type = Object)]
    pub limits_by_permit_category: BTreeMap<PermitCategory, Map<String, Value>>,
    #[serde(default)]
    pub conditions: Vec<ServiceCondition>,
    #[serde(default)]
    pub facts: Vec<FactName>,
    #[serde(default)]
    pub informational: bool,
    /// The sentence (or sentences) of the notice the service rests on, verbatim.
    pub notice: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PolicyTable {
    policy_version: String,
    source: Source,
    services: Vec<Service>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    policy_version: String,
    source: Source,
    // Kept as values so that an entry that fails to parse can be named by its code.
    services: Vec<Value>,
}

impl PolicyTable {
    /// The table compiled into the binary.
    pub fn embedded() -> Result<Self, TableError> {
        Self::from_json(EMBEDDED)
    }

    /// A table from a file named in configuration, replacing the embedded one.
    pub fn from_path(path: &Path) -> Result<Self, TableError> {
        let text = std::fs::read_to_string(path).map_err(|source| TableError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_json(&text)
    }

    pub fn from_json(text: &str) -> Result<Self, TableError> {
        let raw: RawTable = serde_json::from_str(text).map_err(TableError::Shape)?;
        if raw.policy_version.trim().is_empty() {
            return Err(TableError::Table("policy_version is empty".into()));
        }
        let mut services: Vec<Service> = Vec::with_capacity(raw.services.len());
        for (index, value) in raw.services.into_iter().enumerate() {
            let entry = match value.get("code").and_then(Value::as_str) {
                Some(code) => format!("services[{index}] ({code})"),
                None => format!("services[{index}]"),
            };
            let problem = |problem: String| TableError::Entry {
                entry: entry.clone(),
                problem,
            };
            let service: Service =
                serde_json::from_value(value).map_err(|e| problem(e.to_string()))?;
            validate_service(&service).map_err(problem)?;
            if services.iter().any(|s| s.code == service.code) {
                return Err(problem("duplicate service code".into()));
            }
            services.push(service);
        }
        let missing: Vec<&str> = ServiceCode::ALL
            .into_iter()
            .filter(|code| !services.iter().any(|s| s.code == *code))
            .map(ServiceCode::as_str)
            .collect();
        if !missing.is_empty() {
            return Err(TableError::Table(format!(
                "missing services: {}",
                missing.join(", ")
            )));
        }
        Ok(Self {
            policy_version: raw.policy_version,
            source: raw.source,
            services,
        })
    }

    pub fn policy_version(&self) -> &str {
        &self.policy_version
    }

    pub fn source(&self) -> &Source {
        &self.source
    }

    /// In the table's order.
    pub fn services(&self) -> &[Service] {
        &self.services
    }

    pub fn service(&self, code: ServiceCode) -> Option<&Service> {
        self.services.iter().find(|s| s.code == code)
    }

    pub fn services_in(&self, category: Category) -> impl Iterator<Item = &Service> {
        self.services.iter().filter(move |s| s.category == category)
    }
}

fn validate_service(service: &Service) -> Result<(), String> {
    let code = service.code;
    if service.category != code.category() {
        return Err(format!(
            "category {} differs from the code's category {}",
            service.category.as_str(),
            code.category().as_str()
        ));
    }
    if service.title.trim().is_empty() || service.notice.trim().is_empty() {
        return Err("title and notice must not be empty".into());
    }
    if service.informational != code.is_informational() {
        return Err(format!(
            "informational must be {} for this service",
            code.is_informational()
        ));
    }
    let kinds = &service.who.identity_kinds;
    if kinds.is_empty() || (1..kinds.len()).any(|i| kinds[..i].contains(&kinds[i])) {
        return Err("who.identity_kinds must be non-empty and without repeats".into());
    }
    let listed: BTreeSet<FactName> = service.facts.iter().copied().collect();
    let used: BTreeSet<FactName> = rules::facts_used(code).iter().copied().collect();
    if listed.len() != service.facts.len() || listed != used {
        let names = |set: &BTreeSet<FactName>| {
            set.iter()
                .map(|f| f.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(format!(
            "facts must be exactly those its rules read, once each: [{}]",
            names(&used)
        ));
    }
    validate_limits("limits", &service.limits)?;
    if !service.limits_by_permit_category.is_empty() && !listed.contains(&FactName::PermitCategory)
    {
        return Err("limits_by_permit_category needs the fact permit_category".into());
    }
    for (category, limits) in &service.limits_by_permit_category {
        validate_limits(&format!("limits_by_permit_category.{category:?}"), limits)?;
    }
    for (i, condition) in service.conditions.iter().enumerate() {
        if condition.code.trim().is_empty() || condition.message.trim().is_empty() {
            return Err(format!("conditions[{i}] needs a code and a message"));
        }
        if service.conditions[..i]
            .iter()
            .any(|c| c.code == condition.code)
        {
            return Err(format!("condition {} appears twice", condition.code));
        }
        let on_employer = condition.when.as_ref().and_then(|w| w.employer_type);
        if on_employer.is_some() && !listed.contains(&FactName::EmployerType) {
            return Err(format!(
                "condition {} depends on employer_type, which is not among the facts",
                condition.code
            ));
        }
    }
    Ok(())
}

fn validate_limits(field: &str, limits: &Map<String, Value>) -> Result<(), String> {
    for (name, value) in limits {
        let fits = if INTEGER_LIMITS.contains(&name.as_str()) {
            value.is_u64()
        } else if LIST_LIMITS.contains(&name.as_str()) {
            value
                .as_array()
                .is_some_and(|items| items.iter().all(Value::is_string))
        } else {
            return Err(format!("{field}: unknown limit {name}"));
        };
        if !fits {
            return Err(format!("{field}: {name} has a value of the wrong kind"));
        }
    }
    Ok(())
}
