//! What a holder does with their own requests — open one under an idempotency key, read
//! them, withdraw one, attach evidence — as operations that the API routes
//! (`routes.rs`) and the portal pages (`web::portal`) both call, so that the checks,
//! writes and errors are the same on both.

use actix_web::http::StatusCode;
use diesel::prelude::*;
use diesel::result::Error as DieselError;

use super::queries::{self, RequestRow};
use super::types::{CreateRequest, Evidence, RequestView};
use crate::app::AppState;
use crate::auth::Holder;
use crate::db::schema::{evidence, verification_requests};
use crate::db::{self, write_transaction, DbConnection};
use crate::domain::request_state::RequestState;
use crate::error::{ApiError, FieldError};
use crate::idempotency::{self, Stored};
use crate::page::Page;

/// The most evidence a request takes (`PUT …/evidence`, and the apply page's upload).
pub const EVIDENCE_LIMIT_BYTES: usize = 5 * 1024 * 1024;

/// One of the holder's requests; another holder's is as absent as one that never existed.
pub fn own(conn: &mut DbConnection, holder_id: &str, id: &str) -> Result<RequestRow, ApiError> {
    queries::find(conn, id)?
        .filter(|r| r.holder_id == holder_id)
        .ok_or_else(|| ApiError::not_found("No such verification request."))
}

/// `403 email_unverified` unless the holder has verified their email address.
pub async fn require_verified(state: &AppState, holder_id: &str) -> Result<(), ApiError> {
    let holder_id = holder_id.to_owned();
    let verified = db::run_retrying(&state.pool, move |conn| {
        Ok(crate::holders::email_verified(conn, &holder_id)?)
    })
    .await?;
    if verified {
        return Ok(());
    }
    Err(ApiError::forbidden(
        "email_unverified",
        "Verify your email address first: open the link in the mail sent at registration.",
    ))
}

/// Opens a request from `body` (the JSON of `POST /v1/verification-requests`) under the
/// holder's idempotency `key`, or replays the key's first answer. `evidence` is the
/// SHA-256 of evidence already stored ([`store_evidence`]) to attach in the same insert;
/// the API attaches evidence later instead and passes none.
pub async fn open(
    state: &AppState,
    holder: Holder,
    key: String,
    body: serde_json::Value,
    evidence: Option<String>,
) -> Result<Stored, ApiError> {
    require_verified(state, &holder.id).await?;
    let fingerprint = match &evidence {
        None => idempotency::fingerprint(&body)?,
        Some(sha256) => {
            idempotency::fingerprint(&serde_json::json!({"request": body, "evidence": sha256}))?
        }
    };
    let parsed: CreateRequest = serde_json::from_value(body).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            format!("The body does not have the expected shape: {e}"),
        )
    })?;
    let mut new = parsed
        .validate(chrono::Utc::now().date_naive())
        .map_err(ApiError::validation)?;
    if let Some(sha256) = evidence {
        new.evidence = Some(stored_evidence(state, sha256).await?);
    }
    let lease =
        chrono::Duration::from_std(state.settings.idempotency_lease).map_err(ApiError::internal)?;
    let key = idempotency::Request::new(format!("holder:{}", holder.id), key, fingerprint, lease);
    super::submit::submit(state, holder, key, new).await
}

/// Evidence stored earlier, by its hash; a field error when there is none.
async fn stored_evidence(state: &AppState, sha256: String) -> Result<Evidence, ApiError> {
    let found = db::run_retrying(&state.pool, move |conn| {
        let content_type: Option<String> = evidence::table
            .find(&sha256)
            .select(evidence::content_type)
            .first(conn)
            .optional()?;
        Ok(content_type.map(|content_type| Evidence {
            sha256: sha256.clone(),
            content_type,
        }))
    })
    .await?;
    found.ok_or_else(|| {
        ApiError::validation(vec![FieldError::new(
            "evidence",
            "unknown",
            "No such evidence.",
        )])
    })
}

/// The holder's requests, newest first: `limit` of them after the cursor, and the next one.
pub async fn list(
    state: &AppState,
    holder_id: String,
    cursor: Option<String>,
    limit: i64,
) -> Result<Page<RequestView>, ApiError> {
    db::run_retrying(&state.pool, move |conn| {
        let rows = queries::list_for_holder(conn, &holder_id, cursor.as_deref(), limit + 1)?;
        Ok(page_of(conn, rows, limit, queries::view)?)
    })
    .await
}

/// Turns `limit + 1` rows into a page: the extra row only tells that another page exists.
pub fn page_of<T>(
    conn: &mut DbConnection,
    rows: Vec<RequestRow>,
    limit: i64,
    view: impl Fn(&mut DbConnection, &RequestRow) -> QueryResult<T>,
) -> QueryResult<Page<T>> {
    // Views read the database, so the page is cut first and only its rows are viewed.
    let rows = Page::of(rows, limit, |r| r.id.clone(), |r| r);
    let items = rows
        .items
        .iter()
        .map(|r| view(conn, r))
        .collect::<QueryResult<Vec<_>>>()?;
    Ok(Page {
        items,
        next_cursor: rows.next_cursor,
    })
}

/// One of the holder's requests with its history.
pub async fn one(state: &AppState, holder_id: String, id: String) -> Result<RequestView, ApiError> {
    db::run_retrying(&state.pool, move |conn| {
        let row = own(conn, &holder_id, &id)?;
        Ok(queries::view(conn, &row)?)
    })
    .await
}

/// Withdraws one of the holder's open requests (`409 invalid_transition` once it is closed).
pub async fn withdraw(
    state: &AppState,
    holder: Holder,
    id: String,
) -> Result<RequestView, ApiError> {
    db::run(&state.pool, move |conn| {
        write_transaction(conn, |conn| {
            let row = own(conn, &holder.id, &id)?;
            queries::transition(
                conn,
                &row,
                RequestState::Withdrawn,
                Some("withdrawn by the holder"),
                &holder.id,
            )?;
            let row = queries::find(conn, &row.id)?.ok_or(DieselError::NotFound)?;
            Ok(queries::view(conn, &row)?)
        })
    })
    .await
}

/// The types evidence may have, told from the bytes, never from a header or a file name.
pub fn evidence_type(bytes: &[u8]) -> Result<&'static str, ApiError> {
    match infer::get(bytes).map(|t| t.mime_type()) {
        Some(t @ ("application/pdf" | "image/jpeg" | "image/png")) => Ok(t),
        _ => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Evidence must be a PDF, JPEG or PNG.",
        )),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes))
}

/// Stores evidence by its SHA-256 unless it is stored already (content-addressed).
fn insert_evidence(
    conn: &mut DbConnection,
    sha256: &str,
    content_type: &str,
    bytes: &[u8],
) -> QueryResult<()> {
    let exists: bool =
        diesel::select(diesel::dsl::exists(evidence::table.find(sha256))).get_result(conn)?;
    if !exists {
        diesel::insert_into(evidence::table)
            .values((
                evidence::sha256.eq(sha256),
                evidence::content_type.eq(content_type),
                evidence::size.eq(bytes.len() as i64),
                evidence::content.eq(bytes),
                evidence::created_at.eq(chrono::Utc::now().naive_utc()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Checks and stores evidence before there is a request to attach it to (the apply
/// pages carry its hash until the request is opened with it).
pub async fn store_evidence(state: &AppState, bytes: Vec<u8>) -> Result<Evidence, ApiError> {
    if bytes.len() > EVIDENCE_LIMIT_BYTES {
        return Err(too_large());
    }
    let content_type = evidence_type(&bytes)?;
    let sha256 = sha256_hex(&bytes);
    let stored = Evidence {
        sha256: sha256.clone(),
        content_type: content_type.to_owned(),
    };
    db::run(&state.pool, move |conn| {
        write_transaction(conn, |conn| {
            Ok::<_, ApiError>(insert_evidence(conn, &sha256, content_type, &bytes)?)
        })
    })
    .await?;
    Ok(stored)
}

/// What a body over the limit is answered (as `read_limited` answers it).
pub fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("Evidence is limited to {EVIDENCE_LIMIT_BYTES} bytes."),
    )
}

/// Attaches evidence (a PDF, JPEG or PNG) to one of the holder's open requests.
pub async fn attach_evidence(
    state: &AppState,
    holder: Holder,
    id: String,
    bytes: Vec<u8>,
) -> Result<RequestView, ApiError> {
    let content_type = evidence_type(&bytes)?;
    let sha256 = sha256_hex(&bytes);
    db::run(&state.pool, move |conn| {
        write_transaction(conn, |conn| {
            let row = own(conn, &holder.id, &id)?;
            if !row.state().is_open() {
                return Err(ApiError::conflict(
                    "request_closed",
                    "Evidence can only be added to an open request.",
                ));
            }
            insert_evidence(conn, &sha256, content_type, &bytes)?;
            diesel::update(verification_requests::table.find(&row.id))
                .set((
                    verification_requests::evidence_sha256.eq(&sha256),
                    verification_requests::evidence_type.eq(content_type),
                ))
                .execute(conn)?;
            let row = queries::find(conn, &row.id)?.ok_or(DieselError::NotFound)?;
            Ok(queries::view(conn, &row)?)
        })
    })
    .await
}
