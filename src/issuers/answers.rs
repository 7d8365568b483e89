//! Checking an issuing body's answer (a callback or a synchronous 200) and applying it.
//! Refusals change nothing; repeats are recognised by (body, jti) and by the recorded outcome.

use actix_web::http::StatusCode;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::protocol::{self, Answer, AnswerBody, CertificateFacts, Outcome, ANSWER_TYP};
use crate::db::schema::{issuer_messages, issuing_bodies, issuing_body_keys};
use crate::db::DbConnection;
use crate::domain::request_state::RequestState;
use crate::error::ApiError;
use crate::records::issue::Issuance;
use crate::registry::IssuingBodyRow;
use crate::requests;
use crate::requests::{settle, Method, Settlement};

fn refused(e: protocol::ProtocolError) -> ApiError {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNAUTHORIZED);
    let code = if status == StatusCode::BAD_REQUEST {
        "malformed_message"
    } else {
        "message_refused"
    };
    ApiError::new(status, code, e.to_string())
}

/// Verifies a message: its typ and algorithm, the sender's active key, the signature,
/// the audience (this platform) and its lifetime.
pub fn verify(
    conn: &mut DbConnection,
    token: &str,
    platform: &str,
) -> Result<(IssuingBodyRow, Answer), ApiError> {
    let sender = protocol::sender(token, ANSWER_TYP).map_err(refused)?;
    let unknown = || {
        refused(protocol::ProtocolError::UnknownKey {
            iss: sender.iss.clone(),
            kid: sender.kid.clone(),
        })
    };
    // The body and its active key of that kid in one query; either missing is the same refusal.
    let found: Option<(IssuingBodyRow, String)> = issuing_bodies::table
        .inner_join(issuing_body_keys::table)
        .filter(issuing_bodies::code.eq(&sender.iss))
        .filter(issuing_body_keys::kid.eq(&sender.kid))
        .filter(issuing_body_keys::status.eq("active"))
        .select((IssuingBodyRow::as_select(), issuing_body_keys::x))
        .first(conn)
        .optional()?;
    let (body, x) = found.ok_or_else(unknown)?;
    let key = crate::issuers::keys::verifying_key(&x).ok_or_else(unknown)?;
    let answer: Answer = protocol::verify(
        token,
        ANSWER_TYP,
        &key,
        Some(platform),
        chrono::Utc::now().timestamp(),
    )
    .map_err(refused)?;
    if answer.iss != body.code {
        return Err(unknown());
    }
    Ok((body, answer))
}

/// What applying an answer did.
#[derive(Debug, PartialEq, Eq)]
pub enum Applied {
    Settled,
    AlreadyKnown,
    Stored,
}

/// Applies a verified answer in the caller's transaction: records the message by its jti,
/// settles the request it answers, or stores a revocation for the records capability.
pub fn apply(
    conn: &mut DbConnection,
    issuance: &Issuance<'_>,
    body: &IssuingBodyRow,
    answer: &Answer,
    token: &str,
    method: Method,
) -> Result<Applied, ApiError> {
    if let Some(known) = store(conn, body, answer, token)? {
        return Ok(known);
    }
    let outcome = match &answer.body {
        AnswerBody::VerificationResult {
            request_id,
            outcome,
            certificate,
            ..
        } => {
            let row = requests::find(conn, request_id)?
                .filter(|r| r.issuing_body_id == body.id)
                .ok_or_else(|| {
                    ApiError::forbidden(
                        "not_addressed_to_body",
                        "No request of this body has that id.",
                    )
                })?;
            match (row.state(), row.outcome.as_deref()) {
                (RequestState::AwaitingIssuer | RequestState::ManualReview, _) => {
                    let actor = actor(body);
                    let settlement = settlement(&actor, *outcome, certificate.as_ref(), method);
                    settle(conn, issuance, &row, &settlement)?;
                    Applied::Settled
                }
                (_, Some(recorded)) if recorded == outcome.as_str() => Applied::AlreadyKnown,
                (_, Some(_)) => {
                    return Err(ApiError::conflict(
                        "outcome_contradicts",
                        "The request was settled with another outcome.",
                    ))
                }
                // Withdrawn or expired before the body answered: kept, nothing to settle.
                (_, None) => Applied::Stored,
            }
        }
        AnswerBody::CertificateRevoked {
            certificate_number,
            qualification_code,
            reason,
            ..
        } => {
            crate::records::status::revoke_certificate(
                conn,
                &body.id,
                qualification_code,
                certificate_number,
                reason.as_deref(),
                &actor(body),
            )?;
            Applied::Stored
        }
    };
    Ok(outcome)
}

/// Stores a verified message by its (body, jti) in the caller's transaction. None when it
/// is new; `AlreadyKnown` when the same message was stored before.
pub fn store(
    conn: &mut DbConnection,
    body: &IssuingBodyRow,
    answer: &Answer,
    token: &str,
) -> Result<Option<Applied>, ApiError> {
    let digest = hex::encode(Sha256::digest(token.as_bytes()));
    let (kind, request_id) = match &answer.body {
        AnswerBody::VerificationResult { request_id, .. } => {
            ("verification_result", Some(request_id.clone()))
        }
        AnswerBody::CertificateRevoked { .. } => ("certificate_revoked", None),
    };
    // Stored first, so a new message (nearly all of them) costs one statement here, not a
    // look-up and an insert; a refusal after it rolls it back with everything else. On
    // PostgreSQL a concurrent insert of the same jti waits for the other to commit, so
    // the look-up after a conflict sees what it stored.
    let values = (
        issuer_messages::issuing_body_id.eq(&body.id),
        issuer_messages::jti.eq(&answer.jti),
        issuer_messages::sha256.eq(&digest),
        issuer_messages::message_type.eq(kind),
        issuer_messages::request_id.eq(request_id),
        issuer_messages::claims.eq(serde_json::to_string(answer).map_err(ApiError::internal)?),
        issuer_messages::received_at.eq(chrono::Utc::now().naive_utc()),
    );
    if crate::insert_or_skip!(conn, issuer_messages::table, values)? == 1 {
        return Ok(None);
    }
    let seen: String = issuer_messages::table
        .find((&body.id, &answer.jti))
        .select(issuer_messages::sha256)
        .first(conn)?;
    if seen == digest {
        Ok(Some(Applied::AlreadyKnown))
    } else {
        Err(ApiError::conflict(
            "jti_reused",
            "This jti was seen before with other content.",
        ))
    }
}

/// Who an issuing body's answers are recorded as.
pub fn actor(body: &IssuingBodyRow) -> String {
    format!("issuer:{}", body.code)
}

/// What a body's verification result settles, as `actor` (see [`actor`]).
pub fn settlement<'a>(
    actor: &'a str,
    outcome: Outcome,
    certificate: Option<&CertificateFacts>,
    method: Method,
) -> Settlement<'a> {
    Settlement {
        outcome,
        method,
        certificate_facts: certificate.and_then(|c| serde_json::to_string(c).ok()),
        actor,
        note: None,
    }
}
