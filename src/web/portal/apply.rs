//! `/portal/requests/new`: applying in steps, one thing per page (GOV.UK's pattern):
//! qualification → certificate details → evidence → check your answers → submit.
//!
//! The draft travels in hidden fields, so the steps need no server-side state, work with
//! JavaScript off and survive the back button. Evidence is stored at its step (content-
//! addressed, `requests::holder_ops::store_evidence`) and only its hash travels; the
//! request is opened with it at submit. The check-answers page carries an idempotency key
//! made when it is shown, and submitting uses the API's own operation with it: a double
//! click, a reload or a back-and-resubmit opens one request and lands on its confirmation.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::apply_pages::{self as pages, Errors};
use crate::app::AppState;
use crate::error::ApiError;
use crate::requests::holder_ops::{self as requests, EVIDENCE_LIMIT_BYTES};
use crate::requests::types::CreateRequest;
use crate::web::multipart;
use crate::web::render::Chrome;
use crate::web::session::SignedIn;

/// What the steps carry from page to page.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Draft {
    pub qualification_id: String,
    pub certificate_number: String,
    pub name_on_certificate: String,
    pub issued_on: String,
    pub expires_on: String,
    pub applying_from: String,
    pub note: String,
    pub evidence_sha256: String,
    pub evidence_name: String,
}

impl Draft {
    /// The body of `POST /v1/verification-requests` this draft makes.
    fn body(&self) -> serde_json::Value {
        let optional = |v: &str| match v.trim() {
            "" => serde_json::Value::Null,
            v => serde_json::Value::String(v.to_owned()),
        };
        serde_json::json!({
            "qualification_id": self.qualification_id,
            "certificate_number": self.certificate_number,
            "name_on_certificate": self.name_on_certificate,
            "issued_on": self.issued_on,
            "expires_on": optional(&self.expires_on),
            "applying_from": self.applying_from,
            "note": optional(&self.note),
        })
    }

    fn evidence(&self) -> Option<String> {
        let sha = self.evidence_sha256.trim();
        (sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit())).then(|| sha.to_owned())
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Posted {
    csrf: String,
    action: String,
    q: String,
    key: String,
    remove_evidence: String,
    #[serde(flatten)]
    draft: Draft,
}

/// The first step, empty; refused at once while the email address is unverified.
pub async fn start(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let (signed, c) = match super::enter(&req, &state).await {
        Ok(entered) => entered,
        Err(response) => return response,
    };
    if let Err(e) = requests::require_verified(&state, &signed.holder_id).await {
        return unverified(&c, e);
    }
    let q = url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "q")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    pages::qualification(
        &state,
        &c,
        &signed.csrf,
        &Draft::default(),
        &q,
        Errors::new(),
    )
    .await
}

fn unverified(c: &Chrome, e: ApiError) -> HttpResponse {
    if e.code != "email_unverified" {
        return c.failure(e);
    }
    let page = crate::web::render::Message {
        c,
        title: c.t("portal-unverified-title"),
        text: super::problem_text(c, &e),
    };
    c.respond(StatusCode::FORBIDDEN, &page)
}

/// Every step posts here; `action` says which button was pressed.
pub async fn step(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> HttpResponse {
    let (signed, c) = match super::enter(&req, &state).await {
        Ok(entered) => entered,
        Err(response) => return response,
    };
    let (posted, file, too_large) = read(&req, payload).await.unwrap_or_default();
    if !super::allowed(&req, &state, &signed, &posted.csrf) {
        return super::refused(&c);
    }
    let mut draft = posted.draft;
    let csrf = signed.csrf.as_str();
    match posted.action.as_str() {
        "search" | "change-qualification" => {
            let q = posted.q.clone();
            pages::qualification(&state, &c, csrf, &draft, &q, Errors::new()).await
        }
        "qualification" => {
            if draft.qualification_id.trim().is_empty() {
                let errors = vec![pages::error(&c, "qualification_id", "missing")];
                return pages::qualification(&state, &c, csrf, &draft, &posted.q, errors).await;
            }
            pages::details(&c, csrf, &draft, Errors::new())
        }
        "change-details" => pages::details(&c, csrf, &draft, Errors::new()),
        "details" => match details_errors(&c, &draft) {
            errors if errors.is_empty() => pages::evidence(&c, csrf, &draft, Errors::new()),
            errors => pages::details(&c, csrf, &draft, errors),
        },
        "change-evidence" => pages::evidence(&c, csrf, &draft, Errors::new()),
        "evidence" => {
            if too_large {
                let errors = vec![pages::error(&c, "evidence", "too_large")];
                return pages::evidence(&c, csrf, &draft, errors);
            }
            if !posted.remove_evidence.is_empty() {
                draft.evidence_sha256.clear();
                draft.evidence_name.clear();
            }
            if let Some(file) = file.filter(|f| !f.bytes.is_empty()) {
                match requests::store_evidence(&state, file.bytes).await {
                    Ok(stored) => {
                        draft.evidence_sha256 = stored.sha256;
                        draft.evidence_name = file.name.chars().take(200).collect();
                    }
                    Err(e) if e.status.is_client_error() => {
                        let errors = vec![pages::error(&c, "evidence", e.code)];
                        return pages::evidence(&c, csrf, &draft, errors);
                    }
                    Err(e) => return c.failure(e),
                }
            }
            pages::check(&state, &c, csrf, &draft, &new_key(), Errors::new()).await
        }
        "submit" => submit(&state, &c, &signed, draft, posted.key).await,
        // No step named (an old bookmark, a hand-made post): begin again with the draft.
        _ => pages::qualification(&state, &c, csrf, &draft, "", Errors::new()).await,
    }
}

/// The certificate details as the API's own validation judges them.
fn details_errors(c: &Chrome, draft: &Draft) -> Errors {
    let body = match serde_json::from_value::<CreateRequest>(draft.body()) {
        Ok(body) => body,
        Err(_) => return vec![pages::error(c, "certificate_number", "invalid")],
    };
    match body.validate(chrono::Utc::now().date_naive()) {
        Ok(_) => Errors::new(),
        Err(fields) => fields
            .iter()
            .map(|f| pages::error(c, &f.field, &f.code))
            .collect(),
    }
}

fn new_key() -> String {
    format!("portal-{}", uuid::Uuid::new_v4().simple())
}

/// Opens the request with the API's operation under the page's key; a repeat replays it.
async fn submit(
    state: &AppState,
    c: &Chrome,
    signed: &SignedIn,
    draft: Draft,
    key: String,
) -> HttpResponse {
    let csrf = signed.csrf.as_str();
    let key = key.trim().to_owned();
    if key.is_empty() || key.len() > 255 {
        return pages::check(state, c, csrf, &draft, &new_key(), Errors::new()).await;
    }
    let opened = requests::open(
        state,
        super::holder(signed),
        key.clone(),
        draft.body(),
        draft.evidence(),
    )
    .await;
    let e = match opened {
        Ok(stored) => {
            return match serde_json::from_str::<serde_json::Value>(&stored.body) {
                Ok(view) => match view["id"].as_str() {
                    Some(id) => super::see_other(&format!("/portal/requests/{id}/submitted")),
                    None => c.failure(ApiError::internal(anyhow::anyhow!("no id in answer"))),
                },
                Err(e) => c.failure(ApiError::internal(e)),
            }
        }
        Err(e) => e,
    };
    if e.code == "email_unverified" {
        return unverified(c, e);
    }
    let errors: Errors = e
        .errors
        .iter()
        .map(|f| pages::error(c, &f.field, &f.code))
        .collect();
    let on = |field: &str| e.errors.iter().any(|f| f.field == field);
    if on("qualification_id") {
        return pages::qualification(state, c, csrf, &draft, "", errors).await;
    }
    if on("evidence") {
        return pages::evidence(c, csrf, &draft, errors);
    }
    if !errors.is_empty() {
        return pages::details(c, csrf, &draft, errors);
    }
    if !e.status.is_client_error() {
        return c.failure(e);
    }
    // A problem of the whole request (one is open already, the body is suspended, …),
    // told on the check page, which keeps its key for a retry that is the same request.
    let errors = vec![("submit".to_owned(), super::problem_text(c, &e))];
    pages::check(state, c, csrf, &draft, &key, errors).await
}

/// The posted form: urlencoded, or multipart with the evidence file (read up to the
/// evidence limit and a little for the fields; past it, the fields before the file are
/// kept and `too_large` is set).
async fn read(
    req: &HttpRequest,
    payload: web::Payload,
) -> Option<(Posted, Option<multipart::File>, bool)> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(boundary) = multipart::boundary(content_type) else {
        return super::read_form(payload).await.map(|p| (p, None, false));
    };
    let (body, too_large) = read_capped(payload, EVIDENCE_LIMIT_BYTES + 64 * 1024).await;
    let mut parts = multipart::parse(&body, &boundary);
    let fields: Vec<(String, String)> = parts.fields.drain().collect();
    let posted: Posted = serde_urlencoded::to_string(&fields)
        .ok()
        .and_then(|s| serde_urlencoded::from_str(&s).ok())?;
    let file = parts.files.remove("evidence");
    let too_large = too_large
        || file
            .as_ref()
            .is_some_and(|f| f.bytes.len() > EVIDENCE_LIMIT_BYTES);
    Some((posted, file, too_large))
}

/// Up to `limit` bytes of the body, and whether there was more. The rest is read and
/// dropped (up to a bound) so that the browser sees the answer, not a reset connection.
async fn read_capped(mut payload: web::Payload, limit: usize) -> (Vec<u8>, bool) {
    use futures_util::StreamExt;
    let mut body = Vec::new();
    let mut seen = 0usize;
    while let Some(Ok(chunk)) = payload.next().await {
        seen += chunk.len();
        if seen > 4 * limit {
            break;
        }
        if body.len() < limit {
            let room = limit - body.len();
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        }
    }
    (body, seen > limit)
}
