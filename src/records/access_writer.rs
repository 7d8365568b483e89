//! Group commit for agency reads: each read's access-log and audit rows are handed to one
//! writer, which commits whatever has queued up in one transaction and then releases the
//! reads. A read is answered only after its log rows are committed, so none goes unlogged,
//! but a burst of reads costs one write transaction instead of one each (on SQLite, one
//! writer at a time, that is the difference between a few thousand reads a second and
//! tens of thousands).

use tokio::sync::{mpsc, oneshot};

use super::queries::{self, RecordRow};
use super::types::AccessVia;
use crate::auth::extract::Agency;
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

fn write(pool: &Pool, batch: &[Pending]) -> anyhow::Result<()> {
    let mut conn = pool.get()?;
    db::write_transaction(&mut conn, |conn| -> anyhow::Result<()> {
        let mut names = std::collections::HashMap::new();
        for p in batch {
            if !names.contains_key(&p.agency.id) {
                let name = crate::accounts::queries::name_of(conn, &p.agency.id)?;
                names.insert(p.agency.id.clone(), name);
            }
            let name = names.get(&p.agency.id).map(String::as_str).unwrap_or("");
            queries::log_access(
                conn,
                &p.record,
                &p.agency,
                name,
                p.via,
                p.purpose.as_deref(),
            )?;
        }
        Ok(())
    })
}
