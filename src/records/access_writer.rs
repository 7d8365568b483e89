//! Group commit for agency reads: each read's access-log and audit rows are handed to one
//! writer, which commits whatever has queued up in one transaction and then releases the
//! reads. A read is answered only after its log rows are committed, so none goes unlogged,
//! but a burst of reads costs one write transaction of three statements instead of one
//! transaction each (measured with `cargo bench --bench records`: about 2 900 reads/s
//! before, 6 000/s after on SQLite; 1 950/s and 3 300/s on PostgreSQL). If a group fails,
//! every read in it is answered 503 and none is served unlogged.

use std::collections::HashMap;

use diesel::prelude::*;
use tokio::sync::{mpsc, oneshot};

use super::queries::{self, RecordRow};
use super::types::AccessVia;
use crate::auth::extract::Agency;
use crate::db::schema::service_accounts;
use crate::db::{self, Pool};
use crate::error::ApiError;

/// Reads committed together at most; more wait for the next transaction.
const MAX_BATCH: usize = 512;

struct Pending {
    record: RecordRow,
    agency: Agency,
    via: AccessVia,
    purpose: Option<String>,
    done: oneshot::Sender<Result<(), String>>,
}

#[derive(Clone)]
pub struct AccessWriter {
    queue: mpsc::Sender<Pending>,
}

impl AccessWriter {
    /// Starts the writer thread; it ends when the last handle is dropped.
    pub fn start(pool: Pool) -> std::io::Result<Self> {
        let (queue, mut inbox) = mpsc::channel::<Pending>(4 * MAX_BATCH);
        std::thread::Builder::new()
            .name("access-log-writer".into())
            .spawn(move || {
                while let Some(first) = inbox.blocking_recv() {
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH {
                        match inbox.try_recv() {
                            Ok(next) => batch.push(next),
                            Err(_) => break,
                        }
                    }
                    let outcome = write(&pool, &batch).map_err(|e| e.to_string());
                    if let Err(e) = &outcome {
                        tracing::error!(error = %e, reads = batch.len(), "cannot write the access log");
                    }
                    for pending in batch {
                        let _ = pending.done.send(outcome.clone());
                    }
                }
            })?;
        Ok(Self { queue })
    }

    /// Logs one agency read; returns once the rows are committed.
    pub async fn log(
        &self,
        record: RecordRow,
        agency: Agency,
        via: AccessVia,
        purpose: Option<String>,
    ) -> Result<(), ApiError> {
        let (done, committed) = oneshot::channel();
        let pending = Pending {
            record,
            agency,
            via,
            purpose,
            done,
        };
        let unavailable =
            || ApiError::unavailable(anyhow::anyhow!("the access log writer stopped"));
        self.queue.send(pending).await.map_err(|_| unavailable())?;
        committed.await.map_err(|_| unavailable())?.map_err(|e| {
            ApiError::unavailable(anyhow::anyhow!("the access log was not written: {e}"))
        })
    }
}

/// One transaction, three statements whatever the batch size: the agencies' names, then
/// the access-log and audit rows ([`queries::log_reads`]).
fn write(pool: &Pool, batch: &[Pending]) -> anyhow::Result<()> {
    let mut conn = pool.get()?;
    db::write_transaction(&mut conn, |conn| -> anyhow::Result<()> {
        let mut ids: Vec<&str> = batch.iter().map(|p| p.agency.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        let names: HashMap<String, String> = service_accounts::table
            .filter(service_accounts::id.eq_any(&ids))
            .select((service_accounts::id, service_accounts::name))
            .load::<(String, String)>(conn)?
            .into_iter()
            .collect();
        let reads: Vec<queries::Read<'_>> = batch
            .iter()
            .map(|p| queries::Read {
                record: &p.record,
                agency_id: &p.agency.id,
                agency_name: names.get(&p.agency.id).map(String::as_str).unwrap_or(""),
                via: p.via,
                purpose: p.purpose.as_deref(),
            })
            .collect();
        queries::log_reads(conn, &reads)?;
        Ok(())
    })
}
