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
use diesel::sql_types::{BigInt, Text, Timestamp};
use tokio::sync::Semaphore;

use super::attempt::{
    check_answer, conclude, conclude_prebuilt, prepare, secs, sign_request, Prepared,
};
use super::client::{IssuerClient, Sent};
use crate::app::AppState;
use crate::db::pg_sql::PgSql;
use crate::db::schema::jobs;
use crate::db::{self, write_transaction, DbConnection};
use crate::domain::request_state::RequestState;
use crate::error::ApiError;
use crate::records::RecordsState;
use crate::requests;

/// Added to the lease beyond the call timeouts: time for the commits before and after a call.
const LEASE_MARGIN: Duration = Duration::from_secs(10);
const IDLE_POLL: Duration = Duration::from_millis(200);
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

/// A claimed job, prepared in the claiming commit or still to be prepared.
enum Claimed {
    Ready(Job, Box<Prepared>),
    Unprepared(Job),
}

impl Claimed {
    fn job(&self) -> &Job {
        match self {
            Self::Ready(job, _) | Self::Unprepared(job) => job,
        }
    }
}

/// Leases up to `limit` due jobs to `owner`.
fn claim_due(
    conn: &mut DbConnection,
    owner: &str,
    lease: chrono::Duration,
    limit: i64,
) -> QueryResult<Vec<Job>> {
    let at = now();
    let until = at + lease;
    match conn {
        DbConnection::Pg(pg) => PgSql::new("UPDATE jobs SET lease_until = ")
            .param::<Timestamp, _>(until)
            .sql(", lease_owner = ")
            .param::<Text, _>(owner.to_owned())
            .sql(" WHERE id IN (SELECT id FROM jobs WHERE run_at <= ")
            .param::<Timestamp, _>(at)
            .sql(" AND (lease_until IS NULL OR lease_until < ")
            .param::<Timestamp, _>(at)
            .sql(") ORDER BY run_at LIMIT ")
            .param::<BigInt, _>(limit)
            .sql(" FOR UPDATE SKIP LOCKED) RETURNING id, request_id, attempts")
            .load(pg),
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
                .set((jobs::lease_until.eq(until), jobs::lease_owner.eq(owner)))
                .execute(conn)?;
            Ok(due)
        }
    }
}

pub struct Dispatcher {
    state: Arc<AppState>,
    records: Arc<RecordsState>,
    client: IssuerClient,
    owner: String,
    per_issuer: Mutex<HashMap<String, Arc<Semaphore>>>,
}

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

impl Dispatcher {
    pub fn new(state: Arc<AppState>, records: Arc<RecordsState>) -> anyhow::Result<Arc<Self>> {
        let settings = &state.settings;
        let client = IssuerClient::new(settings.dispatcher.timeout, settings.allow_http_issuers)?;
        Ok(Arc::new(Self {
            client,
            owner: uuid::Uuid::new_v4().to_string(),
            per_issuer: Mutex::new(HashMap::new()),
            state,
            records,
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
                if let Err(e) = db::run(&self.state.pool, |conn| {
                    Ok(crate::idempotency::purge_expired(conn)?)
                })
                .await
                {
                    tracing::warn!(error = %e, "purging expired idempotency keys failed");
                }
            }
            // Wait for a free worker rather than polling: a busy instance claims again the
            // moment a job finishes.
            let Ok(first) = permits.clone().acquire_owned().await else {
                return;
            };
            let free = 1 + permits.available_permits();
            let (claimed, jobs) = match self.claim(free as i64).await {
                Ok(claimed) => claimed,
                Err(e) => {
                    tracing::warn!(error = %e, "claiming jobs failed");
                    (0, Vec::new())
                }
            };
            if claimed == 0 {
                drop(first);
                tokio::time::sleep(IDLE_POLL).await;
                continue;
            }
            let mut first = Some(first);
            for job in jobs {
                // Only this loop takes permits, so the ones counted free are still there.
                let permit = match first.take() {
                    Some(permit) => permit,
                    None => match permits.clone().acquire_owned().await {
                        Ok(permit) => permit,
                        Err(_) => return,
                    },
                };
                let this = self.clone();
                tokio::spawn(async move {
                    let (id, request_id) = (job.job().id.clone(), job.job().request_id.clone());
                    if let Err(e) = this.work(job).await {
                        tracing::warn!(job = %id, %request_id, error = %e, "job failed; it will be retried");
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

    /// Claims up to `limit` due jobs and, in the same commit, prepares them (each request
    /// becomes `awaiting_issuer`): one commit for the batch instead of one per job. Should
    /// that fail, the jobs are claimed alone and each prepared in its own commit, so one
    /// job that cannot be prepared keeps its lease and never holds up the others.
    /// Returns how many were claimed, and those with something to send (or to prepare).
    async fn claim(&self, limit: i64) -> Result<(usize, Vec<Claimed>), ApiError> {
        let (owner, lease) = (self.owner.clone(), self.lease());
        let platform = self.state.public_url.clone();
        let together = db::run(&self.state.pool, move |conn| {
            write_transaction(conn, |conn| {
                let jobs = claim_due(conn, &owner, lease, limit)?;
                let claimed = jobs.len();
                let mut ready = Vec::new();
                for job in jobs {
                    if let Some(prepared) = prepare(conn, &job.id, &job.request_id, &platform)? {
                        ready.push(Claimed::Ready(job, Box::new(prepared)));
                    }
                }
                Ok::<_, ApiError>((claimed, ready))
            })
        })
        .await;
        match together {
            Ok(claimed) => Ok(claimed),
            Err(e) => {
                tracing::warn!(error = %e, "preparing claimed jobs together failed; preparing them one by one");
                let (owner, lease) = (self.owner.clone(), self.lease());
                let jobs = db::run(&self.state.pool, move |conn| {
                    Ok(write_transaction(conn, |conn| {
                        claim_due(conn, &owner, lease, limit)
                    })?)
                })
                .await?;
                Ok((
                    jobs.len(),
                    jobs.into_iter().map(Claimed::Unprepared).collect(),
                ))
            }
        }
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

    /// One job: unless prepared with its claim, decide what the request needs and commit
    /// `awaiting_issuer`; then call.
    async fn work(&self, claimed: Claimed) -> Result<(), ApiError> {
        let (job, prepared) = match claimed {
            Claimed::Ready(job, prepared) => (job, *prepared),
            Claimed::Unprepared(job) => {
                let (job_id, request_id) = (job.id.clone(), job.request_id.clone());
                let platform = self.state.public_url.clone();
                let prepared = db::run(&self.state.pool, move |conn| {
                    write_transaction(conn, |conn| prepare(conn, &job_id, &request_id, &platform))
                })
                .await?;
                match prepared {
                    Some(prepared) => (job, prepared),
                    None => return Ok(()),
                }
            }
        };
        let Prepared {
            row,
            base_url,
            message,
            facts,
        } = prepared;
        let token = sign_request(&self.state, &message)?;
        let permit = self.limiter(&row.issuing_body_id).acquire_owned().await;
        let sent = self.client.send(&base_url, token).await;
        drop(permit);
        let (job_id, attempts) = (job.id.clone(), job.attempts);
        let (state, records) = (self.state.clone(), self.records.clone());
        db::run(&self.state.pool, move |conn| {
            let running = (state.as_ref(), records.as_ref());
            let checked = check_answer(conn, &sent, &state.public_url);
            if let Sent::Answer(token) = &sent {
                if conclude_prebuilt(conn, &row, &facts, (token, checked.as_ref()), running) {
                    return Ok(());
                }
            }
            write_transaction(conn, |conn| {
                conclude(conn, &row, &job_id, attempts, (sent, checked), running)
            })
        })
        .await
    }

    /// Expires open requests older than the time to live, a batch per commit until none is left.
    async fn expire_old(&self) -> Result<(), ApiError> {
        let cutoff = now() - secs(self.state.settings.dispatcher.request_ttl);
        db::run(&self.state.pool, move |conn| {
            loop {
                let expired = write_transaction(conn, |conn| {
                    let rows = requests::open_before(conn, cutoff, EXPIRY_BATCH)?;
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
