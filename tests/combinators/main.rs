//! The combinators: gather, wait, as_completed, shield/select, parallel, task groups, their
//! types, and their stress shapes.
//!
//! One test binary per area (see `tests/README.md`): each module below was a test file
//! of its own.

#[path = "../support/mod.rs"]
mod support;

mod as_completed;
mod gather;
mod parallel;
mod scope;
mod shield_select;
mod stress;
mod task_group;
mod types;
mod wait;
