//! License reclamation, as pure functions: who among a connection's license holders a `JiraLicensePolicy`
//! reclaims (inactive for its days as [`crate::usage`] decides, never "unknown yet", not excluded), the plan
//! that one run executes, and when a run may start. No I/O: the controller maps the JiraUsers and the
//! connection's status into [`Holder`]s and a [`Site`], and writes what [`evaluate`] returns.

mod money;
mod plan;
mod run;

pub use money::{Cents, format_cents, parse_cents};
pub use plan::{Evaluation, Holder, MAX_LISTED_CANDIDATES, Rules, Site, evaluate, plan_id};
pub use run::{Decision, action_name, decide, still_due, summary_action_name};
