//! The background sender: claims due messages, sends each, records the outcome. A failed
//! send is due again after a delay that doubles from `CERTVERIFY_MAIL_RETRY_BASE_SECONDS`
//! up to an hour, and is given up `CERTVERIFY_MAIL_GIVE_UP_SECONDS` after it was queued.
//! Logs name the outbox id only: recipients are personal data, bodies hold tokens.

use std::sync::Arc;
use std::time::Duration;

use super::queries::{self, Outgoing};
use super::transport::Transport;
use crate::config::MailSettings;
use crate::db::{self, Pool};

/// Messages claimed per round.
const BATCH: i64 = 20;
/// A claimed message is due again after this if its sender dies mid-send.
const LEASE_SECS: i64 = 300;
const MAX_DELAY: Duration = Duration::from_secs(3_600);

pub struct Sender {
    pool: Pool,
    settings: MailSettings,
    transport: Transport,
}

impl Sender {
    /// Checks the transport's settings (and makes the outbox directory) at start-up.
    pub fn new(pool: Pool, settings: MailSettings) -> anyhow::Result<Arc<Self>> {
        let transport = Transport::from_settings(&settings)?;
        Ok(Arc::new(Self {
            pool,
            settings,
            transport,
        }))
    }

    pub fn writes_files(&self) -> bool {
        matches!(self.transport, Transport::Files(_))
    }

    /// Runs until the runtime stops.
    pub async fn run(self: Arc<Self>) {
        let mut tick = tokio::time::interval(self.settings.poll);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let me = self.clone();
            match tokio::task::spawn_blocking(move || me.round()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "mail sender: storage failed; trying again")
                }
                Err(e) => tracing::error!(error = %e, "mail sender: a round panicked"),
            }
        }
    }

    /// One round: claim, send, record. Blocking.
    pub fn round(&self) -> anyhow::Result<()> {
        let mut conn = self.pool.get()?;
        let due = queries::claim_due(&mut conn, chrono::Duration::seconds(LEASE_SECS), BATCH)?;
        for m in due {
            let result = self.transport.send(&self.settings.from, &m);
            db::write_statement(&mut conn, |conn| self.record(conn, &m, result))?;
        }
        Ok(())
    }

    fn record(
        &self,
        conn: &mut db::DbConnection,
        m: &Outgoing,
        result: Result<(), String>,
    ) -> diesel::QueryResult<()> {
        match result {
            Ok(()) => {
                tracing::info!(outbox_id = %m.id, attempt = m.attempts, "mail sent");
                queries::mark_sent(conn, &m.id)
            }
            Err(error) => {
                let now = queries::now();
                let give_up = chrono::Duration::from_std(self.settings.give_up_after)
                    .unwrap_or(chrono::Duration::days(3));
                let retry_at = now
                    + chrono::Duration::from_std(delay(self.settings.retry_base, m.attempts))
                        .unwrap_or(chrono::Duration::hours(1));
                let retry_at = (retry_at < m.created_at + give_up).then_some(retry_at);
                if retry_at.is_some() {
                    tracing::warn!(outbox_id = %m.id, attempt = m.attempts, %error, "mail not sent; will retry");
                } else {
                    tracing::error!(outbox_id = %m.id, attempt = m.attempts, %error, "mail not sent; given up");
                }
                queries::mark_failed(conn, &m.id, &error, retry_at)
            }
        }
    }
}

/// The wait after the `attempt`-th failed send: base, 2·base, 4·base, … at most an hour.
pub fn delay(base: Duration, attempt: i32) -> Duration {
    let doublings = u32::try_from(attempt.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    base.saturating_mul(1u32 << doublings).min(MAX_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_doubles_up_to_an_hour() {
        let base = Duration::from_secs(30);
        assert_eq!(delay(base, 1), Duration::from_secs(30));
        assert_eq!(delay(base, 2), Duration::from_secs(60));
        assert_eq!(delay(base, 4), Duration::from_secs(240));
        assert_eq!(delay(base, 50), MAX_DELAY);
    }
}
