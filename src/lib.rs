//! jira-cloud-operator: brings Jira Cloud users, licenses and usage under declarative management.

pub mod api;
pub mod jira;
pub mod sync;
pub mod controller;
pub mod leader;
pub mod metrics;
pub mod server;
pub mod telemetry;
