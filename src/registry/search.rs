//! Public search over the list: filters, free text in any script, keyset pagination.

use diesel::prelude::*;
use serde::Deserialize;
use utoipa::IntoParams;

use super::queries::{IssuingBodyRow, QualificationRow};
use super::types::QualificationView;
use crate::db::schema::{issuing_bodies, qualifications};
use crate::db::DbConnection;
use crate::domain::country_code;
use crate::domain::qualification::Category;
use crate::error::{ApiError, FieldError};
use crate::page::Page;

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// A, B, C or D.
    #[serde(default, deserialize_with = "crate::page::empty_as_none")]
    pub category: Option<String>,
    /// e.g. `accounting`, `information_technology`.
    #[serde(default, deserialize_with = "crate::page::empty_as_none")]
    pub field: Option<String>,
    /// The issuing body's country (ISO 3166-1 alpha-2).
    #[serde(default, deserialize_with = "crate::page::empty_as_none")]
    pub country: Option<String>,
    /// The issuing body's id or code.
    #[serde(default, deserialize_with = "crate::page::empty_as_none")]
    pub issuing_body: Option<String>,
    /// The list version that added the qualification.
    #[serde(default, deserialize_with = "crate::page::empty_as_none")]
    pub list_version: Option<String>,
    /// `listed` (default), `removed` or `all`.
    #[serde(default, deserialize_with = "crate::page::empty_as_none")]
    pub status: Option<String>,
    /// Free text over both names, the code and the abbreviation (any case, any script).
    #[serde(default, deserialize_with = "crate::page::empty_as_none")]
    pub q: Option<String>,
    /// From the previous page's `next_cursor`.
    #[serde(default, deserialize_with = "crate::page::empty_as_none")]
    pub cursor: Option<String>,
    /// 1 to 100; default 20.
    pub limit: Option<i64>,
}

/// A checked search.
#[derive(Debug)]
pub struct Search {
    category: Option<Category>,
    field: Option<String>,
    country: Option<String>,
    issuing_body: Option<String>,
    list_version: Option<String>,
    status: Option<&'static str>,
    pattern: Option<String>,
    after: Option<String>,
    limit: i64,
}

impl SearchParams {
    pub fn check(self) -> Result<Search, ApiError> {
        let mut errors = Vec::new();
        let category = self.category.as_deref().map(|c| {
            Category::parse(c)
                .ok_or_else(|| errors.push(FieldError::new("category", "invalid", "A, B, C or D.")))
        });
        let country = self.country.as_deref().map(|c| {
            country_code(c).ok_or_else(|| {
                errors.push(FieldError::new(
                    "country",
                    "invalid",
                    "An ISO 3166-1 alpha-2 code.",
                ))
            })
        });
        let status = match self.status.as_deref() {
            None | Some("listed") => Some("listed"),
            Some("removed") => Some("removed"),
            Some("all") => None,
            Some(_) => {
                errors.push(FieldError::new(
                    "status",
                    "invalid",
                    "listed, removed or all.",
                ));
                None
            }
        };
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            errors.push(FieldError::new(
                "limit",
                "out_of_range",
                format!("1 to {MAX_LIMIT}."),
            ));
        }
        let after = self.cursor.as_deref().map(|c| {
            decode_cursor(c).ok_or_else(|| {
                errors.push(FieldError::new(
                    "cursor",
                    "invalid",
                    "Not a cursor this API gave out.",
                ))
            })
        });
        let pattern = self
            .q
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(like_pattern);
        if !errors.is_empty() {
            let mut e =
                ApiError::bad_request("invalid_query", "One or more query parameters are invalid.");
            e.errors = errors;
            return Err(e);
        }
        Ok(Search {
            category: category.and_then(Result::ok),
            field: self
                .field
                .map(|f| f.trim().to_owned())
                .filter(|f| !f.is_empty()),
            country: country.and_then(Result::ok),
            issuing_body: self.issuing_body.filter(|b| !b.is_empty()),
            list_version: self.list_version.filter(|v| !v.is_empty()),
            status,
            pattern,
            after: after.and_then(Result::ok),
            limit,
        })
    }
}

/// `%text%`, lower-cased the same way as `search_text`, with LIKE's wildcards escaped.
fn like_pattern(q: &str) -> String {
    let escaped: String = q
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("%{escaped}%")
}

/// A page's cursor is the id of its last qualification: ids are UUIDv7, in the page
/// order, so any UUID is a position.
fn encode_cursor(id: &str) -> String {
    id.to_owned()
}

fn decode_cursor(cursor: &str) -> Option<String> {
    uuid::Uuid::parse_str(cursor)
        .ok()
        .map(|id| id.hyphenated().to_string())
}

/// One page in id order. Ids are time-ordered, so rows added while a client pages land
/// after the rows it has not seen yet, and no row is repeated or skipped.
pub fn run(conn: &mut DbConnection, s: &Search) -> QueryResult<Page<QualificationView>> {
    let mut query = qualifications::table
        .inner_join(issuing_bodies::table)
        .select((QualificationRow::as_select(), IssuingBodyRow::as_select()))
        .into_boxed();
    query = match s.category {
        Some(Category::A) => query.filter(qualifications::category_a.eq(true)),
        Some(Category::B) => query.filter(qualifications::category_b.eq(true)),
        Some(Category::C) => query.filter(qualifications::category_c.eq(true)),
        Some(Category::D) => query.filter(qualifications::category_d.eq(true)),
        None => query,
    };
    if let Some(field) = &s.field {
        query = query.filter(qualifications::field.eq(field.clone()));
    }
    if let Some(country) = &s.country {
        query = query.filter(issuing_bodies::country.eq(country.clone()));
    }
    if let Some(body) = &s.issuing_body {
        query = query.filter(
            issuing_bodies::id
                .eq(body.clone())
                .or(issuing_bodies::code.eq(body.clone())),
        );
    }
    if let Some(version) = &s.list_version {
        query = query.filter(qualifications::list_version.eq(version.clone()));
    }
    if let Some(status) = s.status {
        query = query.filter(qualifications::status.eq(status));
    }
    if let Some(pattern) = &s.pattern {
        // Backslash is PostgreSQL's default LIKE escape, and a bound ESCAPE parameter keeps it
        // from using the trigram index; SQLite has no default escape and needs the clause.
        let like = qualifications::search_text.like(pattern.clone());
        query = match conn {
            DbConnection::Pg(_) => query.filter(like),
            DbConnection::Sqlite(_) => query.filter(like.escape('\\')),
        };
    }
    if let Some(after) = &s.after {
        query = query.filter(qualifications::id.gt(after.clone()));
    }
    let rows: Vec<(QualificationRow, IssuingBodyRow)> = query
        .order(qualifications::id.asc())
        .limit(s.limit + 1)
        .load(conn)?;
    Ok(Page::of(
        rows,
        s.limit,
        |(q, _)| encode_cursor(&q.id),
        |(q, b)| q.view(&b),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_text_is_lower_cased_and_wildcards_are_literal() {
        assert_eq!(like_pattern("FCCA"), "%fcca%");
        assert_eq!(like_pattern("100%_x"), "%100\\%\\_x%");
        assert_eq!(like_pattern("会计师"), "%会计师%");
    }

    #[test]
    fn cursors_round_trip_and_foreign_ones_are_refused() {
        let id = uuid::Uuid::now_v7().to_string();
        assert_eq!(decode_cursor(&encode_cursor(&id)), Some(id));
        assert_eq!(decode_cursor("not-a-cursor"), None);
        assert_eq!(decode_cursor(&encode_cursor("x' OR 1=1")), None);
    }

    #[test]
    fn bad_parameters_are_all_named() {
        let params = SearchParams {
            category: Some("E".into()),
            country: Some("XX".into()),
            status: Some("gone".into()),
            limit: Some(101),
            cursor: Some("??".into()),
            ..Default::default()
        };
        let err = params.check().unwrap_err();
        let fields: Vec<_> = err.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["category", "country", "status", "limit", "cursor"]);
    }
}
