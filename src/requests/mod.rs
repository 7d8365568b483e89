//! Verification requests: holders apply, follow, withdraw; admins review.

pub mod holder_ops;
mod issuing;
mod opening;
mod queries;
pub mod review;
pub mod routes;
pub mod settle;
mod submit;
pub mod transition;
pub mod types;

pub use issuing::{issue_prebuilt, Confirming};
pub use queries::{
    find, open_before, record_outbound, transition, transition_with, Also, Outbound, RequestRow,
    Step,
};
pub use settle::{settle, Method, Settlement};
