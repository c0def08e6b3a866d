//! The simulator's integration tests, one test binary: a simulator on loopback per test, driven over HTTP
//! with the helpers of [`common`].

mod common;

mod auth;
mod conformance;
mod default_scenario;
mod empty_listing;
mod faults;
mod hostile_site;
mod lost_answers;
mod mutations;
mod pagination;
mod permissions;
mod received;
mod scenario_file;
mod search_lag;
