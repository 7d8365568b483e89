//! Issuing a record: stored inside the transaction that confirms the request, which then
//! becomes `issued` (DESIGN.md, "States": exactly one record per request, even across
//! kill -9). It is built and signed there too, or, for the dispatcher's synchronous
//! confirmations, just before ([`prebuild`], [`store_prebuilt`]). The request's guarded
//! move to `issued` is the requests module's (`requests::issue`): it calls these after it.

use super::credential::{self, Claim, Draft, Facts, HolderFacts};
use super::queries::RecordRow;
use super::{did, status_list};
use crate::auth::keys::KeyRing;
use crate::db::schema::{
    holders, issuing_bodies, qualifications, records, status_lists, verification_requests,
};
use crate::db::DbConnection;
use crate::domain::identity::PiiKey;
use crate::error::ApiError;
use crate::registry::{IssuingBodyRow, QualificationRow};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use rand_core::{OsRng, RngCore};

/// What issuing needs from the running service.
#[derive(Clone, Copy)]
pub struct Issuance<'a> {
    pub keys: &'a KeyRing,
    pub pii: &'a PiiKey,
    pub public_url: &'a str,
    /// A record is valid at most this long after issue (CERTVERIFY_RECORD_VALIDITY_DAYS).
    pub validity: chrono::Duration,
    pub lists: &'a NewestLists,
}

/// The newest status list of each purpose as last read from the database, so issuing does
/// not look it up for every record (two queries of about ten per confirming transaction).
/// Only committed lists are remembered: a list this process creates is forgotten until it
/// is read back, so a rolled-back list is never handed out. Another instance's newer list
/// is found once this one's fills up; an older list still has free indices, so using it
/// meanwhile is correct.
#[derive(Default)]
pub struct NewestLists(std::sync::Mutex<std::collections::HashMap<String, String>>);

impl NewestLists {
    /// The remembered newest list of `purpose`, if any.
    fn newest(&self, purpose: &str) -> Option<String> {
        self.map().get(purpose).cloned()
    }

    fn map(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, String>> {
        // Entries are whole strings; a panic elsewhere cannot leave one half-written.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Issuance<'_> {
    pub fn did(&self) -> String {
        did::did_web(self.public_url)
    }

    pub fn status_list_url(&self, id: &str) -> String {
        format!("{}/v1/status-lists/{id}", self.public_url)
    }
}

/// Builds, signs and stores the record `id` of `request`, once the request has moved to
/// `issued` in this transaction.
pub fn issue(
    conn: &mut DbConnection,
    iss: &Issuance<'_>,
    request: Claim<'_>,
    id: &str,
    method: &str,
) -> Result<RecordRow, ApiError> {
    let facts = read_facts(conn, request.request_id)?;
    let draft = Draft {
        id,
        now: chrono::Utc::now().naive_utc(),
        key: iss.keys.active(),
        method,
    };
    draw_and_store(conn, iss, request, &facts, &draft, 0)
}

/// Draws status-list indices, builds the record on them and stores it, from draw `first`
/// on. Two issuers running at once (PostgreSQL) can draw the same free index; the unique
/// indices keep the second insert out, and it draws again instead of failing the whole
/// confirming transaction (which would wait out its job's lease to be retried).
fn draw_and_store(
    conn: &mut DbConnection,
    iss: &Issuance<'_>,
    request: Claim<'_>,
    facts: &Facts,
    draft: &Draft<'_>,
    first: usize,
) -> Result<RecordRow, ApiError> {
    let mut opened = Vec::new();
    for draw in first..DRAWS {
        // The first draw is blind: while lists are sparse the insert itself is the cheapest
        // probe. Once it has lost, the draws after it probe first.
        let probe = draw > 0;
        let revocation = allocate(conn, iss.lists, &mut opened, "revocation", draft.now, probe)?;
        let suspension = allocate(conn, iss.lists, &mut opened, "suspension", draft.now, probe)?;
        let record = credential::build(iss, request, facts, draft, (&revocation, &suspension))?;
        if insert_unless_taken(conn, &record)? {
            return Ok(record);
        }
    }
    Err(ApiError::internal(anyhow::anyhow!(
        "no free status-list index after {DRAWS} draws"
    )))
}

/// A record built and signed before its confirming transaction, for [`issue_prebuilt`].
pub struct Prebuilt<'a> {
    record: RecordRow,
    request: Claim<'a>,
    facts: &'a Facts,
    draft: Draft<'a>,
}

impl Prebuilt<'_> {
    /// The record's id.
    pub fn id(&self) -> &str {
        &self.record.id
    }

    /// The key that signed it.
    pub fn kid(&self) -> &str {
        &self.record.kid
    }
}

/// Builds the record of `request` on blindly drawn indices of the remembered newest lists
/// (that draw is [`issue`]'s first). None while no list of either purpose is remembered:
/// the usual way then reads them.
pub fn prebuild<'a>(
    iss: &Issuance<'a>,
    request: Claim<'a>,
    facts: &'a Facts,
    id: &'a str,
    method: &'a str,
) -> Result<Option<Prebuilt<'a>>, ApiError> {
    let (Some(revocation), Some(suspension)) = (
        iss.lists.newest("revocation"),
        iss.lists.newest("suspension"),
    ) else {
        return Ok(None);
    };
    let draft = Draft {
        id,
        now: chrono::Utc::now().naive_utc(),
        key: iss.keys.active(),
        method,
    };
    let entries = ((revocation, random_index()), (suspension, random_index()));
    let record = credential::build(iss, request, facts, &draft, (&entries.0, &entries.1))?;
    Ok(Some(Prebuilt {
        record,
        request,
        facts,
        draft,
    }))
}

/// Stores a [`prebuild`] record, once the request has moved to `issued` in this
/// transaction. Should its blind draw have lost, the draws after it probe, as in [`issue`].
pub fn store_prebuilt(
    conn: &mut DbConnection,
    iss: &Issuance<'_>,
    prebuilt: Prebuilt<'_>,
) -> Result<RecordRow, ApiError> {
    let Prebuilt {
        record,
        request,
        facts,
        draft,
    } = prebuilt;
    if insert_unless_taken(conn, &record)? {
        Ok(record)
    } else {
        draw_and_store(conn, iss, request, facts, &draft, 1)
    }
}

/// The holder, the qualification and its body of a request, in one query.
pub fn read_facts(conn: &mut DbConnection, request_id: &str) -> QueryResult<Facts> {
    let (holder, qualification, body) = verification_requests::table
        .find(request_id)
        .inner_join(holders::table)
        .inner_join(qualifications::table.inner_join(issuing_bodies::table))
        .select((
            HolderFacts::as_select(),
            QualificationRow::as_select(),
            IssuingBodyRow::as_select(),
        ))
        .first(conn)?;
    Ok(Facts {
        holder,
        qualification,
        body,
    })
}

/// Draws of status-list indices before issuing gives up. The first, blind, loses to an
/// index already taken (at a fill of f, with probability 1 − (1 − f)²); the probing ones
/// lose only to a concurrent issuer taking the same index, about one record in eight
/// thousand with eight issuing at once.
const DRAWS: usize = 6;

/// Inserts the record unless a unique index refuses it; false when one did.
pub fn insert_unless_taken(conn: &mut DbConnection, record: &RecordRow) -> QueryResult<bool> {
    let inserted = crate::insert_or_skip!(conn, records::table, record)?;
    Ok(inserted == 1)
}

/// Random probes on the newest list before it counts as full: at a fill of f the chance
/// that all miss is f^8 (0.4 % at half full, 17 % at 80 %), so lists roll over at roughly
/// three quarters full and probing stays short.
const PROBES: usize = 8;

/// A random index on the newest list of `purpose`: unchecked unless `probe`, else a free
/// one, or one on a new list when [`PROBES`] random tries all find taken indices. Nothing shared is updated here, so
/// concurrent issuing does not queue on a counter row; the unique indices on
/// (list, index) settle the rare race for the same index, whose loser draws again.
///
/// `opened` holds the lists this transaction opened: they are not committed yet, so they
/// are never remembered (a rolled-back list must not be handed out later).
fn allocate(
    conn: &mut DbConnection,
    lists: &NewestLists,
    opened: &mut Vec<String>,
    purpose: &str,
    now: NaiveDateTime,
    probe: bool,
) -> Result<(String, i64), ApiError> {
    let newest = match lists.newest(purpose) {
        Some(list) => Some(list),
        None => {
            let newest: Option<String> = status_lists::table
                .filter(status_lists::purpose.eq(purpose))
                .order((status_lists::created_at.desc(), status_lists::id.desc()))
                .select(status_lists::id)
                .first(conn)
                .optional()?;
            if let Some(list) = newest.as_ref().filter(|l| !opened.contains(l)) {
                lists.map().insert(purpose.to_owned(), list.clone());
            }
            newest
        }
    };
    if let Some(list) = newest {
        if !probe {
            return Ok((list, random_index()));
        }
        for _ in 0..PROBES {
            let candidate = random_index();
            if !taken(conn, purpose, &list, candidate)? {
                return Ok((list, candidate));
            }
        }
    }
    lists.map().remove(purpose);
    let list = uuid::Uuid::new_v4().to_string();
    diesel::insert_into(status_lists::table)
        .values((
            status_lists::id.eq(&list),
            status_lists::purpose.eq(purpose),
            status_lists::size.eq(status_list::LIST_SIZE),
            status_lists::updated_at.eq(now),
            status_lists::created_at.eq(now),
        ))
        .execute(conn)?;
    opened.push(list.clone());
    Ok((list, random_index()))
}

fn random_index() -> i64 {
    i64::from(OsRng.next_u32() % status_list::LIST_SIZE as u32)
}

fn taken(conn: &mut DbConnection, purpose: &str, list: &str, index: i64) -> QueryResult<bool> {
    let count: i64 = match purpose {
        "revocation" => records::table
            .filter(records::revocation_list.eq(list))
            .filter(records::revocation_index.eq(index))
            .count()
            .get_result(conn)?,
        _ => records::table
            .filter(records::suspension_list.eq(list))
            .filter(records::suspension_index.eq(index))
            .count()
            .get_result(conn)?,
    };
    Ok(count > 0)
}
