//! Registry storage: rows, look-ups, and the append-only change log.

use super::types::ListVersion;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde_json::Value;

use super::input::{IssuingBodyInput, QualificationInput, RemovalInput};
use super::types::{
    HistoryEntry, IssuingBodySummary, IssuingBodyView, PublicJwk, QualificationView, Removal,
};
use crate::db::schema::{
    issuing_bodies, issuing_body_keys, list_versions, qualifications, registry_changes,
};
use crate::db::DbConnection;
use crate::domain::qualification::{Category, Equivalence, TitleLevel};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = issuing_bodies)]
pub struct IssuingBodyRow {
    pub id: String,
    pub code: String,
    pub name_en: String,
    pub name_zh: Option<String>,
    pub country: String,
    pub website: Option<String>,
    pub verification_mode: String,
    pub api_base_url: Option<String>,
    pub status: String,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = issuing_body_keys)]
pub struct KeyRow {
    pub kid: String,
    pub x: String,
    pub status: String,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = qualifications)]
pub struct QualificationRow {
    pub id: String,
    pub code: String,
    pub name_en: String,
    pub name_zh: Option<String>,
    pub abbreviation: Option<String>,
    pub issuing_body_id: String,
    pub field: String,
    pub category_a: bool,
    pub category_b: bool,
    pub category_c: bool,
    pub category_d: bool,
    pub title_series: Option<String>,
    pub title_level: Option<String>,
    pub equivalences: String,
    pub list_version: String,
    pub status: String,
    pub removed_in_version: Option<String>,
    pub removed_on: Option<NaiveDate>,
    pub removal_reason: Option<String>,
    pub demo: bool,
}

impl IssuingBodyRow {
    pub fn summary(&self) -> IssuingBodySummary {
        IssuingBodySummary {
            id: self.id.clone(),
            code: self.code.clone(),
            name_en: self.name_en.clone(),
            name_zh: self.name_zh.clone(),
            country: self.country.clone(),
        }
    }

    pub fn view(self, keys: &[KeyRow]) -> IssuingBodyView {
        IssuingBodyView {
            public_keys: active_jwks(keys),
            id: self.id,
            code: self.code,
            name_en: self.name_en,
            name_zh: self.name_zh,
            country: self.country,
            website: self.website,
            verification_mode: self.verification_mode,
            api_base_url: self.api_base_url,
            status: self.status,
        }
    }

    /// The row in import/export form: what change history and exports record.
    pub fn to_input(&self, keys: &[KeyRow]) -> IssuingBodyInput {
        IssuingBodyInput {
            code: self.code.clone(),
            name_en: self.name_en.clone(),
            name_zh: self.name_zh.clone(),
            country: self.country.clone(),
            website: self.website.clone(),
            verification_mode: self.verification_mode.clone(),
            api_base_url: self.api_base_url.clone(),
            public_keys: active_jwks(keys),
            status: Some(self.status.clone()),
        }
    }
}

fn active_jwks(keys: &[KeyRow]) -> Vec<PublicJwk> {
    keys.iter()
        .filter(|k| k.status == "active")
        .map(|k| PublicJwk::ed25519(&k.kid, &k.x))
        .collect()
}

impl QualificationRow {
    pub fn categories(&self) -> Vec<Category> {
        [
            (self.category_a, Category::A),
            (self.category_b, Category::B),
            (self.category_c, Category::C),
            (self.category_d, Category::D),
        ]
        .into_iter()
        .filter_map(|(on, c)| on.then_some(c))
        .collect()
    }

    pub fn equivalence_list(&self) -> Vec<Equivalence> {
        // Written only by this module from typed values; unreadable JSON means none.
        serde_json::from_str(&self.equivalences).unwrap_or_default()
    }

    pub fn removal(&self) -> Option<Removal> {
        match (
            &self.removed_in_version,
            self.removed_on,
            &self.removal_reason,
        ) {
            (Some(v), Some(on), Some(reason)) if self.status == "removed" => Some(Removal {
                list_version: v.clone(),
                removed_on: on,
                reason: reason.clone(),
            }),
            _ => None,
        }
    }

    pub fn view(&self, body: &IssuingBodyRow) -> QualificationView {
        QualificationView {
            id: self.id.clone(),
            code: self.code.clone(),
            name_en: self.name_en.clone(),
            name_zh: self.name_zh.clone(),
            abbreviation: self.abbreviation.clone(),
            issuing_body: body.summary(),
            field: self.field.clone(),
            categories: self.categories(),
            title_series: self.title_series.clone(),
            title_level: self.title_level.as_deref().and_then(TitleLevel::parse),
            equivalences: self.equivalence_list(),
            list_version: self.list_version.clone(),
            status: self.status.clone(),
            removal: self.removal(),
            demo: self.demo,
        }
    }

    pub fn to_input(&self, body_code: &str) -> QualificationInput {
        QualificationInput {
            code: self.code.clone(),
            name_en: self.name_en.clone(),
            name_zh: self.name_zh.clone(),
            abbreviation: self.abbreviation.clone(),
            issuing_body_id: None,
            issuing_body: Some(body_code.to_owned()),
            field: self.field.clone(),
            categories: self
                .categories()
                .iter()
                .map(|c| c.as_str().to_owned())
                .collect(),
            title_series: self.title_series.clone(),
            title_level: self.title_level.clone(),
            equivalences: self.equivalence_list(),
            list_version: self.list_version.clone(),
            demo: self.demo,
            status: Some(self.status.clone()),
            removal: self.removal().map(|r| RemovalInput {
                list_version: r.list_version,
                removed_on: Some(r.removed_on),
                reason: r.reason,
            }),
        }
    }
}

pub fn now() -> NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Appends one change with the state before and after.
pub fn record_change(
    conn: &mut DbConnection,
    entity: &str,
    entity_id: &str,
    action: &str,
    actor: &str,
    before: Option<Value>,
    after: Option<Value>,
) -> QueryResult<()> {
    diesel::insert_into(registry_changes::table)
        .values((
            registry_changes::id.eq(new_id()),
            registry_changes::entity.eq(entity),
            registry_changes::entity_id.eq(entity_id),
            registry_changes::action.eq(action),
            registry_changes::actor.eq(actor),
            registry_changes::at.eq(now()),
            registry_changes::before_state.eq(before.map(|v| v.to_string())),
            registry_changes::after_state.eq(after.map(|v| v.to_string())),
        ))
        .execute(conn)
        .map(|_| ())
}

/// action, at, actor, before, after
type ChangeRow = (
    String,
    NaiveDateTime,
    String,
    Option<String>,
    Option<String>,
);

pub fn history(
    conn: &mut DbConnection,
    entity: &str,
    entity_id: &str,
) -> QueryResult<Vec<HistoryEntry>> {
    let rows: Vec<ChangeRow> = registry_changes::table
        .filter(registry_changes::entity.eq(entity))
        .filter(registry_changes::entity_id.eq(entity_id))
        .order(registry_changes::id.asc())
        .select((
            registry_changes::action,
            registry_changes::at,
            registry_changes::actor,
            registry_changes::before_state,
            registry_changes::after_state,
        ))
        .load(conn)?;
    let parse = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
    Ok(rows
        .into_iter()
        .map(|(action, at, actor, before, after)| HistoryEntry {
            action,
            at,
            actor,
            before: parse(before),
            after: parse(after),
        })
        .collect())
}

/// Every list version, oldest first.
pub fn all_list_versions(conn: &mut DbConnection) -> QueryResult<Vec<ListVersion>> {
    list_versions::table
        .order(list_versions::created_at.asc())
        .select(ListVersion::as_select())
        .load(conn)
}

pub fn find_body(conn: &mut DbConnection, id_or_code: &str) -> QueryResult<Option<IssuingBodyRow>> {
    issuing_bodies::table
        .filter(
            issuing_bodies::id
                .eq(id_or_code)
                .or(issuing_bodies::code.eq(id_or_code)),
        )
        .select(IssuingBodyRow::as_select())
        .first(conn)
        .optional()
}

pub fn all_bodies(conn: &mut DbConnection) -> QueryResult<Vec<IssuingBodyRow>> {
    issuing_bodies::table
        .order(issuing_bodies::code.asc())
        .select(IssuingBodyRow::as_select())
        .load(conn)
}

pub fn body_keys(conn: &mut DbConnection, body_id: &str) -> QueryResult<Vec<KeyRow>> {
    issuing_body_keys::table
        .filter(issuing_body_keys::issuing_body_id.eq(body_id))
        .order(issuing_body_keys::created_at.asc())
        .select(KeyRow::as_select())
        .load(conn)
}

pub fn find_qualification(
    conn: &mut DbConnection,
    id: &str,
) -> QueryResult<Option<(QualificationRow, IssuingBodyRow)>> {
    qualifications::table
        .inner_join(issuing_bodies::table)
        .filter(qualifications::id.eq(id).or(qualifications::code.eq(id)))
        .select((QualificationRow::as_select(), IssuingBodyRow::as_select()))
        .first(conn)
        .optional()
}

/// The lower-cased text that `q` searches: both names, the code and the abbreviation.
pub fn search_text(q: &QualificationInput) -> String {
    [
        Some(q.name_en.as_str()),
        q.name_zh.as_deref(),
        Some(q.code.as_str()),
        q.abbreviation.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" \u{1f} ")
    .to_lowercase()
}
