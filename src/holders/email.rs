//! Registration and the address's verification, as operations the API routes and the
//! pages share. Neither registration nor a resend tells whether an address is registered:
//! both answer alike, and only the owner's mailbox learns what happened.

use actix_web::{web, HttpRequest};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::mails;
use super::queries;
use super::tokens::{self, Purpose};
use super::types::RegisterHolder;
use crate::app::AppState;
use crate::audit;
use crate::auth::ratelimit::client_address;
use crate::db::schema::holders;
use crate::db::{self, DbConnection};
use crate::error::ApiError;
use crate::notify::{self, Mail};

fn hours(d: std::time::Duration) -> u64 {
    (d.as_secs() / 3_600).max(1)
}

/// Registers a holder and queues the verification mail; when the address is taken, queues
/// a mail to its owner instead and changes nothing. Both end the same way for the caller.
pub async fn register(state: web::Data<AppState>, input: RegisterHolder) -> Result<(), ApiError> {
    let new = input
        .validate(chrono::Utc::now().date_naive())
        .map_err(ApiError::validation)?;
    // Hashed in both cases (and before taking a connection: argon2 is slow on purpose),
    // so the time taken tells nothing either.
    let hasher = state.hasher.clone();
    let password = new.password.clone();
    let hash = web::block(move || hasher.hash(&password))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    let st = state.clone();
    let result = db::run(&state.pool, move |conn| {
        Ok(db::write_transaction(conn, |conn| -> QueryResult<()> {
            if queries::find_by_email(conn, &new.email_normalized)?.is_some() {
                let text = mails::address_taken(&st.public_url);
                return queue(conn, &st, &new.email, &text).map(drop);
            }
            let row = queries::insert(conn, &new, &hash, &st.pii)?;
            send_verification(conn, &st, &row.id, &row.email)
        }))
    })
    .await?;
    match result {
        Ok(()) => Ok(()),
        // Registered a moment ago by a concurrent request: the same answer, and the first
        // request's mail is the one that counts.
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

fn queue(
    conn: &mut DbConnection,
    state: &AppState,
    to: &str,
    text: &mails::Text,
) -> QueryResult<String> {
    notify::queue(
        conn,
        &state.settings.mail,
        &Mail {
            to,
            subject: &text.subject,
            body: &text.body,
        },
    )
}

/// A new verification link for `holder_id`, queued to `email` (inside the caller's
/// transaction). Earlier links stay valid until they expire.
fn send_verification(
    conn: &mut DbConnection,
    state: &AppState,
    holder_id: &str,
    email: &str,
) -> QueryResult<()> {
    let ttl = state.settings.accounts.verify_email_ttl;
    let token = tokens::issue(conn, holder_id, Purpose::VerifyEmail, ttl)?;
    let text = mails::verify_email(&state.public_url, &token, hours(ttl));
    queue(conn, state, email, &text).map(drop)
}

/// Uses a verification token: the holder's address counts as verified from now on.
/// `false` when the token is unknown, used or expired.
pub fn verify_email(conn: &mut DbConnection, token: &str) -> QueryResult<bool> {
    db::write_transaction(conn, |conn| {
        let Some(holder_id) = tokens::consume(conn, token, Purpose::VerifyEmail)? else {
            return Ok(false);
        };
        mark_verified(conn, &holder_id)?;
        Ok(true)
    })
}

/// [`verify_email`] as the API route and the page ask for it: `400 invalid_email_token`
/// for a token that cannot be used, whatever the reason.
pub async fn verify(state: &AppState, token: String) -> Result<(), ApiError> {
    let verified = db::run(&state.pool, move |conn| Ok(verify_email(conn, &token)?)).await?;
    if verified {
        Ok(())
    } else {
        Err(super::reset::invalid_token())
    }
}

/// Sets the verified time once (a second link keeps the first time) and audits it.
pub(super) fn mark_verified(conn: &mut DbConnection, holder_id: &str) -> QueryResult<()> {
    let changed = diesel::update(
        holders::table
            .find(holder_id)
            .filter(holders::email_verified_at.is_null()),
    )
    .set(holders::email_verified_at.eq(tokens::now()))
    .execute(conn)?;
    if changed > 0 {
        let actor = format!("holder:{holder_id}");
        audit::append(
            conn,
            &audit::Entry {
                actor: &actor,
                action: "holder.email_verified",
                subject: Some(holder_id),
                details: serde_json::json!({}),
            },
        )?;
    }
    Ok(())
}

/// A resend as the API route and the page ask for it: rate-limited, then
/// [`resend_verification`]. The same `Ok` for any address.
pub async fn resend(
    req: &HttpRequest,
    state: web::Data<AppState>,
    email: &str,
) -> Result<(), ApiError> {
    let email = email.trim().to_lowercase();
    // Its own account key, so resends and logins for one address do not eat each
    // other's allowance; the per-address limit is shared.
    state
        .limiter
        .check(req, &format!("resend:{email}"), client_address(req))?;
    let st = state.clone();
    db::run(&state.pool, move |conn| {
        Ok(resend_verification(conn, &st, &email)?)
    })
    .await
}

/// Queues a new verification link when `email` belongs to a holder who has not verified
/// yet; otherwise does nothing. The caller answers alike either way.
pub fn resend_verification(
    conn: &mut DbConnection,
    state: &AppState,
    email: &str,
) -> QueryResult<()> {
    db::write_transaction(conn, |conn| match queries::find_by_email(conn, email)? {
        Some(row) if row.email_verified_at.is_none() => {
            send_verification(conn, state, &row.id, &row.email)
        }
        _ => Ok(()),
    })
}

/// Whether the holder has verified their address (`false` for an unknown holder).
pub fn email_verified(conn: &mut DbConnection, holder_id: &str) -> QueryResult<bool> {
    let at: Option<Option<chrono::NaiveDateTime>> = holders::table
        .find(holder_id)
        .select(holders::email_verified_at)
        .first(conn)
        .optional()?;
    Ok(matches!(at, Some(Some(_))))
}
