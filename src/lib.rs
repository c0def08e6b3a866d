//! jira-cloud-operator: brings Jira Cloud users, licenses and usage under declarative management.

pub mod api;
pub mod controller;
pub mod error;
pub mod jira;
pub mod leader;
pub mod memory;
pub mod metrics;
pub mod policy;
pub mod report;
pub mod server;
pub mod sync;
pub mod telemetry;
pub mod usage;
