//! Holders' page sessions (DESIGN.md, "Web pages"): a random id for the cookie, kept in the
//! database only as its SHA-256, with a CSRF token of its own; it ends after
//! `CERTVERIFY_SESSION_IDLE_SECONDS` without use or `CERTVERIFY_SESSION_ABSOLUTE_SECONDS`
//! after login, at logout, and for every session of a holder at a password reset. The
//! pages (`src/web/`) own the cookie; this owns the rows.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::tokens::{digest, now, random_secret};
use crate::config::AccountSettings;
use crate::db::schema::holder_sessions;
use crate::db::{self, DbConnection};

/// A session just made: the id goes into the cookie and is never seen again here.
#[derive(Debug)]
pub struct NewSession {
    pub id: String,
    pub csrf_token: String,
}

/// A live session, as a page needs it.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = holder_sessions)]
pub struct Session {
    pub holder_id: String,
    pub csrf_token: String,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
}

impl Session {
    /// Compares a form's CSRF token in constant time.
    pub fn csrf_matches(&self, given: &str) -> bool {
        super::tokens::same_secret(&self.csrf_token, given)
    }
}

/// A new session for `holder_id` (at login: always a new id). `previous`, the id the
/// browser came with, ends in the same transaction, so a planted id never becomes a
/// logged-in one.
pub fn create(
    conn: &mut DbConnection,
    holder_id: &str,
    previous: Option<&str>,
) -> QueryResult<NewSession> {
    let new = NewSession {
        id: random_secret(),
        csrf_token: random_secret(),
    };
    let at = now();
    db::write_transaction(conn, |conn| {
        if let Some(old) = previous {
            end(conn, old)?;
        }
        diesel::insert_into(holder_sessions::table)
            .values((
                holder_sessions::id_hash.eq(digest(&new.id)),
                holder_sessions::holder_id.eq(holder_id),
                holder_sessions::csrf_token.eq(&new.csrf_token),
                holder_sessions::created_at.eq(at),
                holder_sessions::last_seen_at.eq(at),
            ))
            .execute(conn)
    })?;
    Ok(new)
}

/// The live session of cookie value `id`, touched (its idle time starts again); `None`
/// for an unknown or ended one. A session past either limit is deleted on the way.
pub fn touch(
    conn: &mut DbConnection,
    id: &str,
    limits: &AccountSettings,
) -> QueryResult<Option<Session>> {
    touch_at(conn, id, limits, now())
}

/// [`touch`] at a given time (tests move the clock instead of waiting).
pub fn touch_at(
    conn: &mut DbConnection,
    id: &str,
    limits: &AccountSettings,
    at: NaiveDateTime,
) -> QueryResult<Option<Session>> {
    let hash = digest(id);
    let idle =
        chrono::Duration::from_std(limits.session_idle).unwrap_or(chrono::Duration::minutes(30));
    let absolute =
        chrono::Duration::from_std(limits.session_absolute).unwrap_or(chrono::Duration::hours(12));
    let row: Option<Session> = holder_sessions::table
        .find(&hash)
        .select(Session::as_select())
        .first(conn)
        .optional()?;
    let Some(mut session) = row else {
        return Ok(None);
    };
    if at - session.last_seen_at > idle || at - session.created_at > absolute {
        db::write_statement(conn, |conn| {
            diesel::delete(holder_sessions::table.find(&hash)).execute(conn)
        })?;
        return Ok(None);
    }
    db::write_statement(conn, |conn| {
        diesel::update(holder_sessions::table.find(&hash))
            .set(holder_sessions::last_seen_at.eq(at))
            .execute(conn)
    })?;
    session.last_seen_at = at;
    Ok(Some(session))
}

/// Logout: ends the session of cookie value `id` (nothing when there is none).
pub fn end(conn: &mut DbConnection, id: &str) -> QueryResult<()> {
    diesel::delete(holder_sessions::table.find(digest(id)))
        .execute(conn)
        .map(drop)
}

/// Ends every session of a holder (a password reset or change); call it inside the
/// transaction of that change. Returns how many ended.
pub fn end_all(conn: &mut DbConnection, holder_id: &str) -> QueryResult<usize> {
    diesel::delete(holder_sessions::table.filter(holder_sessions::holder_id.eq(holder_id)))
        .execute(conn)
}
