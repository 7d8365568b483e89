//! One error type for the whole API, rendered as an RFC 9457 problem document.

use actix_web::body::BoxBody;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem document with a machine-readable `code`.
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem (`urn:certverify:problem:<code>`).
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code, e.g. `invalid_token`, `validation_failed`.
    pub code: String,
    /// Present on validation failures: one entry per bad field.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub errors: Vec<FieldError>,
}

/// One invalid field of a request body.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, ToSchema)]
pub struct FieldError {
    /// The field's JSON path, e.g. `identity_document.number`.
    pub field: String,
    pub code: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    pub errors: Vec<FieldError>,
    headers: Vec<(HeaderName, HeaderValue)>,
    /// Kept for the log only; never shown to the caller.
    source: Option<anyhow::Error>,
    /// A storage failure that running the same work again may cure (see [`storage_failure`]).
    retryable: bool,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)?;
        if let Some(source) = &self.source {
            write!(f, " ({source:#})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            errors: Vec::new(),
            headers: Vec::new(),
            source: None,
            retryable: false,
        }
    }

    pub fn with_header(mut self, name: HeaderName, value: &str) -> Self {
        if let Ok(value) = HeaderValue::from_str(value) {
            self.headers.push((name, value));
        }
        self
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let mut e = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "One or more fields are invalid.",
        );
        e.errors = errors;
        e
    }

    /// 401 with the RFC 6750 challenge, so clients know a bearer token is expected.
    pub fn unauthorized(code: &'static str, detail: impl Into<String>) -> Self {
        let challenge = match code {
            "missing_token" => "Bearer".to_owned(),
            _ => format!("Bearer error=\"invalid_token\", error_description=\"{code}\""),
        };
        Self::new(StatusCode::UNAUTHORIZED, code, detail)
            .with_header(header::WWW_AUTHENTICATE, &challenge)
    }

    pub fn forbidden(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", detail)
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }

    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "Too many attempts; try again later.",
        )
        .with_header(header::RETRY_AFTER, &retry_after_secs.max(1).to_string())
    }

    /// 503 `storage_unavailable`: the database could not be reached or did not finish the
    /// work (no connection, pool timeout, a cut connection, a lock held too long). Nothing
    /// is wrong with the request, so the client is told when to send it again.
    pub fn unavailable(source: impl Into<anyhow::Error>) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            STORAGE_UNAVAILABLE,
            "The service cannot reach its database; try again shortly.",
        )
        .with_header(header::RETRY_AFTER, &STORAGE_RETRY_AFTER_SECS.to_string());
        e.source = Some(source.into());
        e
    }

    /// 500 for a real bug, unless the cause is a storage failure (an error passed up
    /// through `anyhow` keeps its cause), which is a 503.
    pub fn internal(source: impl Into<anyhow::Error>) -> Self {
        let source = source.into();
        if let Some(failure) = source.chain().find_map(storage_failure_of) {
            let mut e = Self::unavailable(source);
            e.retryable = failure == StorageFailure::Transient;
            return e;
        }
        let mut e = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "An internal error occurred.",
        );
        e.source = Some(source);
        e
    }

    /// A storage failure that the same work, run again on a fresh connection, may not meet
    /// (a serialization failure, a deadlock, a connection cut before the commit).
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }

    /// The same failure, no longer to be retried (the caller gave up on it).
    pub fn not_retried(mut self) -> Self {
        self.retryable = false;
        self
    }

    /// Any failure of the storage rather than of the request (a 503 `storage_unavailable`).
    pub fn is_storage_failure(&self) -> bool {
        self.code == STORAGE_UNAVAILABLE
    }

    pub fn problem(&self) -> Problem {
        Problem {
            problem_type: format!("urn:certverify:problem:{}", self.code),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code.to_owned(),
            errors: self.errors.clone(),
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        Self::internal(e)
    }
}

/// The problem code of every storage failure, on every route.
pub const STORAGE_UNAVAILABLE: &str = "storage_unavailable";
/// What a 503 for a storage failure asks the client to wait: long enough for a pool to
/// reconnect or a lock to pass, short enough that a retry is not a user-visible stall.
pub const STORAGE_RETRY_AFTER_SECS: u64 = 2;

/// How a storage failure may be met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageFailure {
    /// Running the work again (on a fresh connection) may succeed at once.
    Transient,
    /// The storage is unusable for now (busy beyond its timeout, an I/O error, unreachable),
    /// or it is unknown whether a commit happened: answer 503 and let the client decide.
    Unavailable,
}

/// A commit whose connection was lost before its answer came: it may or may not have
/// happened, so the work must not be run again blindly. `db::write_transaction` wraps such
/// a failure in this.
#[derive(Debug, thiserror::Error)]
#[error("the connection was lost during the commit, which may or may not have happened: {0}")]
pub struct CommitInDoubt(pub diesel::result::Error);

/// Which diesel errors are the storage's fault rather than a bug. diesel names only some
/// SQLSTATEs and none of SQLite's result codes, so the rest are told by their messages
/// (PostgreSQL's and SQLite's own, which are stable).
pub fn storage_failure(e: &diesel::result::Error) -> Option<StorageFailure> {
    use diesel::result::{DatabaseErrorKind as Kind, Error};
    match e {
        Error::DatabaseError(
            Kind::ClosedConnection | Kind::UnableToSendCommand | Kind::SerializationFailure,
            _,
        ) => Some(StorageFailure::Transient),
        Error::DatabaseError(Kind::ReadOnlyTransaction, _) | Error::BrokenTransactionManager => {
            Some(StorageFailure::Unavailable)
        }
        Error::DatabaseError(Kind::Unknown, info) => {
            let message = info.message();
            const TRANSIENT: &[&str] = &[
                "deadlock detected",
                "could not serialize access",
                "terminating connection",
                "server closed the connection",
                "no connection to the server",
                "could not receive data from server",
                "could not send data to server",
            ];
            // SQLite: busy beyond the busy timeout (SQLITE_BUSY, SQLITE_LOCKED), I/O errors,
            // a full disk, a file it cannot open.
            const UNAVAILABLE: &[&str] = &[
                "database is locked",
                "database table is locked",
                "disk I/O error",
                "database or disk is full",
                "unable to open database file",
            ];
            if TRANSIENT.iter().any(|m| message.contains(m)) {
                Some(StorageFailure::Transient)
            } else if UNAVAILABLE.iter().any(|m| message.contains(m)) {
                Some(StorageFailure::Unavailable)
            } else {
                None
            }
        }
        Error::QueryBuilderError(inner) if inner.is::<CommitInDoubt>() => {
            Some(StorageFailure::Unavailable)
        }
        _ => None,
    }
}

/// A storage failure anywhere in an error's chain: a diesel error, a lost commit, or the
/// pool that could not lend a connection.
fn storage_failure_of(e: &(dyn std::error::Error + 'static)) -> Option<StorageFailure> {
    if let Some(e) = e.downcast_ref::<diesel::result::Error>() {
        return storage_failure(e);
    }
    if e.is::<CommitInDoubt>()
        || e.is::<diesel::r2d2::PoolError>()
        || e.is::<diesel::ConnectionError>()
    {
        return Some(StorageFailure::Unavailable);
    }
    None
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse<BoxBody> {
        if self.status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let mut response = HttpResponse::build(self.status);
        response.content_type(PROBLEM_JSON);
        for (name, value) in &self.headers {
            response.insert_header((name.clone(), value.clone()));
        }
        response.json(self.problem())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_validation_problem_lists_every_bad_field() {
        let e = ApiError::validation(vec![
            FieldError::new("email", "invalid", "not an email"),
            FieldError::new("password", "too_short", "at least 12 characters"),
        ]);
        let p = e.problem();
        assert_eq!(p.status, 422);
        assert_eq!(p.code, "validation_failed");
        assert_eq!(p.errors.len(), 2);
        assert_eq!(p.problem_type, "urn:certverify:problem:validation_failed");
    }

    #[test]
    fn internal_errors_never_show_their_cause() {
        let e = ApiError::internal(anyhow::anyhow!("password=hunter2"));
        assert!(!e.problem().detail.contains("hunter2"));
        assert_eq!(e.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn storage_failures_are_503_with_retry_after_and_bugs_stay_500() {
        use diesel::result::{DatabaseErrorKind, Error};
        let cut = Error::DatabaseError(
            DatabaseErrorKind::ClosedConnection,
            Box::new("server closed the connection unexpectedly".to_owned()),
        );
        let e = ApiError::from(cut);
        assert_eq!(e.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(e.code, STORAGE_UNAVAILABLE);
        assert!(e.is_retryable());
        let response = e.error_response();
        assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "2");

        let locked = Error::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new("database is locked".to_owned()),
        );
        let through_anyhow = ApiError::internal(anyhow::Error::from(locked).context("issuing"));
        assert_eq!(through_anyhow.code, STORAGE_UNAVAILABLE);
        assert!(
            !through_anyhow.is_retryable(),
            "the busy timeout already waited"
        );

        let bug = ApiError::from(Error::NotFound);
        assert_eq!(bug.status, StatusCode::INTERNAL_SERVER_ERROR);
        let in_doubt = Error::QueryBuilderError(Box::new(CommitInDoubt(Error::NotFound)));
        let in_doubt = ApiError::from(in_doubt);
        assert_eq!(in_doubt.code, STORAGE_UNAVAILABLE);
        assert!(
            !in_doubt.is_retryable(),
            "a commit that may have happened is not run again"
        );
    }

    #[test]
    fn too_many_requests_says_when_to_retry() {
        let response = ApiError::too_many_requests(0).error_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "1");
    }
}
