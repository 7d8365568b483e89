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
    fn without_an_extra_row_the_page_is_the_last() {
        let page = Page::of(vec![1, 2], 2, |n| format!("c{n}"), |n| n);
        assert_eq!(page.items, [1, 2]);
        assert_eq!(page.next_cursor, None);
    }
}
