//! Scenarios: the organisation a simulator serves, as a serde type (the YAML/JSON file format), plus a
//! deterministic generator ([`generate`]) and the documented default ([`default_scenario`]).
//!
//! Every time in a scenario is relative ([`Ago`]): it is resolved against "now" when the simulator
//! loads the scenario, so a hand-written file gives the same per-day figures on any date.

mod accounts;
mod ago;
mod credentials;
mod document;
mod generate;
mod generate_options;
mod work;

pub use accounts::{
    AccountType, EmailVisibility, GroupSpec, Plan, ProductSpec, UserSpec, default_products,
};
pub use ago::Ago;
pub use credentials::{ApiTokenSpec, Credentials, OAuthClientSpec, all_scopes};
pub use document::{AlreadyMember, DEFAULT_SCENARIO_YAML, Scenario, Settings, default_scenario};
pub use generate::generate;
pub use generate_options::GenerateOptions;
pub use work::{ChangeSpec, CommentSpec, DeletedWorklogSpec, IssueSpec, ProjectSpec, WorklogSpec};
