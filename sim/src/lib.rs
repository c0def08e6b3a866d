//! `jira-sim`: a Jira Cloud simulator (site REST API, api.atlassian.com gateway, OAuth token endpoint,
//! accessible-resources and the Admin API) on one loopback port, with scenarios, fault injection,
//! request counters and a state dump. Test equipment for jira-cloud-operator; never linked into it.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let sim = jira_sim::start(jira_sim::SimConfig::default()).await?;
//! println!("site, api and auth URL: {}", sim.url());
//! sim.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod answer;
mod app;
mod auth;
pub mod faults;
pub mod format;
mod handlers;
mod host;
pub(crate) mod index_lag;
pub mod jql;
pub mod openapi;
mod paging;
pub mod permission_catalog;
pub mod permissions;
pub mod received;
mod request;
mod rng;
pub mod routes;
pub mod scenario;
mod search_cache;
mod server;
mod shapes;
pub mod state;
pub mod stats;

pub use faults::{
    AfterProcessingFault, DropFault, EmptyListingFault, Faults, RateLimitFault, RedirectFault,
    ServerErrorFault,
};
pub use received::ReceivedRequest;
pub use scenario::{GenerateOptions, Scenario, default_scenario, generate};
pub use server::{SimConfig, SimHandle, start};
pub use state::State;
pub use stats::Stats;
