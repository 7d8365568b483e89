//! Registry writes. Each function runs inside the caller's write transaction and records
//! its change (before and after) in the same transaction.

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde_json::json;

use super::input::{IssuingBodyInput, ListVersionInput, QualificationInput};
use super::queries::{self, new_id, now, IssuingBodyRow, QualificationRow};
use super::types::PublicJwk;
use crate::db::schema::{issuing_bodies, issuing_body_keys, list_versions, qualifications};
use crate::db::DbConnection;
use crate::domain::qualification::Category;
use crate::error::{ApiError, FieldError};

fn to_json<T: serde::Serialize>(value: &T) -> Option<serde_json::Value> {
    serde_json::to_value(value).ok()
}

fn unknown(field: String, message: String) -> ApiError {
    ApiError::validation(vec![FieldError::new(field, "unknown", message)])
}

pub fn list_version_exists(conn: &mut DbConnection, version: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(list_versions::table.find(version))).get_result(conn)
}

pub fn insert_list_version(
    conn: &mut DbConnection,
    v: &ListVersionInput,
    actor: &str,
) -> Result<(), ApiError> {
    let inserted = diesel::insert_into(list_versions::table)
        .values((
            list_versions::version.eq(&v.version),
            list_versions::title.eq(&v.title),
            list_versions::published_on.eq(v.published_on),
            list_versions::effective_on.eq(v.effective_on),
            list_versions::notes.eq(&v.notes),
            list_versions::created_at.eq(now()),
        ))
        .execute(conn);
    if let Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) = inserted {
        return Err(ApiError::conflict(
            "list_version_exists",
            format!("List version {} exists.", v.version),
        ));
    }
    inserted?;
    queries::record_change(
        conn,
        "list_version",
        &v.version,
        "create",
        actor,
        None,
        to_json(v),
    )?;
    Ok(())
}

/// Creates (`existing` None) or replaces an issuing body; adds the keys it names that the
/// body does not have yet. Keys are never retired here: that is an explicit act.
pub fn write_body(
    conn: &mut DbConnection,
    existing: Option<&IssuingBodyRow>,
    spec: &IssuingBodyInput,
    actor: &str,
) -> Result<IssuingBodyRow, ApiError> {
    let at = now();
    let status = spec.status.as_deref().unwrap_or("active");
    let (id, before, action) = match existing {
        Some(row) => {
            let keys = queries::body_keys(conn, &row.id)?;
            (row.id.clone(), to_json(&row.to_input(&keys)), "update")
        }
        None => (new_id(), None, "create"),
    };
    let values = (
        issuing_bodies::name_en.eq(&spec.name_en),
        issuing_bodies::name_zh.eq(&spec.name_zh),
        issuing_bodies::country.eq(&spec.country),
        issuing_bodies::website.eq(&spec.website),
        issuing_bodies::verification_mode.eq(&spec.verification_mode),
        issuing_bodies::api_base_url.eq(&spec.api_base_url),
        issuing_bodies::status.eq(status),
        issuing_bodies::updated_at.eq(at),
    );
    let written = if existing.is_some() {
        diesel::update(issuing_bodies::table.find(&id))
            .set(values)
            .execute(conn)
    } else {
        diesel::insert_into(issuing_bodies::table)
            .values((
                issuing_bodies::id.eq(&id),
                issuing_bodies::code.eq(&spec.code),
                issuing_bodies::created_at.eq(at),
                values,
            ))
            .execute(conn)
    };
    if let Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) = written {
        return Err(ApiError::conflict(
            "code_taken",
            format!("An issuing body with code {} exists.", spec.code),
        ));
    }
    written?;
    let known = queries::body_keys(conn, &id)?;
    for (i, key) in spec.public_keys.iter().enumerate() {
        match known.iter().find(|k| k.kid == key.kid) {
            None => insert_key(conn, &id, key)?,
            Some(k) if k.status == "active" && k.x == key.x => {}
            Some(_) => {
                return Err(ApiError::validation(vec![FieldError::new(
                format!("public_keys[{i}].kid"),
                "kid_taken",
                "This kid is taken by another or a retired key; a retired key cannot come back.",
            )]))
            }
        }
    }
    let row = queries::find_body(conn, &id)?.ok_or(DieselError::NotFound)?;
    let keys = queries::body_keys(conn, &id)?;
    let after = to_json(&row.to_input(&keys));
    if before != after {
        queries::record_change(conn, "issuing_body", &id, action, actor, before, after)?;
    }
    Ok(row)
}

fn insert_key(conn: &mut DbConnection, body_id: &str, key: &PublicJwk) -> Result<(), ApiError> {
    diesel::insert_into(issuing_body_keys::table)
        .values((
            issuing_body_keys::issuing_body_id.eq(body_id),
            issuing_body_keys::kid.eq(&key.kid),
            issuing_body_keys::x.eq(&key.x),
            issuing_body_keys::status.eq("active"),
            issuing_body_keys::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn add_key(
    conn: &mut DbConnection,
    body: &IssuingBodyRow,
    key: &PublicJwk,
    actor: &str,
) -> Result<(), ApiError> {
    let known = queries::body_keys(conn, &body.id)?;
    if known.iter().any(|k| k.kid == key.kid) {
        return Err(ApiError::conflict(
            "kid_taken",
            format!("Key {} exists (active or retired).", key.kid),
        ));
    }
    insert_key(conn, &body.id, key)?;
    queries::record_change(
        conn,
        "issuing_body",
        &body.id,
        "add_key",
        actor,
        None,
        to_json(key),
    )?;
    Ok(())
}

pub fn retire_key(
    conn: &mut DbConnection,
    body: &IssuingBodyRow,
    kid: &str,
    actor: &str,
) -> Result<(), ApiError> {
    let updated = diesel::update(
        issuing_body_keys::table
            .filter(issuing_body_keys::issuing_body_id.eq(&body.id))
            .filter(issuing_body_keys::kid.eq(kid))
            .filter(issuing_body_keys::status.eq("active")),
    )
    .set((
        issuing_body_keys::status.eq("retired"),
        issuing_body_keys::retired_at.eq(now()),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Err(ApiError::not_found(format!(
            "No active key {kid} for {}.",
            body.code
        )));
    }
    queries::record_change(
        conn,
        "issuing_body",
        &body.id,
        "retire_key",
        actor,
        Some(json!({"kid": kid})),
        None,
    )?;
    Ok(())
}

/// Creates or replaces a qualification from a validated input.
pub fn write_qualification(
    conn: &mut DbConnection,
    existing: Option<&(QualificationRow, IssuingBodyRow)>,
    spec: &QualificationInput,
    categories: &[Category],
    prefix: &str,
    actor: &str,
) -> Result<QualificationRow, ApiError> {
    let body_ref = spec
        .issuing_body_id
        .as_deref()
        .or(spec.issuing_body.as_deref())
        .unwrap_or_default();
    let body = queries::find_body(conn, body_ref)?.ok_or_else(|| {
        let field = if spec.issuing_body_id.is_some() {
            "issuing_body_id"
        } else {
            "issuing_body"
        };
        unknown(
            format!("{prefix}{field}"),
            format!("No issuing body {body_ref}."),
        )
    })?;
    if !list_version_exists(conn, &spec.list_version)? {
        return Err(unknown(
            format!("{prefix}list_version"),
            format!("No list version {}.", spec.list_version),
        ));
    }
    if let Some(removal) = &spec.removal {
        if !list_version_exists(conn, &removal.list_version)? {
            return Err(unknown(
                format!("{prefix}removal.list_version"),
                format!("No list version {}.", removal.list_version),
            ));
        }
    }
    let at = now();
    let has = |c: Category| categories.contains(&c);
    let removal = spec.removal.as_ref();
    let values = (
        qualifications::name_en.eq(&spec.name_en),
        qualifications::name_zh.eq(&spec.name_zh),
        qualifications::abbreviation.eq(&spec.abbreviation),
        qualifications::issuing_body_id.eq(&body.id),
        qualifications::field.eq(&spec.field),
        (
            qualifications::category_a.eq(has(Category::A)),
            qualifications::category_b.eq(has(Category::B)),
            qualifications::category_c.eq(has(Category::C)),
            qualifications::category_d.eq(has(Category::D)),
        ),
        qualifications::title_series.eq(&spec.title_series),
        qualifications::title_level.eq(&spec.title_level),
        qualifications::equivalences
            .eq(serde_json::to_string(&spec.equivalences).map_err(ApiError::internal)?),
        qualifications::list_version.eq(&spec.list_version),
        qualifications::status.eq(if removal.is_some() {
            "removed"
        } else {
            "listed"
        }),
        (
            qualifications::removed_in_version.eq(removal.map(|r| r.list_version.clone())),
            qualifications::removed_on
                .eq(removal.map(|r| r.removed_on.unwrap_or_else(|| at.date()))),
            qualifications::removal_reason.eq(removal.map(|r| r.reason.clone())),
        ),
        qualifications::demo.eq(spec.demo),
        qualifications::search_text.eq(queries::search_text(spec)),
        qualifications::updated_at.eq(at),
    );
    let (id, before, action) = match existing {
        Some((row, old_body)) => (
            row.id.clone(),
            to_json(&row.to_input(&old_body.code)),
            "update",
        ),
        None => (new_id(), None, "create"),
    };
    let written = match existing {
        Some(_) => diesel::update(qualifications::table.find(&id))
            .set(values)
            .execute(conn),
        None => diesel::insert_into(qualifications::table)
            .values((
                qualifications::id.eq(&id),
                qualifications::code.eq(&spec.code),
                qualifications::created_at.eq(at),
                values,
            ))
            .execute(conn),
    };
    if let Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) = written {
        return Err(ApiError::conflict(
            "code_taken",
            format!("A qualification with code {} exists.", spec.code),
        ));
    }
    written?;
    let (row, _) = queries::find_qualification(conn, &id)?.ok_or(DieselError::NotFound)?;
    let after = to_json(&row.to_input(&body.code));
    if before != after {
        queries::record_change(conn, "qualification", &id, action, actor, before, after)?;
    }
    Ok(row)
}

/// Takes a listed qualification off the list; the row and its history stay.
pub fn set_listing(
    conn: &mut DbConnection,
    current: &(QualificationRow, IssuingBodyRow),
    removal: Option<(&str, &str)>,
    actor: &str,
    effects: &super::ListingEffects,
) -> Result<QualificationRow, ApiError> {
    let (row, body) = current;
    match (removal, row.status.as_str()) {
        (Some(_), "removed") => {
            return Err(ApiError::conflict(
                "already_removed",
                "The qualification is already removed.",
            ))
        }
        (None, "listed") => {
            return Err(ApiError::conflict(
                "not_removed",
                "The qualification is listed; there is nothing to restore.",
            ))
        }
        _ => {}
    }
    if let Some((version, _)) = removal {
        if !list_version_exists(conn, version)? {
            return Err(unknown(
                "list_version".into(),
                format!("No list version {version}."),
            ));
        }
    }
    diesel::update(qualifications::table.find(&row.id))
        .set((
            qualifications::status.eq(if removal.is_some() {
                "removed"
            } else {
                "listed"
            }),
            qualifications::removed_in_version.eq(removal.map(|(v, _)| v)),
            qualifications::removed_on.eq(removal.map(|_| now().date())),
            qualifications::removal_reason.eq(removal.map(|(_, r)| r)),
            qualifications::updated_at.eq(now()),
        ))
        .execute(conn)?;
    let (updated, _) = queries::find_qualification(conn, &row.id)?.ok_or(DieselError::NotFound)?;
    let action = if removal.is_some() {
        "remove"
    } else {
        "restore"
    };
    queries::record_change(
        conn,
        "qualification",
        &row.id,
        action,
        actor,
        to_json(&row.to_input(&body.code)),
        to_json(&updated.to_input(&body.code)),
    )?;
    let who = format!("admin:{actor}");
    if removal.is_some() {
        (effects.removed)(conn, &row.id, &who)?;
    } else {
        (effects.restored)(conn, &row.id, &who)?;
    }
    Ok(updated)
}
