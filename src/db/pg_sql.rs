//! Hand-written PostgreSQL statements that stay prepared.
//!
//! diesel's `sql_query` is never kept prepared (its text might be built from input), so
//! PostgreSQL parses and plans it on every run; for the multi-table CTEs of the issuing
//! pipeline that was a large share of the server's time. [`PgSql`] is built only from
//! `'static` text and parameters, so diesel may cache it, keyed by its text and bind types.
//! Placeholders are numbered as the pieces are written: a parameter cannot be bound to the
//! wrong `$n`.

use std::marker::PhantomData;

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{HasSqlType, Untyped};
use diesel::{QueryResult, RunQueryDsl};

enum Piece<'a> {
    Text(&'static str),
    Param(Box<dyn QueryFragment<Pg> + Send + 'a>),
}

/// A statement of constant text and parameters, run like `sql_query` (`execute`,
/// `get_result`/`load` into `QueryableByName` types).
#[derive(Default)]
pub struct PgSql<'a> {
    pieces: Vec<Piece<'a>>,
}

struct Bound<ST, U> {
    value: U,
    sql_type: PhantomData<ST>,
}

impl<ST, U> QueryFragment<Pg> for Bound<ST, U>
where
    Pg: HasSqlType<ST>,
    U: ToSql<ST, Pg>,
{
    fn walk_ast<'b>(&'b self, mut pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        pass.push_bind_param::<ST, U>(&self.value)
    }
}

impl<'a> PgSql<'a> {
    pub fn new(text: &'static str) -> Self {
        Self::default().sql(text)
    }

    /// Appends constant text (`'static`: no input can reach the statement's text).
    pub fn sql(mut self, text: &'static str) -> Self {
        self.pieces.push(Piece::Text(text));
        self
    }

    /// Appends the next placeholder, bound to `value`.
    pub fn param<ST, U>(mut self, value: U) -> Self
    where
        Pg: HasSqlType<ST>,
        U: ToSql<ST, Pg> + Send + 'a,
        ST: Send + 'a,
    {
        self.pieces.push(Piece::Param(Box::new(Bound {
            value,
            sql_type: PhantomData::<ST>,
        })));
        self
    }
}

impl QueryFragment<Pg> for PgSql<'_> {
    fn walk_ast<'b>(&'b self, mut pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => pass.push_sql(text),
                Piece::Param(param) => param.walk_ast(pass.reborrow())?,
            }
        }
        Ok(())
    }
}

/// No static id: diesel then caches the statement by its text and bind types.
impl QueryId for PgSql<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for PgSql<'_> {
    type SqlType = Untyped;
}

impl<Conn> RunQueryDsl<Conn> for PgSql<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::sql_types::{Integer, Text};

    #[test]
    fn placeholders_are_numbered_in_the_order_parameters_are_written() {
        let query = PgSql::new("SELECT ")
            .param::<Text, _>("a")
            .sql(", ")
            .param::<Integer, _>(2)
            .sql(" WHERE x = ")
            .param::<Text, _>("c");
        let shown = diesel::debug_query::<Pg, _>(&query).to_string();
        assert!(
            shown.starts_with(r#"SELECT $1, $2 WHERE x = $3 -- binds: ["a", 2, "c"]"#),
            "{shown}"
        );
    }

    #[test]
    fn it_may_be_kept_prepared_where_sql_query_may_not() {
        let ours = PgSql::new("SELECT ").param::<Integer, _>(1);
        assert!(ours.is_safe_to_cache_prepared(&Pg).unwrap());
        let theirs = diesel::sql_query("SELECT $1").bind::<Integer, _>(1);
        assert!(!theirs.is_safe_to_cache_prepared(&Pg).unwrap());
    }
}
