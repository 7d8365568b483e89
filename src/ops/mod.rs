//! Operations: logs and metrics, low in the tree so the shared state can hold them (the
//! health and metrics routes are `health`).

pub mod metrics;
pub mod telemetry;
