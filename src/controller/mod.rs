//! The controllers: `JiraConnection` (credentials, sync, status, JiraUser inventory) and `JiraAction`
//! (exactly-once changes in Jira), sharing one [`Context`].

pub mod action;
pub mod context;
pub mod credentials;
pub mod runner;

pub use context::{Context, Settings};
