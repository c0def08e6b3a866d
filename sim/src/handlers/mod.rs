//! Handlers of the routes, one module per area of the APIs; the route table ([`crate::routes`]) names them.

pub(crate) mod activity;
pub(crate) mod admin;
pub(crate) mod control;
pub(crate) mod groups;
pub(crate) mod issues;
pub(crate) mod oauth;
pub(crate) mod permissions;
pub(crate) mod projects;
pub(crate) mod roles;
pub(crate) mod search;
pub(crate) mod site;
pub(crate) mod users;
