//! One attempt of a dispatcher job, in two commits around the call: `prepare` decides what
//! the request needs and commits `awaiting_issuer` before anything goes out; `conclude`
//! settles, schedules a retry or a re-ask, or hands over to manual review.

use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use rand_core::{OsRng, RngCore};

use super::answers::{self, Applied};
use super::client::Sent;
use super::protocol::{self, Answer, AnswerBody, Outcome, VerificationRequest, REQUEST_TYP};
use crate::app::AppState;
use crate::db::schema::{holders, issuing_bodies, jobs, qualifications, verification_requests};
use crate::db::{write_transaction, DbConnection};
use crate::domain::request_state::RequestState;
use crate::error::ApiError;
use crate::records::credential::{Facts, HolderFacts};
use crate::records::issue;
use crate::records::RecordsState;
use crate::registry::{IssuingBodyRow, QualificationRow};
use crate::requests::Method;
use crate::requests::{self, Also, Outbound, RequestRow};

const MAX_BACKOFF_SECS: u64 = 300;

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

pub(super) fn secs(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

fn finish(conn: &mut DbConnection, job_id: &str) -> QueryResult<()> {
    diesel::delete(jobs::table.find(job_id))
        .execute(conn)
        .map(|_| ())
}

fn to_manual_review(
    conn: &mut DbConnection,
    row: &RequestRow,
    reason: &str,
    job_id: &str,
) -> Result<(), ApiError> {
    if let Some(current) = requests::find(conn, &row.id)? {
        if current.state().can_become(RequestState::ManualReview) {
            requests::transition(
                conn,
                &current,
                RequestState::ManualReview,
                Some(reason),
                "dispatcher",
            )?;
        }
    }
    finish(conn, job_id)?;
    Ok(())
}

/// What a prepared job sends: the request as now stored, the body's base URL and the
/// message; and what a record of it would say, should the body confirm at once.
pub(super) struct Prepared {
    pub row: RequestRow,
    pub base_url: String,
    pub message: VerificationRequest,
    pub facts: Facts,
}

/// Before the call, committed before it goes out: returns what to send, or None when
/// nothing is to be sent.
pub(super) fn prepare(
    conn: &mut DbConnection,
    job_id: &str,
    request_id: &str,
    platform: &str,
) -> Result<Option<Prepared>, ApiError> {
    // The request with all the call (and a record) needs of its body, qualification and
    // holder, at once.
    let found: Option<(
        RequestRow,
        IssuingBodyRow,
        QualificationRow,
        HolderFacts,
        NaiveDate,
    )> = verification_requests::table
        .inner_join(qualifications::table)
        .inner_join(holders::table)
        .inner_join(
            issuing_bodies::table.on(issuing_bodies::id.eq(verification_requests::issuing_body_id)),
        )
        .filter(verification_requests::id.eq(request_id))
        .select((
            RequestRow::as_select(),
            IssuingBodyRow::as_select(),
            QualificationRow::as_select(),
            HolderFacts::as_select(),
            holders::date_of_birth,
        ))
        .first(conn)
        .optional()?;
    let Some((row, body, qualification, holder, date_of_birth)) = found else {
        finish(conn, job_id)?;
        return Ok(None);
    };
    let base_url = match (
        row.state(),
        body.verification_mode.as_str(),
        &body.api_base_url,
    ) {
        (RequestState::Submitted | RequestState::AwaitingIssuer, "api", Some(url))
            if body.status == "active" =>
        {
            url.clone()
        }
        (RequestState::Submitted, _, _) => {
            let reason = if body.status != "active" {
                "issuing_body_suspended"
            } else {
                "manual_mode"
            };
            to_manual_review(conn, &row, reason, job_id)?;
            return Ok(None);
        }
        _ => {
            finish(conn, job_id)?;
            return Ok(None);
        }
    };
    let iat = Utc::now().timestamp();
    let message = VerificationRequest {
        iss: platform.to_owned(),
        aud: body.code.clone(),
        iat,
        exp: iat + protocol::MAX_LIFETIME_SECS,
        jti: protocol::new_jti(),
        request_id: row.id.clone(),
        qualification_code: qualification.code.clone(),
        certificate_number: row.certificate_number.clone(),
        holder_name: row.name_on_certificate.clone(),
        holder_date_of_birth: date_of_birth.to_string(),
        issued_on: row.issued_on.to_string(),
        callback_url: format!("{platform}/v1/issuer-callbacks"),
    };
    let first_sent_at = row.first_sent_at.unwrap_or_else(now);
    let outbound = Outbound {
        jti: &message.jti,
        first_sent_at,
    };
    if row.state() == RequestState::Submitted {
        let also = Also {
            outbound: Some(outbound),
            ..Also::default()
        };
        let to = RequestState::AwaitingIssuer;
        requests::transition_with(conn, &row, to, None, "dispatcher", &also)?;
    } else {
        requests::record_outbound(conn, &row.id, &outbound)?;
    }
    // What `conclude` reads of the row, as just written, without reading it again.
    let row = RequestRow {
        state: RequestState::AwaitingIssuer.as_str().to_owned(),
        first_sent_at: Some(first_sent_at),
        last_request_jti: Some(message.jti.clone()),
        ..row
    };
    let facts = Facts {
        holder,
        qualification,
        body,
    };
    Ok(Some(Prepared {
        row,
        base_url,
        message,
        facts,
    }))
}

/// Signs the request after its transaction committed: no writer waits on the signature.
pub(super) fn sign_request(
    state: &AppState,
    message: &VerificationRequest,
) -> Result<String, ApiError> {
    let key = state.keys.active();
    protocol::sign(message, REQUEST_TYP, &key.kid, &key.signing).map_err(ApiError::internal)
}

/// After the call: settle, schedule a retry or a re-ask, or hand over to manual review.
/// A synchronous answer checked before the write transaction: signature checks need no
/// write lock, and on SQLite every microsecond under it is a microsecond all writers wait.
pub(super) type Checked = Result<(IssuingBodyRow, Answer), ApiError>;

pub(super) fn check_answer(
    conn: &mut DbConnection,
    sent: &Sent,
    platform: &str,
) -> Option<Checked> {
    match sent {
        Sent::Answer(token) => Some(super::answers::verify(conn, token, platform)),
        _ => None,
    }
}

/// Whether a synchronous answer is a verification result about `row`, from its body.
fn answers_row(row: &RequestRow, body: &IssuingBodyRow, answer: &Answer) -> bool {
    matches!(&answer.body, AnswerBody::VerificationResult { request_id, .. }
        if *request_id == row.id && body.id == row.issuing_body_id)
}

/// The common synchronous case, a verified answer confirming this very request, written
/// without the usual reads: the record is built and signed from what `prepare` read before
/// the transaction, which then stores the message, moves the request to `issued` and
/// inserts the record (on PostgreSQL five statements where `conclude` takes seven, and on
/// SQLite no signature under the write lock). False, with nothing written, whenever
/// anything is not as expected (the message seen before, the request changed meanwhile,
/// no status list remembered yet, any error): `conclude` then deals with the answer as
/// usual and reports what is wrong.
pub(super) fn conclude_prebuilt(
    conn: &mut DbConnection,
    row: &RequestRow,
    facts: &Facts,
    (token, checked): (&str, Option<&Checked>),
    (state, records): (&AppState, &RecordsState),
) -> bool {
    let Some(Ok((body, answer))) = checked else {
        return false;
    };
    let AnswerBody::VerificationResult {
        outcome: Outcome::Confirmed,
        certificate,
        ..
    } = &answer.body
    else {
        return false;
    };
    if !answers_row(row, body, answer) || row.state() != RequestState::AwaitingIssuer {
        return false;
    }
    let actor = answers::actor(body);
    let method = Method::IssuerApi;
    let settlement = answers::settlement(&actor, Outcome::Confirmed, certificate.as_ref(), method);
    let Some(confirming) = settlement.confirming() else {
        return false;
    };
    let iss = records.issuance(state);
    let id = uuid::Uuid::new_v4().to_string();
    // No status list remembered yet (the first records of a process), or a record that
    // cannot be built: the usual way, which reports why.
    let Ok(Some(prebuilt)) = issue::prebuild(&iss, row.claim(), facts, &id, method.as_str()) else {
        return false;
    };
    let written = write_transaction(conn, |conn| {
        let unused = || ApiError::conflict("prebuilt_unused", "settled the usual way");
        if answers::store(conn, body, answer, token)?.is_some() {
            return Err(unused());
        }
        requests::issue_prebuilt(conn, &iss, row, prebuilt, confirming)?.ok_or_else(unused)
    });
    state.metrics.prebuilt(written.is_ok());
    match written {
        Ok(record) => {
            tracing::info!(request_id = %row.id, record_id = %record.id, "record issued");
            true
        }
        Err(e) => {
            tracing::debug!(request_id = %row.id, reason = %e.detail, "prebuilt record unused");
            false
        }
    }
}

pub(super) fn conclude(
    conn: &mut DbConnection,
    row: &RequestRow,
    job_id: &str,
    attempts: i32,
    (sent, checked): (Sent, Option<Checked>),
    (state, records): (&AppState, &RecordsState),
) -> Result<(), ApiError> {
    let settings = &state.settings.dispatcher;
    let platform = state.public_url.as_str();
    match sent {
        Sent::Answer(token) => {
            let checked = match checked {
                Some(checked) => checked,
                None => super::answers::verify(conn, &token, platform),
            };
            let verified = checked.and_then(|(body, answer)| {
                if answers_row(row, &body, &answer) {
                    Ok((body, answer))
                } else {
                    Err(ApiError::forbidden(
                        "not_addressed_to_body",
                        "The answer is about another request.",
                    ))
                }
            });
            match verified {
                Ok((body, answer)) => {
                    let applied = super::answers::apply(
                        conn,
                        &records.issuance(state),
                        &body,
                        &answer,
                        &token,
                        Method::IssuerApi,
                    )?;
                    // Settling left awaiting_issuer (or manual review, which has no job),
                    // and that transition deleted the request's jobs already.
                    if applied != Applied::Settled {
                        finish(conn, job_id)?;
                    }
                }
                Err(e) => to_manual_review(
                    conn,
                    row,
                    &format!("untrusted_answer: {}", e.detail),
                    job_id,
                )?,
            }
        }
        Sent::Accepted => reschedule(conn, job_id, now() + secs(settings.reask_after), 0, None)?,
        Sent::Retry(error) => {
            let first = row.first_sent_at.unwrap_or_else(now);
            if now() - first >= secs(settings.retry_budget) {
                to_manual_review(conn, row, "retry_budget_spent", job_id)?;
            } else {
                let delay = backoff(settings.retry_base, attempts);
                tracing::info!(request_id = %row.id, %error, delay_ms = delay.as_millis() as u64, "issuing body unreachable; retrying");
                reschedule(
                    conn,
                    job_id,
                    now() + secs(delay),
                    attempts + 1,
                    Some(&error),
                )?;
            }
        }
        Sent::Refused(reason) => {
            to_manual_review(conn, row, &format!("issuer_refused: {reason}"), job_id)?
        }
    }
    Ok(())
}

fn reschedule(
    conn: &mut DbConnection,
    job_id: &str,
    run_at: NaiveDateTime,
    attempts: i32,
    error: Option<&str>,
) -> QueryResult<()> {
    diesel::update(jobs::table.find(job_id))
        .set((
            jobs::run_at.eq(run_at),
            jobs::attempts.eq(attempts),
            jobs::lease_until.eq(None::<NaiveDateTime>),
            jobs::lease_owner.eq(None::<String>),
            jobs::last_error.eq(error),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Exponential backoff with equal jitter: a random delay between half and all of
/// base × 2^attempts (capped), so retries spread out but never come back at once.
pub fn backoff(base: Duration, attempts: i32) -> Duration {
    let ceiling = base
        .saturating_mul(1u32 << attempts.clamp(0, 20))
        .min(Duration::from_secs(MAX_BACKOFF_SECS));
    let fraction = f64::from(OsRng.next_u32()) / f64::from(u32::MAX);
    ceiling.mul_f64(0.5 + fraction / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_attempts_and_stays_capped() {
        let base = Duration::from_millis(100);
        for attempts in 0..10 {
            let d = backoff(base, attempts);
            let ceiling = base * (1 << attempts);
            assert!(d <= ceiling && d >= ceiling / 2, "{attempts}: {d:?}");
        }
        assert!(backoff(base, 40) <= Duration::from_secs(MAX_BACKOFF_SECS));
    }
}
