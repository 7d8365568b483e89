//! Authentication for every principal: passwords, access tokens, the platform keys,
//! the request extractors. The login endpoints belong to the principals' modules
//! (`holders::login`, `accounts::token`); what they answer is `grant`.

pub mod extract;
pub mod gcra;
pub mod grant;
pub mod jws;
pub mod keys;
pub mod password;
pub mod ratelimit;
pub mod token;
pub mod token_cache;

pub use extract::{Admin, Agency, Holder};
