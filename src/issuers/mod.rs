//! The issuing-body protocol: messages, the outbound client and dispatcher, callbacks.

pub mod answers;
mod attempt;
pub mod callbacks;
pub mod client;
pub mod dispatcher;
pub mod keys;
pub mod protocol;
