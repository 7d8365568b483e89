//! Principal extractors: a handler states who may call it by taking `Holder`, `Agency`
//! or `Admin`. A missing or bad token is 401; a valid token of the wrong principal or
//! without the needed scope is 403.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};

use super::token::{AccessClaims, PrincipalKind, TokenError};
use crate::error::ApiError;

/// Checks a bearer token. The application's shared state (`app::AppState`) implements it
/// and `startup` registers it as `web::Data<dyn BearerVerifier>`: `auth` sits below the
/// state it is read from, so it names a trait instead of the type.
pub trait BearerVerifier: Send + Sync + 'static {
    fn verify_bearer(&self, token: &str) -> Result<AccessClaims, TokenError>;
}

pub const SCOPE_ADMIN: &str = "admin";
pub const SCOPE_RECORDS_READ: &str = "records:read";
pub const SCOPE_RECORDS_SEARCH: &str = "records:search";
pub const SCOPE_ELIGIBILITY_CHECK: &str = "eligibility:check";
pub const AGENCY_SCOPES: &[&str] = &[
    SCOPE_RECORDS_READ,
    SCOPE_RECORDS_SEARCH,
    SCOPE_ELIGIBILITY_CHECK,
];

/// The agency scopes as the OpenAPI document lists them (`AGENCY_SCOPES`; a unit test
/// keeps the two lists equal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub enum AgencyScope {
    #[serde(rename = "records:read")]
    RecordsRead,
    #[serde(rename = "records:search")]
    RecordsSearch,
    #[serde(rename = "eligibility:check")]
    EligibilityCheck,
}

/// A certificate holder, from a holder access token.
#[derive(Debug, Clone)]
pub struct Holder {
    pub id: String,
}

/// An agency service account, from a client-credentials access token.
#[derive(Debug, Clone)]
pub struct Agency {
    pub id: String,
    pub client_id: String,
    claims: AccessClaims,
}

impl Agency {
    /// 403 unless the token carries `scope`.
    pub fn require(&self, scope: &str) -> Result<(), ApiError> {
        if self.claims.has_scope(scope) {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "insufficient_scope",
                format!("This needs the {scope} scope."),
            ))
        }
    }
}

/// An administrator of the bureau, from an admin service-account token.
#[derive(Debug, Clone)]
pub struct Admin {
    pub id: String,
    pub client_id: String,
}

fn bearer_claims(req: &HttpRequest) -> Result<AccessClaims, ApiError> {
    let verifier = req
        .app_data::<web::Data<dyn BearerVerifier>>()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("BearerVerifier missing")))?;
    let value = req.headers().get(header::AUTHORIZATION).ok_or_else(|| {
        ApiError::unauthorized(
            "missing_token",
            "This needs an access token (Authorization: Bearer …).",
        )
    })?;
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or_else(|| {
            ApiError::unauthorized(
                "invalid_token",
                "The Authorization header must be `Bearer <token>`.",
            )
        })?;
    verifier.verify_bearer(token).map_err(|e| {
        let code = match e {
            TokenError::Expired => "token_expired",
            _ => "invalid_token",
        };
        ApiError::unauthorized(code, e.to_string())
    })
}

fn wrong_principal(expected: &str) -> ApiError {
    ApiError::forbidden("wrong_principal", format!("Only {expected} may call this."))
}

fn holder(req: &HttpRequest) -> Result<Holder, ApiError> {
    let claims = bearer_claims(req)?;
    match claims.kind {
        PrincipalKind::Holder => Ok(Holder { id: claims.sub }),
        _ => Err(wrong_principal("certificate holders")),
    }
}

fn agency(req: &HttpRequest) -> Result<Agency, ApiError> {
    let claims = bearer_claims(req)?;
    match claims.kind {
        PrincipalKind::Agency => Ok(Agency {
            id: claims.sub.clone(),
            client_id: claims.client_id.clone().unwrap_or_default(),
            claims,
        }),
        _ => Err(wrong_principal("agencies")),
    }
}

fn admin(req: &HttpRequest) -> Result<Admin, ApiError> {
    let claims = bearer_claims(req)?;
    if claims.kind != PrincipalKind::Admin {
        return Err(wrong_principal("administrators"));
    }
    if !claims.has_scope(SCOPE_ADMIN) {
        return Err(ApiError::forbidden(
            "insufficient_scope",
            "This needs the admin scope.",
        ));
    }
    Ok(Admin {
        id: claims.sub,
        client_id: claims.client_id.unwrap_or_default(),
    })
}

macro_rules! extractor {
    ($ty:ty, $f:ident) => {
        impl FromRequest for $ty {
            type Error = ApiError;
            type Future = Ready<Result<Self, ApiError>>;

            fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
                ready($f(req))
            }
        }
    };
}

extractor!(Holder, holder);
extractor!(Agency, agency);
extractor!(Admin, admin);

#[cfg(test)]
mod tests {
    use super::{AgencyScope, AGENCY_SCOPES};

    #[test]
    fn the_documented_agency_scopes_are_the_granted_ones() {
        let documented: Vec<String> = [
            AgencyScope::RecordsRead,
            AgencyScope::RecordsSearch,
            AgencyScope::EligibilityCheck,
        ]
        .iter()
        .map(|s| {
            serde_json::to_value(s)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
        assert_eq!(documented, AGENCY_SCOPES);
    }
}
