//! JSON renderings of the model in the shapes the real APIs answer (`User`, `IssueBean`, `Comment`, ...),
//! shared by the handlers.

pub(crate) mod activity;
pub(crate) mod groups;
pub(crate) mod issues;
pub(crate) mod projects;
pub(crate) mod roles;
pub(crate) mod users;
