//! Issuing a record: built, signed and stored inside the transaction that confirms the
//! request, which then becomes `issued` (DESIGN.md, "States": exactly one record per
//! request, even across kill -9).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{NaiveDateTime, SecondsFormat};
use diesel::prelude::*;
use rand_core::{OsRng, RngCore};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::proof::{self, ProofOptions};
use super::queries::RecordRow;
use super::{did, status_list};
use crate::auth::keys::KeyRing;
use crate::db::schema::{
    holders, issuing_bodies, qualifications, records, status_lists, verification_requests,
};
use crate::db::DbConnection;
use crate::domain::identity::PiiKey;
use crate::domain::request_state::RequestState;
use crate::error::ApiError;
use crate::registry::queries::{IssuingBodyRow, QualificationRow};
use crate::requests::queries::{self as requests, Also, RequestRow, Step};
use crate::requests::settle::Confirming;

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

/// What a record needs of its holder: full name, nationality, identity document type, the
/// document's HMAC, and the sealed document.
type HolderFacts = (String, String, String, String, Option<String>);

/// Moves the request through `confirmed` to `issued`, and builds, signs and stores its
/// record.
pub fn issue(
    conn: &mut DbConnection,
    iss: &Issuance<'_>,
    request: &RequestRow,
    method: &str,
    confirming: Confirming<'_>,
) -> Result<RecordRow, ApiError> {
    let id = uuid::Uuid::new_v4().to_string();
    let key = iss.keys.active();
    // The guarded state change comes first: of two transactions confirming one request,
    // the second waits here and is refused, before it has built anything. The request is
    // written once, straight to `issued`; its history shows both states.
    let also = Also {
        decision: Some(confirming.decision),
        then: Some(Step {
            state: RequestState::Issued,
            reason: None,
            actor: "system",
        }),
        audit: Some(crate::audit::Entry {
            actor: "system",
            action: "record.issued",
            subject: Some(&id),
            details: json!({"request_id": request.id, "kid": key.kid}),
        }),
        ..Also::default()
    };
    let confirmed = RequestState::Confirmed;
    requests::transition_with(
        conn,
        request,
        confirmed,
        confirming.reason,
        confirming.actor,
        &also,
    )?;
    // The holder, the qualification and its body in one query.
    let (holder, qualification, body): (HolderFacts, QualificationRow, IssuingBodyRow) =
        verification_requests::table
            .find(&request.id)
            .inner_join(holders::table)
            .inner_join(qualifications::table.inner_join(issuing_bodies::table))
            .select((
                (
                    holders::full_name,
                    holders::nationality,
                    holders::identity_document_type,
                    holders::identity_document_hmac,
                    holders::identity_document_sealed,
                ),
                QualificationRow::as_select(),
                IssuingBodyRow::as_select(),
            ))
            .first(conn)?;
    let (full_name, nationality, doc_type, hmac, sealed) = holder;
    let identity = sealed
        .as_deref()
        .and_then(|s| iss.pii.open(s))
        .ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!(
                "holder {}: the identity document cannot be opened with the PII key",
                request.holder_id
            ))
        })?;

    let now = chrono::Utc::now().naive_utc();
    let issued_at = now.and_utc().timestamp();
    let valid_from = chrono::DateTime::from_timestamp(issued_at, 0)
        .unwrap_or_default()
        .naive_utc();
    let valid_until = valid_until(valid_from, request.expires_on, iss.validity);

    let mut salt = [0u8; 16];
    OsRng.fill_bytes(&mut salt);
    let mut digest = Sha256::new();
    digest.update(salt);
    digest.update(identity.as_bytes());
    let issuer = iss.did();
    let mut credential = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": format!("urn:uuid:{id}"),
        "type": ["VerifiableCredential", "QualificationVerificationCredential"],
        "issuer": issuer,
        "validFrom": rfc3339(valid_from),
        "validUntil": rfc3339(valid_until),
        "credentialSubject": {
            "name": full_name,
            "nationality": nationality,
            "identityDocument": {
                "type": doc_type,
                "digest": URL_SAFE_NO_PAD.encode(digest.finalize()),
                "salt": URL_SAFE_NO_PAD.encode(salt),
            },
            "qualification": {
                "id": qualification.id,
                "code": qualification.code,
                "name": qualification.name_en,
                "nameZh": qualification.name_zh,
                "categories": qualification.categories(),
                "listVersion": qualification.list_version,
                "issuingBody": {"code": body.code, "name": body.name_en, "country": body.country},
            },
            "certificate": {
                "number": request.certificate_number,
                "issuedOn": request.issued_on.to_string(),
                "expiresOn": request.expires_on.map(|d| d.to_string()),
            },
            "verification": {
                "method": method,
                "confirmedAt": rfc3339(valid_from),
                "requestId": request.id,
            },
        },
    });
    let mut stored = None;
    let mut opened = Vec::new();
    // Two issuers running at once (PostgreSQL) can draw the same free index; the unique
    // indices keep the second insert out, and it draws again instead of failing the whole
    // confirming transaction (which would wait out its job's lease to be retried).
    for draw in 0..DRAWS {
        // The first draw is blind: while lists are sparse the insert itself is the cheapest
        // probe. Once it has lost, the draws after it probe first.
        let probe = draw > 0;
        let revocation = allocate(conn, iss.lists, &mut opened, "revocation", now, probe)?;
        let suspension = allocate(conn, iss.lists, &mut opened, "suspension", now, probe)?;
        credential["credentialStatus"] = json!([
            status_entry(iss, "revocation", &revocation),
            status_entry(iss, "suspension", &suspension),
        ]);
        let signed = proof::sign(
            &credential,
            &ProofOptions {
                verification_method: did::method_id(&issuer, &key.kid),
                created: rfc3339(valid_from),
                proof_purpose: "assertionMethod".into(),
            },
            &key.signing,
        )
        .map_err(ApiError::internal)?;
        let record = RecordRow {
            id: id.clone(),
            request_id: request.id.clone(),
            holder_id: request.holder_id.clone(),
            qualification_id: request.qualification_id.clone(),
            identity_document_hmac: hmac.clone(),
            nationality: nationality.clone(),
            status: "valid".into(),
            status_reason: None,
            kid: key.kid.clone(),
            credential: signed.to_string(),
            valid_from,
            valid_until,
            revocation_list: revocation.0,
            revocation_index: revocation.1,
            suspension_list: suspension.0,
            suspension_index: suspension.1,
            created_at: now,
            updated_at: now,
        };
        if insert_unless_taken(conn, &record)? {
            stored = Some(record);
            break;
        }
    }
    let record = stored.ok_or_else(|| {
        ApiError::internal(anyhow::anyhow!(
            "no free status-list index after {DRAWS} draws"
        ))
    })?;
    Ok(record)
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

/// The earlier of the certificate's last day (to its end) and issue time plus validity.
pub fn valid_until(
    valid_from: NaiveDateTime,
    expires_on: Option<chrono::NaiveDate>,
    validity: chrono::Duration,
) -> NaiveDateTime {
    let by_platform = valid_from + validity;
    match expires_on.and_then(|d| d.and_hms_opt(23, 59, 59)) {
        Some(end) if end < by_platform => end,
        _ => by_platform,
    }
}

fn rfc3339(at: NaiveDateTime) -> String {
    at.and_utc().to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn status_entry(iss: &Issuance<'_>, purpose: &str, (list, index): &(String, i64)) -> Value {
    let url = iss.status_list_url(list);
    json!({
        "id": format!("{url}#{index}"),
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": index.to_string(),
        "statusListCredential": url,
    })
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
    let remembered = lists.map().get(purpose).cloned();
    let newest = match remembered {
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn valid_until_is_the_earlier_of_certificate_expiry_and_platform_validity() {
        let from = at("2026-11-26 10:00:00");
        let three_years = chrono::Duration::days(3 * 365);
        assert_eq!(valid_until(from, None, three_years), from + three_years);
        assert_eq!(
            valid_until(from, NaiveDate::from_ymd_opt(2027, 6, 30), three_years),
            at("2027-06-30 23:59:59")
        );
        assert_eq!(
            valid_until(from, NaiveDate::from_ymd_opt(2040, 1, 1), three_years),
            from + three_years
        );
    }
}
