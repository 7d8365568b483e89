//! Operations: logs, metrics, health and readiness.

pub mod health;
pub mod metrics;
pub mod telemetry;
