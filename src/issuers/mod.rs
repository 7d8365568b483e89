//! The issuing-body protocol: messages, the outbound client and dispatcher, callbacks.

pub mod protocol;
