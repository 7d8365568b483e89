//! The dispatcher: a background task of `serve` that works the durable job table.
//! A claimed job holds a lease, so the job of a worker that died is claimed again once the
//! lease runs out; on PostgreSQL jobs are claimed with `FOR UPDATE SKIP LOCKED`, so several
//! instances share the queue. The request becomes `awaiting_issuer` in a commit before the
//! call goes out, so a fast callback finds it waiting.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use rand_core::{OsRng, RngCore};
use tokio::sync::Semaphore;

use super::client::{IssuerClient, Sent};
use super::protocol::{self, AnswerBody, VerificationRequest, REQUEST_TYP};
use crate::db::schema::{holders, jobs, qualifications, verification_requests};
use crate::db::{self, write_transaction, DbConnection};
use crate::domain::request_state::RequestState;
use crate::error::ApiError;
use crate::registry::queries as registry;
use crate::requests::queries::{self as requests, RequestRow};
use crate::requests::settle::Method;
use crate::startup::AppState;

/// Added to the lease beyond the call timeouts: time for the commits before and after a call.
const LEASE_MARGIN: Duration = Duration::from_secs(10);
const IDLE_POLL: Duration = Duration::from_millis(200);
const MAX_BACKOFF_SECS: u64 = 300;
const EXPIRY_SWEEP_EVERY: Duration = Duration::from_secs(60);
/// The history reason of an expired request, a code like the other reasons.
pub const EXPIRED_REASON: &str = "time_to_live_exceeded";
/// Requests expired per commit: keeps the write lock short on SQLite.
const EXPIRY_BATCH: i64 = 200;

#[derive(Debug, Clone, Queryable, QueryableByName)]
struct Job {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    request_id: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    attempts: i32,
}

pub struct Dispatcher {
    state: Arc<AppState>,
    client: IssuerClient,
    owner: String,
    per_issuer: Mutex<HashMap<String, Arc<Semaphore>>>,
}

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

fn secs(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

impl Dispatcher {
    pub fn new(state: Arc<AppState>) -> anyhow::Result<Arc<Self>> {
        let settings = &state.settings;
        let client = IssuerClient::new(settings.dispatcher.timeout, settings.allow_http_issuers)?;
        Ok(Arc::new(Self {
            client,
            owner: uuid::Uuid::new_v4().to_string(),
            per_issuer: Mutex::new(HashMap::new()),
            state,
        }))
    }

    /// Runs until the runtime stops. A job cut off mid-call keeps its lease and is claimed
    /// again when the lease runs out.
    pub async fn run(self: Arc<Self>) {
        let permits = Arc::new(Semaphore::new(
            self.state.settings.dispatcher.concurrency.max(1),
        ));
        // None: sweep at once, so requests that aged out while no instance ran expire at start.
        let mut last_sweep: Option<std::time::Instant> = None;
        loop {
            if last_sweep.map_or(true, |at| at.elapsed() >= EXPIRY_SWEEP_EVERY) {
                last_sweep = Some(std::time::Instant::now());
                if let Err(e) = self.expire_old().await {
                    tracing::warn!(error = %e, "expiry sweep failed");
                }
            }
            let free = permits.available_permits();
            let claimed = if free == 0 {
                Ok(Vec::new())
            } else {
                self.claim(free as i64).await
            };
            let jobs = match claimed {
                Ok(jobs) => jobs,
                Err(e) => {
                    tracing::warn!(error = %e, "claiming jobs failed");
                    Vec::new()
                }
            };
            if jobs.is_empty() {
                tokio::time::sleep(IDLE_POLL).await;
                continue;
            }
            for job in jobs {
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    return;
                };
                let this = self.clone();
                tokio::spawn(async move {
                    if let Err(e) = this.work(&job).await {
                        tracing::warn!(job = %job.id, request_id = %job.request_id, error = %e, "job failed; it will be retried");
                    }
                    drop(permit);
                });
            }
        }
    }

    /// A live worker must never lose its job: the lease outlives a wait for the body's
    /// concurrency permit (about one call) and the call itself, plus the commits around them.
    /// Kept short beyond that, since a job of a killed worker waits this long to be taken again.
    fn lease(&self) -> chrono::Duration {
        secs(self.state.settings.dispatcher.timeout * 2 + LEASE_MARGIN)
    }

    async fn claim(&self, limit: i64) -> Result<Vec<Job>, ApiError> {
        let owner = self.owner.clone();
        let lease = self.lease();
        db::run(&self.state.pool, move |conn| {
            write_transaction(conn, |conn| {
                let at = now();
                let until = at + lease;
                let claimed: Vec<Job> = match conn {
                    DbConnection::Pg(pg) => diesel::sql_query(
                        "UPDATE jobs SET lease_until = $1, lease_owner = $2 WHERE id IN (\
                           SELECT id FROM jobs WHERE run_at <= $3 AND (lease_until IS NULL OR lease_until < $3) \
                           ORDER BY run_at LIMIT $4 FOR UPDATE SKIP LOCKED) \
                         RETURNING id, request_id, attempts",
                    )
                    .bind::<diesel::sql_types::Timestamp, _>(until)
                    .bind::<diesel::sql_types::Text, _>(&owner)
                    .bind::<diesel::sql_types::Timestamp, _>(at)
                    .bind::<diesel::sql_types::BigInt, _>(limit)
                    .load(pg)?,
                    // SQLite has one writer: BEGIN IMMEDIATE already serializes claimers.
                    DbConnection::Sqlite(_) => {
                        let due: Vec<Job> = jobs::table
                            .filter(jobs::run_at.le(at))
                            .filter(jobs::lease_until.is_null().or(jobs::lease_until.lt(at)))
                            .order(jobs::run_at.asc())
                            .limit(limit)
                            .select((jobs::id, jobs::request_id, jobs::attempts))
                            .load(conn)?;
                        let ids: Vec<&String> = due.iter().map(|j| &j.id).collect();
                        diesel::update(jobs::table.filter(jobs::id.eq_any(ids)))
                            .set((jobs::lease_until.eq(until), jobs::lease_owner.eq(&owner)))
                            .execute(conn)?;
                        due
                    }
                };
                Ok(claimed)
            })
        })
        .await
    }

    fn limiter(&self, body_id: &str) -> Arc<Semaphore> {
        let per = self.state.settings.dispatcher.per_issuer;
        match self.per_issuer.lock() {
            Ok(mut map) => map
                .entry(body_id.to_owned())
                .or_insert_with(|| Arc::new(Semaphore::new(per)))
                .clone(),
            Err(_) => Arc::new(Semaphore::new(per)),
        }
    }

    /// One job: decide what the request needs, commit `awaiting_issuer`, then call.
    async fn work(&self, job: &Job) -> Result<(), ApiError> {
        let job_id = job.id.clone();
        let request_id = job.request_id.clone();
        let platform = self.state.public_url.clone();
        let state = self.state.clone();
        let prepared = db::run(&self.state.pool, move |conn| {
            write_transaction(conn, |conn| {
                prepare(conn, &state, &job_id, &request_id, &platform)
            })
        })
        .await?;
        let Some((row, base_url, token)) = prepared else {
            return Ok(());
        };
        let permit = self.limiter(&row.issuing_body_id).acquire_owned().await;
        let sent = self.client.send(&base_url, token).await;
        drop(permit);
        let (job_id, attempts) = (job.id.clone(), job.attempts);
        let settings = self.state.settings.dispatcher.clone();
        let platform = self.state.public_url.clone();
        db::run(&self.state.pool, move |conn| {
            write_transaction(conn, |conn| {
                conclude(conn, &row, &job_id, attempts, sent, &settings, &platform)
            })
        })
        .await
    }

    /// Expires open requests older than the time to live, a batch per commit until none is left.
    async fn expire_old(&self) -> Result<(), ApiError> {
        let cutoff = now() - secs(self.state.settings.dispatcher.request_ttl);
        db::run(&self.state.pool, move |conn| {
            let open = [
                RequestState::Submitted,
                RequestState::AwaitingIssuer,
                RequestState::ManualReview,
            ]
            .map(RequestState::as_str);
            loop {
                let expired = write_transaction(conn, |conn| {
                    let rows: Vec<RequestRow> = verification_requests::table
                        .filter(verification_requests::state.eq_any(open))
                        .filter(verification_requests::created_at.lt(cutoff))
                        .select(RequestRow::as_select())
                        .limit(EXPIRY_BATCH)
                        .load(conn)?;
                    for row in &rows {
                        // `transition` also deletes the request's job.
                        requests::transition(
                            conn,
                            row,
                            RequestState::Expired,
                            Some(EXPIRED_REASON),
                            "dispatcher",
                        )?;
                    }
                    Ok::<_, ApiError>(rows.len())
                })?;
                if expired < EXPIRY_BATCH as usize {
                    return Ok(());
                }
            }
        })
        .await
    }
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

/// Before the call, in its own commit: returns what to send, or None when nothing is to be sent.
fn prepare(
    conn: &mut DbConnection,
    state: &AppState,
    job_id: &str,
    request_id: &str,
    platform: &str,
) -> Result<Option<(RequestRow, String, String)>, ApiError> {
    let Some(row) = requests::find(conn, request_id)? else {
        finish(conn, job_id)?;
        return Ok(None);
    };
    let body =
        registry::find_body(conn, &row.issuing_body_id)?.ok_or(diesel::result::Error::NotFound)?;
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
    if row.state() == RequestState::Submitted {
        requests::transition(conn, &row, RequestState::AwaitingIssuer, None, "dispatcher")?;
    }
    let qualification_code: String = qualifications::table
        .find(&row.qualification_id)
        .select(qualifications::code)
        .first(conn)?;
    let date_of_birth: chrono::NaiveDate = holders::table
        .find(&row.holder_id)
        .select(holders::date_of_birth)
        .first(conn)?;
    let iat = Utc::now().timestamp();
    let message = VerificationRequest {
        iss: platform.to_owned(),
        aud: body.code.clone(),
        iat,
        exp: iat + protocol::MAX_LIFETIME_SECS,
        jti: protocol::new_jti(),
        request_id: row.id.clone(),
        qualification_code,
        certificate_number: row.certificate_number.clone(),
        holder_name: row.name_on_certificate.clone(),
        holder_date_of_birth: date_of_birth.to_string(),
        issued_on: row.issued_on.to_string(),
        callback_url: format!("{platform}/v1/issuer-callbacks"),
    };
    let key = state.keys.active();
    let token = protocol::sign(&message, REQUEST_TYP, &key.kid, &key.signing)
        .map_err(ApiError::internal)?;
    diesel::update(verification_requests::table.find(&row.id))
        .set((
            verification_requests::last_request_jti.eq(&message.jti),
            verification_requests::first_sent_at.eq(row.first_sent_at.unwrap_or_else(now)),
        ))
        .execute(conn)?;
    let row = requests::find(conn, &row.id)?.ok_or(diesel::result::Error::NotFound)?;
    Ok(Some((row, base_url, token)))
}

/// After the call: settle, schedule a retry or a re-ask, or hand over to manual review.
fn conclude(
    conn: &mut DbConnection,
    row: &RequestRow,
    job_id: &str,
    attempts: i32,
    sent: Sent,
    settings: &crate::config::DispatcherSettings,
    platform: &str,
) -> Result<(), ApiError> {
    match sent {
        Sent::Answer(token) => {
            let verified =
                super::answers::verify(conn, &token, platform).and_then(|(body, answer)| {
                    match &answer.body {
                        AnswerBody::VerificationResult { request_id, .. }
                            if *request_id == row.id && body.id == row.issuing_body_id =>
                        {
                            Ok((body, answer))
                        }
                        _ => Err(ApiError::forbidden(
                            "not_addressed_to_body",
                            "The answer is about another request.",
                        )),
                    }
                });
            match verified {
                Ok((body, answer)) => {
                    super::answers::apply(conn, &body, &answer, &token, Method::IssuerApi)?;
                    finish(conn, job_id)?;
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

/// Exponential backoff with full jitter: a random delay up to base × 2^attempts (capped).
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
