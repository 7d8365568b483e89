//! Cursor pages: what every list answers, and the parameters that ask for one. Below
//! every feature module, so any list can use them.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;

/// A page of a list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// `limit + 1` rows → a page; the extra row only tells that another page exists, and
    /// the last row kept gives the cursor.
    pub fn of<R>(
        mut rows: Vec<R>,
        limit: i64,
        cursor: impl Fn(&R) -> String,
        view: impl FnMut(R) -> T,
    ) -> Self {
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let next_cursor = if more { rows.last().map(cursor) } else { None };
        Page {
            items: rows.into_iter().map(view).collect(),
            next_cursor,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    #[serde(default, deserialize_with = "crate::page::empty_as_none")]
    pub cursor: Option<String>,
    /// 1 to 100; default 20.
    pub limit: Option<i64>,
}

impl ListParams {
    pub fn checked_limit(&self) -> Result<i64, ApiError> {
        let limit = self.limit.unwrap_or(20);
        if (1..=100).contains(&limit) {
            Ok(limit)
        } else {
            Err(ApiError::bad_request("invalid_query", "limit is 1 to 100."))
        }
    }
}

/// A query parameter given empty (`?category=`, as an HTML form sends an unset field)
/// counts as not given. `#[serde(default, deserialize_with = "crate::page::empty_as_none")]`
pub fn empty_as_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let value = Option::<String>::deserialize(d)?;
    Ok(value.filter(|v| !v.is_empty()))
}

/// An integer field that also takes a JSON number with no fraction (`30.0`): JSON, and
/// JSON Schema's `integer`, do not tell the two apart.
pub fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    if let Some(i) = n.as_i64() {
        return Ok(i);
    }
    match n.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(f as i64),
        _ => Err(serde::de::Error::custom(format!(
            "{n} is not a whole number"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::Page;

    #[test]
    fn an_extra_row_means_another_page_whose_cursor_is_the_last_row_kept() {
        let page = Page::of(vec![1, 2, 3], 2, |n| format!("c{n}"), |n| n * 10);
        assert_eq!(page.items, [10, 20]);
        assert_eq!(page.next_cursor.as_deref(), Some("c2"));
    }

    #[test]
    fn a_whole_float_is_an_integer_and_a_fraction_is_not() {
        let read = |json: &str| {
            super::whole_number(&mut serde_json::Deserializer::from_str(json)).map_err(|_| ())
        };
        assert_eq!(read("30"), Ok(30));
        assert_eq!(read("136.0"), Ok(136));
        assert_eq!(read("1.5"), Err(()));
    }

    #[test]
    fn without_an_extra_row_the_page_is_the_last() {
        let page = Page::of(vec![1, 2], 2, |n| format!("c{n}"), |n| n);
        assert_eq!(page.items, [1, 2]);
        assert_eq!(page.next_cursor, None);
    }
}
