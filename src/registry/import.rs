//! Bulk import and export of the registry as one JSON document (or CSV rows of
//! qualifications). Import matches on codes, checks the whole file before writing, and
//! applies it in one transaction: a bad row is named by position and field, and then
//! nothing is written. Importing the same file twice changes nothing.

use std::collections::BTreeSet;

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::input::{IssuingBodyInput, ListVersionInput, QualificationInput, UrlPolicy};
use super::{queries, store};
use crate::db::schema::qualifications;
use crate::db::DbConnection;
use crate::domain::qualification::Category;
use crate::error::{ApiError, FieldError};

pub use super::import_csv::csv_document;

pub const FORMAT: &str = "certverify-registry/1";

/// The import and export document.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct RegistryDocument {
    /// `certverify-registry/1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Free text, e.g. that a file is sample data and not the official list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
    /// One list version (a file for one version of the list) …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_version: Option<ListVersionInput>,
    /// … or several (what export writes).
    #[serde(default)]
    pub list_versions: Vec<ListVersionInput>,
    #[serde(default)]
    pub issuing_bodies: Vec<IssuingBodyInput>,
    #[serde(default)]
    pub qualifications: Vec<QualificationInput>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Counts {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

impl Counts {
    fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Created => self.created += 1,
            Outcome::Updated => self.updated += 1,
            Outcome::Unchanged => self.unchanged += 1,
        }
    }
}

enum Outcome {
    Created,
    Updated,
    Unchanged,
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ImportReport {
    /// False when the file matched the registry exactly.
    pub changed: bool,
    pub list_versions: Counts,
    pub issuing_bodies: Counts,
    pub qualifications: Counts,
}

/// A checked document, ready to apply.
pub struct Checked {
    versions: Vec<ListVersionInput>,
    bodies: Vec<IssuingBodyInput>,
    qualifications: Vec<(QualificationInput, Vec<Category>)>,
}

fn rows<T: serde::de::DeserializeOwned>(
    doc: &Value,
    key: &str,
    errors: &mut Vec<FieldError>,
) -> Vec<(usize, T)> {
    let Some(items) = doc.get(key) else {
        return Vec::new();
    };
    let Some(items) = items.as_array() else {
        errors.push(FieldError::new(key, "invalid", "Must be an array."));
        return Vec::new();
    };
    items
        .iter()
        .enumerate()
        .filter_map(
            |(i, item)| match serde_json::from_value::<T>(item.clone()) {
                Ok(row) => Some((i, row)),
                Err(e) => {
                    errors.push(FieldError::new(
                        format!("{key}[{i}]"),
                        "invalid",
                        e.to_string(),
                    ));
                    None
                }
            },
        )
        .collect()
}

/// Checks everything that needs no database: shapes, field rules, duplicate codes.
pub fn check_document(doc: &Value, urls: UrlPolicy) -> Result<Checked, Vec<FieldError>> {
    let mut errors = Vec::new();
    if !doc.is_object() {
        return Err(vec![FieldError::new(
            "",
            "invalid",
            "The document must be a JSON object.",
        )]);
    }
    let known = [
        "format",
        "notice",
        "list_version",
        "list_versions",
        "issuing_bodies",
        "qualifications",
    ];
    for key in doc
        .as_object()
        .into_iter()
        .flat_map(|o| o.keys())
        .filter(|k| !known.contains(&k.as_str()))
    {
        errors.push(FieldError::new(
            key.clone(),
            "unknown",
            "Not a member of the registry document.",
        ));
    }
    if let Some(format) = doc.get("format").and_then(Value::as_str) {
        if format != FORMAT {
            errors.push(FieldError::new(
                "format",
                "unsupported",
                format!("Expected {FORMAT}."),
            ));
        }
    }
    let mut versions = Vec::new();
    if let Some(single) = doc.get("list_version") {
        match serde_json::from_value::<ListVersionInput>(single.clone()) {
            Ok(v) => versions.extend(v.validate("list_version.").map_err(|e| errors.extend(e))),
            Err(e) => errors.push(FieldError::new("list_version", "invalid", e.to_string())),
        }
    }
    for (i, v) in rows::<ListVersionInput>(doc, "list_versions", &mut errors) {
        versions.extend(
            v.validate(&format!("list_versions[{i}]."))
                .map_err(|e| errors.extend(e)),
        );
    }
    let mut bodies = Vec::new();
    let mut body_codes = BTreeSet::new();
    for (i, b) in rows::<IssuingBodyInput>(doc, "issuing_bodies", &mut errors) {
        if let Ok(b) = b
            .validate(&format!("issuing_bodies[{i}]."), urls)
            .map_err(|e| errors.extend(e))
        {
            if !body_codes.insert(b.code.clone()) {
                errors.push(FieldError::new(
                    format!("issuing_bodies[{i}].code"),
                    "duplicate",
                    "This code appears earlier in the file.",
                ));
            }
            bodies.push(b);
        }
    }
    let mut quals = Vec::new();
    let mut qual_codes = BTreeSet::new();
    for (i, q) in rows::<QualificationInput>(doc, "qualifications", &mut errors) {
        if let Ok((q, cats)) = q
            .validate(&format!("qualifications[{i}]."))
            .map_err(|e| errors.extend(e))
        {
            if !qual_codes.insert(q.code.clone()) {
                errors.push(FieldError::new(
                    format!("qualifications[{i}].code"),
                    "duplicate",
                    "This code appears earlier in the file.",
                ));
            }
            quals.push((q, cats));
        }
    }
    if errors.is_empty() {
        Ok(Checked {
            versions,
            bodies,
            qualifications: quals,
        })
    } else {
        Err(errors)
    }
}

fn same_body(file: &IssuingBodyInput, db: &IssuingBodyInput) -> bool {
    let keys_known = file.public_keys.iter().all(|k| db.public_keys.contains(k));
    let mut file = file.clone();
    file.public_keys.clone_from(&db.public_keys);
    keys_known && &file == db
}

fn same_qualification(file: &QualificationInput, db: &QualificationInput) -> bool {
    let mut file = file.clone();
    file.status.get_or_insert_with(|| "listed".into());
    if let (Some(f), Some(d)) = (&mut file.removal, &db.removal) {
        f.removed_on = f.removed_on.or(d.removed_on);
    }
    &file == db
}

/// Every qualification must name an issuing body and list versions that exist in the file
/// or in the registry; all bad references are reported at once, before anything is written.
fn check_references(conn: &mut DbConnection, checked: &Checked) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    let mut bodies: BTreeSet<String> = checked.bodies.iter().map(|b| b.code.clone()).collect();
    let mut versions: BTreeSet<String> =
        checked.versions.iter().map(|v| v.version.clone()).collect();
    for (i, (q, _)) in checked.qualifications.iter().enumerate() {
        let (field, body) = match (&q.issuing_body, &q.issuing_body_id) {
            (Some(code), _) => ("issuing_body", code),
            (None, Some(id)) => ("issuing_body_id", id),
            (None, None) => continue,
        };
        if !bodies.contains(body) {
            match queries::find_body(conn, body)? {
                Some(row) => {
                    bodies.insert(row.code);
                    bodies.insert(row.id);
                }
                None => errors.push(FieldError::new(
                    format!("qualifications[{i}].{field}"),
                    "unknown",
                    format!("No issuing body {body}."),
                )),
            }
        }
        let removal_version = q
            .removal
            .as_ref()
            .map(|r| ("removal.list_version", &r.list_version));
        for (field, version) in [("list_version", &q.list_version)]
            .into_iter()
            .chain(removal_version)
        {
            if !versions.contains(version) {
                if store::list_version_exists(conn, version)? {
                    versions.insert(version.clone());
                } else {
                    errors.push(FieldError::new(
                        format!("qualifications[{i}].{field}"),
                        "unknown",
                        format!("No list version {version}."),
                    ));
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors))
    }
}

/// Applies a checked document inside the caller's write transaction.
pub fn apply(
    conn: &mut DbConnection,
    checked: Checked,
    actor: &str,
    progress: &dyn Fn(usize, usize),
) -> Result<ImportReport, ApiError> {
    check_references(conn, &checked)?;
    let mut report = ImportReport::default();
    let total = checked.versions.len() + checked.bodies.len() + checked.qualifications.len();
    let mut done = 0;
    for v in &checked.versions {
        let exists = store::list_version_exists(conn, &v.version)?;
        if exists {
            report.list_versions.add(Outcome::Unchanged);
        } else {
            store::insert_list_version(conn, v, actor)?;
            report.list_versions.add(Outcome::Created);
        }
        done += 1;
    }
    for b in &checked.bodies {
        let outcome = match queries::find_body(conn, &b.code)? {
            Some(row) => {
                let keys = queries::body_keys(conn, &row.id)?;
                if same_body(b, &row.to_input(&keys)) {
                    Outcome::Unchanged
                } else {
                    store::write_body(conn, Some(&row), b, actor)?;
                    Outcome::Updated
                }
            }
            None => {
                store::write_body(conn, None, b, actor)?;
                Outcome::Created
            }
        };
        report.issuing_bodies.add(outcome);
        done += 1;
    }
    for (i, (q, cats)) in checked.qualifications.iter().enumerate() {
        let prefix = format!("qualifications[{i}].");
        let existing = queries::find_qualification(conn, &q.code)?;
        let outcome = match &existing {
            Some((row, body)) if same_qualification(q, &row.to_input(&body.code)) => {
                Outcome::Unchanged
            }
            Some(_) => {
                store::write_qualification(conn, existing.as_ref(), q, cats, &prefix, actor)?;
                Outcome::Updated
            }
            None => {
                store::write_qualification(conn, None, q, cats, &prefix, actor)?;
                Outcome::Created
            }
        };
        report.qualifications.add(outcome);
        done += 1;
        if done % 500 == 0 || done == total {
            progress(done, total);
        }
    }
    report.changed = [
        report.list_versions,
        report.issuing_bodies,
        report.qualifications,
    ]
    .iter()
    .any(|c| c.created + c.updated > 0);
    Ok(report)
}

/// After a large import commits: fresh planner statistics, so searches use the right
/// indexes at once instead of after autovacuum's next pass (PostgreSQL only).
pub fn after_commit(conn: &mut DbConnection, report: &ImportReport) -> QueryResult<()> {
    const LARGE: usize = 500;
    let changed = report.qualifications.created + report.qualifications.updated;
    if let (DbConnection::Pg(pg), true) = (conn, changed >= LARGE) {
        diesel::sql_query("ANALYZE qualifications, issuing_bodies").execute(pg)?;
    }
    Ok(())
}

/// The whole registry in the import format, ordered by code, so export → import round-trips.
pub fn export(conn: &mut DbConnection) -> QueryResult<RegistryDocument> {
    let versions = queries::all_list_versions(conn)?
        .into_iter()
        .map(|v| ListVersionInput {
            version: v.version,
            title: v.title,
            published_on: v.published_on,
            effective_on: v.effective_on,
            notes: v.notes,
        })
        .collect();
    let mut bodies = Vec::new();
    for body in queries::all_bodies(conn)? {
        let keys = queries::body_keys(conn, &body.id)?;
        bodies.push(body.to_input(&keys));
    }
    let rows: Vec<(queries::QualificationRow, queries::IssuingBodyRow)> = qualifications::table
        .inner_join(crate::db::schema::issuing_bodies::table)
        .order(qualifications::code.asc())
        .select((
            queries::QualificationRow::as_select(),
            queries::IssuingBodyRow::as_select(),
        ))
        .load(conn)?;
    Ok(RegistryDocument {
        format: Some(FORMAT.into()),
        notice: None,
        list_version: None,
        list_versions: versions,
        issuing_bodies: bodies,
        qualifications: rows.iter().map(|(q, b)| q.to_input(&b.code)).collect(),
    })
}
