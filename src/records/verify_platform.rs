//! A record file checked against this platform only (DESIGN.md, `/verify`): the same
//! verification as `certverify verify-record` (src/records/offline*.rs), with the keys and
//! the status lists taken from this platform's own state, never from a URL in the file.

use actix_web::http::StatusCode;
use chrono::Utc;

use super::offline::{self, Failure, Signed, Verified};
use super::offline_keys::KeySet;
use super::{did, offline_status};
use crate::app::AppState;
use crate::error::ApiError;

/// The most a page accepts, as DESIGN.md fixes it.
pub const MAX_RECORD_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Valid(Verified),
    /// Its issuer, or a status list it names, is not this platform.
    NotOurs,
    /// A record of this platform that does not hold: why.
    Invalid(String),
    /// Not a record at all (not JSON, not a JWS): why.
    Unusable(String),
}

impl From<Failure> for Verdict {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Invalid(reason) => Verdict::Invalid(reason),
            Failure::Unusable(reason) => Verdict::Unusable(reason),
        }
    }
}

/// The verdict on `text`; an error only when the platform's own state cannot be read.
pub async fn verify_on_platform(state: &AppState, text: &str) -> Result<Verdict, ApiError> {
    let signed = match offline::parse(text) {
        Ok(signed) => signed,
        Err(failure) => return Ok(failure.into()),
    };
    let ours = did::did_web(&state.public_url);
    if offline::issuer_of(signed.credential()) != Some(ours.as_str()) {
        return Ok(Verdict::NotOurs);
    }
    // Published keys only: a revoked key is no longer in the document, so it verifies nothing.
    let keys = KeySet::from_did_document(&did::document(&ours, &state.keys.published()))
        .map_err(|e| ApiError::internal(anyhow::anyhow!(e)))?;
    let now = Utc::now();
    let verified = match offline::verify_record(&signed, &keys, now) {
        Ok(verified) => verified,
        Err(failure) => return Ok(failure.into()),
    };
    let entries = match offline_status::entries(signed.credential()) {
        Ok(entries) => entries,
        Err(failure) => return Ok(failure.into()),
    };
    let prefix = format!("{}/v1/status-lists/", state.public_url);
    for entry in entries {
        let Some(id) = entry.list.strip_prefix(&prefix) else {
            return Ok(Verdict::NotOurs);
        };
        let list = match super::routes::signed_status_list(state, id.to_owned()).await {
            Ok(list) => Signed::DataIntegrity(list),
            Err(e) if e.status == StatusCode::NOT_FOUND => return Ok(Verdict::NotOurs),
            Err(e) => return Err(e),
        };
        if let Err(failure) = offline_status::check(&entry, &list, &keys, &verified.issuer, now) {
            return Ok(failure.into());
        }
    }
    Ok(Verdict::Valid(verified))
}
