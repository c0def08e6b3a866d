//! The controllers: `JiraConnection` (credentials, sync, status, JiraUser inventory) and `JiraAction`
//! (exactly-once changes in Jira) and `JiraLicensePolicy` (license reclamation), sharing one [`Context`].

pub mod action;
mod activity_history;
pub mod capabilities;
pub mod conditions;
pub mod connection;
pub mod context;
pub mod credentials;
pub mod figures;
pub mod gauges;
pub mod inventory;
pub mod organization;
pub mod panics;
pub mod plausibility;
pub mod policy;
pub mod runner;
pub mod schedule;
pub mod wiring;

pub use context::{Context, Settings};
