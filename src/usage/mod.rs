//! What the inventory says about license use, read from the JiraUsers' and JiraConnections' status: whether a
//! holder is inactive for a number of days (or unknown yet), and the admin roles of a user. Pure functions,
//! shared by the license policy and the `report` subcommand.

pub mod inactivity;
pub mod roles;

pub use inactivity::{Evidence, Inactivity, classify};
