//! The stress suite (sizes follow `MAGPIE_STRESS_SCALE`, seeds `MAGPIE_STRESS_SEED`; see
//! `support/stress.rs`). `stress_shutdown` is a binary of its own: it counts the process's
//! threads.
//!
//! `faults` and `groups` install a panic hook (once) that hides only their own "injected
//! panic" messages and hands every other panic to the previous hook, so sharing the process
//! with the other stress tests changes no test's outcome.
//!
//! One test binary per area (see `tests/README.md`): each module below was a test file
//! of its own.

#[path = "../support/stress.rs"]
mod stress;
#[path = "../support/mod.rs"]
mod support;

mod faults;
mod groups;
mod regressions;
mod sync_cancel;
mod tasks;
