//! What every login answers: an access token (RFC 6749 §5.1), never cached.

use actix_web::http::header;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: i64,
    /// Space-separated scopes (client-credentials tokens only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

pub fn no_store(mut builder: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    builder.insert_header((header::CACHE_CONTROL, "no-store"));
    builder
}
