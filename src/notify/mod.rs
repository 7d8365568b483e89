//! The mail outbox (DESIGN.md, "Web pages": Mail). A message is queued with [`queue`] in
//! the transaction that causes it, so a rolled-back change sends nothing and a committed
//! one is never forgotten; [`sender`] sends it at least once afterwards, over SMTP or as an
//! `.eml` file, always with the Message-ID fixed here (a resend after a crash is the same
//! message to the receiving side).
//!
//! It sits low in the tree (it needs only `db` and `config`) so that every feature module
//! can queue mail.

mod queries;
pub mod sender;
mod transport;

use diesel::QueryResult;

use crate::config::MailSettings;
use crate::db::DbConnection;

/// One plain-text message to one address.
#[derive(Debug, Clone)]
pub struct Mail<'a> {
    pub to: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
}

/// Queues `mail` on `conn`; call it inside the transaction of the change that causes it.
/// Returns the message's outbox id (also the stem of its `.eml` file).
pub fn queue(
    conn: &mut DbConnection,
    settings: &MailSettings,
    mail: &Mail<'_>,
) -> QueryResult<String> {
    let id = uuid::Uuid::now_v7().to_string();
    let message_id = format!("{id}@{}", settings.from_domain());
    queries::insert(conn, &id, &message_id, mail)?;
    Ok(id)
}
