//! A record's credential, built and signed from what the request, its holder, qualification
//! and issuing body say. No IO: issuing decides where the status-list indices come from and
//! when the record is stored.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{NaiveDateTime, SecondsFormat};
use diesel::prelude::*;
use rand_core::{OsRng, RngCore};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::did;
use super::issue::Issuance;
use super::proof::{self, ProofOptions};
use super::queries::RecordRow;
use crate::auth::keys::PlatformKey;
use crate::db::schema::holders;
use crate::error::ApiError;
use crate::registry::{IssuingBodyRow, QualificationRow};

/// What a record says of its holder.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = holders)]
pub struct HolderFacts {
    pub full_name: String,
    pub nationality: String,
    pub identity_document_type: String,
    pub identity_document_hmac: String,
    /// The identity document, sealed with the PII key; the credential holds a salted digest.
    pub identity_document_sealed: Option<String>,
}

/// What a record says of the request it answers: the certificate as the holder entered
/// it. The requests module makes one of its rows (records sit below requests).
#[derive(Debug, Clone, Copy)]
pub struct Claim<'a> {
    pub request_id: &'a str,
    pub holder_id: &'a str,
    pub qualification_id: &'a str,
    pub certificate_number: &'a str,
    pub issued_on: chrono::NaiveDate,
    pub expires_on: Option<chrono::NaiveDate>,
}

/// Everything a record is built from besides the request itself.
#[derive(Debug, Clone)]
pub struct Facts {
    pub holder: HolderFacts,
    pub qualification: QualificationRow,
    pub body: IssuingBodyRow,
}

/// One record about to be stored: its id, when it was built, and with which key.
pub struct Draft<'a> {
    pub id: &'a str,
    pub now: NaiveDateTime,
    pub key: &'a PlatformKey,
    /// `issuer_api`, `issuer_callback` or `manual_review`.
    pub method: &'a str,
}

/// The signed record, on the given revocation and suspension list entries.
pub fn build(
    iss: &Issuance<'_>,
    request: Claim<'_>,
    facts: &Facts,
    draft: &Draft<'_>,
    (revocation, suspension): (&(String, i64), &(String, i64)),
) -> Result<RecordRow, ApiError> {
    let Facts {
        holder,
        qualification,
        body,
    } = facts;
    let identity = holder
        .identity_document_sealed
        .as_deref()
        .and_then(|s| iss.pii.open(s))
        .ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!(
                "holder {}: the identity document cannot be opened with the PII key",
                request.holder_id
            ))
        })?;
    let valid_from = chrono::DateTime::from_timestamp(draft.now.and_utc().timestamp(), 0)
        .unwrap_or_default()
        .naive_utc();
    let valid_until = valid_until(valid_from, request.expires_on, iss.validity);

    let mut salt = [0u8; 16];
    OsRng.fill_bytes(&mut salt);
    let mut digest = Sha256::new();
    digest.update(salt);
    digest.update(identity.as_bytes());
    let issuer = iss.did();
    let credential = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": format!("urn:uuid:{}", draft.id),
        "type": ["VerifiableCredential", "QualificationVerificationCredential"],
        "issuer": issuer,
        "validFrom": rfc3339(valid_from),
        "validUntil": rfc3339(valid_until),
        "credentialSubject": {
            "name": holder.full_name,
            "nationality": holder.nationality,
            "identityDocument": {
                "type": holder.identity_document_type,
                "digest": URL_SAFE_NO_PAD.encode(digest.finalize()),
                "salt": URL_SAFE_NO_PAD.encode(salt),
            },
            "qualification": {
                "id": qualification.id,
                "code": qualification.code,
                "name": qualification.name_en,
                "nameZh": qualification.name_zh,
                "categories": qualification.categories(),
                "listVersion": qualification.list_version,
                "issuingBody": {"code": body.code, "name": body.name_en, "country": body.country},
            },
            "certificate": {
                "number": request.certificate_number,
                "issuedOn": request.issued_on.to_string(),
                "expiresOn": request.expires_on.map(|d| d.to_string()),
            },
            "verification": {
                "method": draft.method,
                "confirmedAt": rfc3339(valid_from),
                "requestId": request.request_id,
            },
        },
        "credentialStatus": [
            status_entry(iss, "revocation", revocation),
            status_entry(iss, "suspension", suspension),
        ],
    });
    let signed = proof::sign(
        &credential,
        &ProofOptions {
            verification_method: did::method_id(&issuer, &draft.key.kid),
            created: rfc3339(valid_from),
            proof_purpose: "assertionMethod".into(),
        },
        &draft.key.signing,
    )
    .map_err(ApiError::internal)?;
    Ok(RecordRow {
        id: draft.id.to_owned(),
        request_id: request.request_id.to_owned(),
        holder_id: request.holder_id.to_owned(),
        qualification_id: request.qualification_id.to_owned(),
        identity_document_hmac: holder.identity_document_hmac.clone(),
        nationality: holder.nationality.clone(),
        status: "valid".into(),
        status_reason: None,
        kid: draft.key.kid.clone(),
        credential: signed.to_string(),
        valid_from,
        valid_until,
        revocation_list: revocation.0.clone(),
        revocation_index: revocation.1,
        suspension_list: suspension.0.clone(),
        suspension_index: suspension.1,
        created_at: draft.now,
        updated_at: draft.now,
    })
}

/// The earlier of the certificate's last day (to its end) and issue time plus validity.
pub fn valid_until(
    valid_from: NaiveDateTime,
    expires_on: Option<chrono::NaiveDate>,
    validity: chrono::Duration,
) -> NaiveDateTime {
    let by_platform = valid_from + validity;
    match expires_on.and_then(|d| d.and_hms_opt(23, 59, 59)) {
        Some(end) if end < by_platform => end,
        _ => by_platform,
    }
}

fn rfc3339(at: NaiveDateTime) -> String {
    at.and_utc().to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn status_entry(iss: &Issuance<'_>, purpose: &str, (list, index): &(String, i64)) -> Value {
    let url = iss.status_list_url(list);
    json!({
        "id": format!("{url}#{index}"),
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": index.to_string(),
        "statusListCredential": url,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn valid_until_is_the_earlier_of_certificate_expiry_and_platform_validity() {
        let from = at("2026-11-26 10:00:00");
        let three_years = chrono::Duration::days(3 * 365);
        assert_eq!(valid_until(from, None, three_years), from + three_years);
        assert_eq!(
            valid_until(from, NaiveDate::from_ymd_opt(2027, 6, 30), three_years),
            at("2027-06-30 23:59:59")
        );
        assert_eq!(
            valid_until(from, NaiveDate::from_ymd_opt(2040, 1, 1), three_years),
            from + three_years
        );
    }
}
