//! Password reset by emailed link, as operations for the pages (DESIGN.md names no API
//! route for it). A request answers alike for any address; a reset ends every session.

use actix_web::{web, HttpRequest};
use diesel::prelude::*;

use super::mails;
use super::sessions;
use super::tokens::{self, Purpose};
use super::types::check_password;
use crate::app::AppState;
use crate::audit;
use crate::auth::ratelimit::client_address;
use crate::db::schema::holders;
use crate::db::{self, DbConnection};
use crate::error::ApiError;
use crate::notify::{self, Mail};

/// A reset as the page asks for it: rate-limited like a resend (its own account key,
/// the per-address limit shared with login), then [`request_reset`]. The same `Ok` for
/// any address, so the answer tells nothing about who is registered.
pub async fn request(
    req: &HttpRequest,
    state: web::Data<AppState>,
    email: &str,
) -> Result<(), ApiError> {
    let email = email.trim().to_lowercase();
    state
        .limiter
        .check(req, &format!("reset:{email}"), client_address(req))?;
    let st = state.clone();
    db::run(&state.pool, move |conn| {
        Ok(request_reset(conn, &st, &email)?)
    })
    .await
}

/// Queues a reset link when `email` belongs to a holder; otherwise does nothing.
pub fn request_reset(conn: &mut DbConnection, state: &AppState, email: &str) -> QueryResult<()> {
    db::write_transaction(conn, |conn| {
        let Some(row) = super::queries::find_by_email(conn, email)? else {
            return Ok(());
        };
        let ttl = state.settings.accounts.password_reset_ttl;
        let token = tokens::issue(conn, &row.id, Purpose::ResetPassword, ttl)?;
        let text = mails::reset_password(&state.public_url, &token, (ttl.as_secs() / 60).max(1));
        notify::queue(
            conn,
            &state.settings.mail,
            &Mail {
                to: &row.email,
                subject: &text.subject,
                body: &text.body,
            },
        )
        .map(drop)
    })
}

/// Sets a new password with a reset token: the same rules as registration; the token is
/// used up, every session of the holder ends, and the address counts as verified (the
/// link reached its mailbox). `400 invalid_email_token` for an unknown, used or expired one.
pub async fn reset_password(
    state: web::Data<AppState>,
    token: String,
    password: String,
) -> Result<(), ApiError> {
    check_password(&password).map_err(|e| ApiError::validation(vec![e]))?;
    let hasher = state.hasher.clone();
    let hash = web::block(move || hasher.hash(&password))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    let reset = db::run(&state.pool, move |conn| {
        Ok(db::write_transaction(conn, |conn| -> QueryResult<bool> {
            let Some(holder_id) = tokens::consume(conn, &token, Purpose::ResetPassword)? else {
                return Ok(false);
            };
            diesel::update(holders::table.find(&holder_id))
                .set((
                    holders::password_hash.eq(&hash),
                    holders::updated_at.eq(tokens::now()),
                ))
                .execute(conn)?;
            let ended = sessions::end_all(conn, &holder_id)?;
            super::email::mark_verified(conn, &holder_id)?;
            let actor = format!("holder:{holder_id}");
            audit::append(
                conn,
                &audit::Entry {
                    actor: &actor,
                    action: "holder.password_reset",
                    subject: Some(&holder_id),
                    details: serde_json::json!({ "sessions_ended": ended }),
                },
            )?;
            Ok(true)
        })?)
    })
    .await?;
    if reset {
        Ok(())
    } else {
        Err(invalid_token())
    }
}

/// The one answer for a link token that cannot be used, whatever the reason.
pub fn invalid_token() -> ApiError {
    ApiError::bad_request(
        "invalid_email_token",
        "The link is unknown, already used or expired; ask for a new one.",
    )
}
