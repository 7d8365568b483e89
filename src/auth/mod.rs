//! Authentication for every principal: passwords, access tokens, the platform keys,
//! the request extractors, and the login and token endpoints.

pub mod extract;
pub mod jws;
pub mod keys;
pub mod password;
pub mod ratelimit;
pub mod routes;
pub mod token;
pub mod token_cache;

pub use extract::{Admin, Agency, Holder};
