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

#[cfg(test)]
mod tests {
    use super::*;

    fn embedded_json() -> Value {
        serde_json::from_str(EMBEDDED).unwrap()
    }

    fn load(json: &Value) -> Result<PolicyTable, TableError> {
        PolicyTable::from_json(&json.to_string())
    }

    fn entry_error(json: &Value) -> (String, String) {
        match load(json) {
            Err(TableError::Entry { entry, problem }) => (entry, problem),
            other => panic!("expected an entry error, got {other:?}"),
        }
    }

    #[test]
    fn the_embedded_table_loads_with_every_fixed_service_in_order() {
        let table = PolicyTable::embedded().unwrap();
        assert_eq!(table.policy_version(), "2026-11-26.1");
        assert_eq!(table.source().list_version, "3.0");
        let codes: Vec<ServiceCode> = table.services().iter().map(|s| s.code).collect();
        assert_eq!(codes, ServiceCode::ALL);
        assert_eq!(table.services_in(Category::C).count(), 1);
        assert_eq!(table.services_in(Category::B).count(), 7);
    }

    #[test]
    fn every_notice_sentence_is_quoted_verbatim_from_the_notice() {
        let notice = include_str!("notice-3.0.txt");
        let table = PolicyTable::embedded().unwrap();
        let mut quotes = vec![table.source().note.clone().unwrap()];
        for service in table.services() {
            quotes.push(service.notice.clone());
            quotes.extend(service.conditions.iter().filter_map(|c| c.notice.clone()));
        }
        for quote in quotes {
            assert!(notice.contains(&quote), "not in the notice: {quote}");
        }
    }

    #[test]
    fn the_table_serializes_back_to_a_table_that_loads_the_same() {
        let table = PolicyTable::embedded().unwrap();
        let again = PolicyTable::from_json(&serde_json::to_string(&table).unwrap()).unwrap();
        assert_eq!(again, table);
    }

    #[test]
    fn a_file_named_in_configuration_replaces_the_embedded_table() {
        let mut json = embedded_json();
        json["policy_version"] = "2027-01-01.1".into();
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), json.to_string()).unwrap();
        let table = PolicyTable::from_path(file.path()).unwrap();
        assert_eq!(table.policy_version(), "2027-01-01.1");
    }

    #[test]
    fn a_missing_file_is_an_error_naming_the_path() {
        let error = PolicyTable::from_path(Path::new("/nonexistent/services.json")).unwrap_err();
        assert!(error.to_string().contains("/nonexistent/services.json"));
    }

    #[test]
    fn an_unknown_service_code_is_refused_naming_the_entry() {
        let mut json = embedded_json();
        json["services"][3]["code"] = "A.free_lunch".into();
        let (entry, problem) = entry_error(&json);
        assert_eq!(entry, "services[3] (A.free_lunch)");
        assert!(problem.contains("unknown service code"), "{problem}");
    }

    #[test]
    fn an_unknown_category_is_refused_naming_the_entry() {
        let mut json = embedded_json();
        json["services"][0]["category"] = "E".into();
        let (entry, _) = entry_error(&json);
        assert_eq!(entry, "services[0] (A.visa.multi_entry)");
    }

    #[test]
    fn a_category_other_than_the_codes_is_refused() {
        let mut json = embedded_json();
        json["services"][0]["category"] = "B".into();
        let (entry, problem) = entry_error(&json);
        assert_eq!(entry, "services[0] (A.visa.multi_entry)");
        assert!(problem.contains("category B"), "{problem}");
    }

    #[test]
    fn a_duplicate_code_is_refused_naming_the_entry() {
        let mut json = embedded_json();
        json["services"][1]["code"] = "A.visa.multi_entry".into();
        let (entry, problem) = entry_error(&json);
        assert_eq!(entry, "services[1] (A.visa.multi_entry)");
        assert_eq!(problem, "duplicate service code");
    }

    #[test]
    fn an_unknown_fact_name_is_refused_naming_the_entry() {
        let mut json = embedded_json();
        json["services"][14]["facts"][0] = "degre".into();
        let (entry, problem) = entry_error(&json);
        assert_eq!(entry, "services[14] (C.professional_title)");
        assert!(problem.contains("degre"), "{problem}");
    }

    #[test]
    fn facts_other_than_those_the_rules_read_are_refused() {
        let mut json = embedded_json();
        json["services"][0]["facts"] = serde_json::json!(["degree"]);
        let (_, problem) = entry_error(&json);
        assert!(
            problem.contains("exactly those its rules read"),
            "{problem}"
        );
        let mut json = embedded_json();
        json["services"][2]["facts"] = serde_json::json!(["permit_category", "permit_category"]);
        entry_error(&json);
        let mut json = embedded_json();
        json["services"][2]["facts"] = serde_json::json!([]);
        entry_error(&json);
    }

    #[test]
    fn an_unknown_or_mistyped_limit_is_refused() {
        let mut json = embedded_json();
        json["services"][0]["limits"] = serde_json::json!({"validity_yeras_max": 5});
        assert!(entry_error(&json).1.contains("unknown limit"));
        let mut json = embedded_json();
        json["services"][2]["limits_by_permit_category"]["B"] = serde_json::json!({"age_max": -1});
        assert!(entry_error(&json).1.contains("wrong kind"));
    }

    #[test]
    fn an_unknown_field_or_identity_kind_is_refused() {
        let mut json = embedded_json();
        json["services"][0]["limts"] = serde_json::json!({});
        entry_error(&json);
        let mut json = embedded_json();
        json["services"][0]["who"]["identity_kinds"] = serde_json::json!(["martian"]);
        entry_error(&json);
        let mut json = embedded_json();
        json["services"][0]["who"]["identity_kinds"] = serde_json::json!([]);
        entry_error(&json);
    }

    #[test]
    fn informational_must_match_the_service() {
        let mut json = embedded_json();
        json["services"][0]["informational"] = true.into();
        assert!(entry_error(&json).1.contains("informational"));
    }

    #[test]
    fn conditions_need_unique_codes_and_their_when_fact() {
        let mut json = embedded_json();
        json["services"][12]["conditions"][1]["code"] = "shanghai_employer".into();
        assert!(entry_error(&json).1.contains("twice"));
        let mut json = embedded_json();
        json["services"][12]["conditions"][1]["when"] =
            serde_json::json!({"employer_type": "public_institution"});
        assert!(entry_error(&json).1.contains("employer_type"));
    }

    #[test]
    fn a_table_missing_a_service_or_a_version_is_refused() {
        let mut json = embedded_json();
        json["services"].as_array_mut().unwrap().remove(10);
        let error = load(&json).unwrap_err().to_string();
        assert!(
            error.contains("missing services: B.visa.talent_r"),
            "{error}"
        );
        let mut json = embedded_json();
        json["policy_version"] = " ".into();
        assert!(load(&json).is_err());
        assert!(matches!(
            PolicyTable::from_json("{"),
            Err(TableError::Shape(_))
        ));
    }
}
