//! A small JQL subset: `AND`/`OR`/parentheses over `updated`, `created`, `worklogDate`, `project`,
//! `labels`, `key`, `id`, `reporter`, `assignee`, `issuetype`, `status` with `= != > >= < <= IN NOT IN`,
//! and `ORDER BY`.
//! Dates: `-30d` (also `w`, `h`, `m`), `"2026-09-01"`, `"2026-09-01 10:00"`, epoch milliseconds.

mod evaluate;
mod syntax;

pub use evaluate::{date_value, matches, prepare};
pub use syntax::{Expr, Field, Op, Query, parse};
