//! The stress suite (sizes follow `MAGPIE_STRESS_SCALE`, seeds `MAGPIE_STRESS_SEED`; see `support/stress.rs`). `stress_shutdown` is a binary of its own: it counts the process's threads.
//!
//! One test binary per area (see `tests/README.md`): each module below was a test file
//! of its own.

#[path = "../support/mod.rs"]
mod support;
#[path = "../support/stress.rs"]
mod stress;

mod faults;
mod groups;
mod regressions;
mod sync_cancel;
mod tasks;
